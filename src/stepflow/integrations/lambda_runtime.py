"""Local Lambda functions, run in-process (the fast mode, for tests and `stepflow run`).

A :class:`LocalFunction` behaves like Lambda's Invoke API: it takes the request payload as
bytes and returns the response payload as bytes plus ``FunctionError`` ("Unhandled") when the
handler raised, with the Python runtime's ``errorMessage/errorType/requestId/stackTrace`` body.
In-process functions share the interpreter: their environment variables are applied to
``os.environ`` when the module loads, and a handler over its Timeout is reported as timed out
but its thread cannot be killed (worker-process isolation comes with the Lambda runtime issue).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepflow.sam import FunctionSpec

Handler = Callable[[Any, Any], Any]


@dataclass(slots=True)
class InvokeResponse:
    """What Lambda's Invoke API answers: the payload bytes and the FunctionError header."""

    payload: bytes
    function_error: str | None = None
    executed_version: str = "$LATEST"
    request_id: str = ""


class LambdaContext:
    """The ``context`` argument of a handler, with the attributes AWS's Python runtime gives."""

    def __init__(self, spec: FunctionSpec, request_id: str, deadline: float):
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = str(spec.memory_size)
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    """One function of the project, its handler loaded on first use."""

    def __init__(self, spec: FunctionSpec, handler: Handler | None = None):
        self.spec = spec
        self._handler = handler
        self._lock = threading.Lock()

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            with self._lock:
                if self._handler is None:
                    self._handler = _load_handler(self.spec)
        return self._handler

    def invoke(self, payload: bytes, request_id: str | None = None) -> InvokeResponse:
        """Run the handler on the payload (blocking; call from a worker thread)."""
        request_id = request_id or str(uuid.uuid4())
        try:
            event = json.loads(payload) if payload else {}
        except ValueError:
            return self._error_response(ValueError("Could not parse request body into json"), request_id)
        context = LambdaContext(self.spec, request_id, time.monotonic() + self.spec.timeout)
        try:
            handler = self.handler
        except Exception as error:  # noqa: BLE001 - reported as Lambda reports import failures
            return self._import_error(error, request_id)
        try:
            result = handler(event, context)
        except Exception as error:  # the handler's failure is the function's error, not ours
            return self._error_response(error, request_id)
        return InvokeResponse(_serialize(result), None, request_id=request_id)

    def timeout_response(self, request_id: str) -> InvokeResponse:
        """Lambda's answer when the handler ran past the function's Timeout."""
        body = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {self.spec.timeout:.2f} seconds",
        }
        return InvokeResponse(json.dumps(body).encode(), "Unhandled", request_id=request_id)

    def _import_error(self, error: BaseException, request_id: str) -> InvokeResponse:
        body = {
            "errorMessage": f"Unable to import module '{self.spec.handler.rpartition('.')[0]}': {error}",
            "errorType": "Runtime.ImportModuleError",
            "requestId": request_id,
            "stackTrace": [],
        }
        return InvokeResponse(json.dumps(body).encode(), "Unhandled", request_id=request_id)

    def _error_response(self, error: BaseException, request_id: str) -> InvokeResponse:
        body = {
            "errorMessage": _message(error),
            "errorType": type(error).__name__,
            "requestId": request_id,
            "stackTrace": _stack(error, self.spec.code_uri),
        }
        return InvokeResponse(json.dumps(body).encode(), "Unhandled", request_id=request_id)


def _serialize(result: Any) -> bytes:
    if isinstance(result, (bytes, bytearray)):
        return bytes(result)
    return json.dumps(result).encode()


def _message(error: BaseException) -> str:
    text = str(error)
    if not text and isinstance(getattr(error, "message", None), str):
        return error.message
    return text


def _stack(error: BaseException, code_uri: Path) -> list[str]:
    """The traceback frames inside the function's code, with paths as Lambda shows them."""
    own = traceback.extract_tb(error.__traceback__)[1:]  # the first frame is our own call
    root = str(code_uri)
    for f in own:
        if f.filename.startswith(root):
            f.filename = "/var/task/" + os.path.relpath(f.filename, root)
    return traceback.format_list(own)


def _load_handler(spec: FunctionSpec) -> Handler:
    module_path, _, function_name = spec.handler.rpartition(".")
    file = spec.code_uri.joinpath(*module_path.split(".")).with_suffix(".py")
    if not file.exists():
        raise ImportError(f"Unable to import module '{module_path}': no file {file}")
    code_dir = str(spec.code_uri)
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    for key, value in spec.environment.items():
        os.environ.setdefault(key, value)
    unique = f"stepflow_fn_{abs(hash((code_dir, module_path)))}_{module_path.replace('.', '_')}"
    module_spec = importlib.util.spec_from_file_location(unique, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[unique] = module
    module_spec.loader.exec_module(module)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_path}'")
    return handler

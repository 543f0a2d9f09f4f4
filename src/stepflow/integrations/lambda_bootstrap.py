"""The inside of a local Lambda execution environment: the worker process's main loop.

Run as a script (``python lambda_bootstrap.py REQ_FD RESP_FD LIFELINE_FD ROOT``) by
:mod:`stepflow.integrations.lambda_environment`, never imported by stepflow itself: it uses
only the standard library so that a cold start costs an interpreter start and the handler's
own imports, nothing of stepflow. It plays the part of AWS's Python runtime interface client:

* Init: puts ``LAMBDA_TASK_ROOT`` first on ``sys.path``, sets up the root logger as Lambda does
  (``[LEVEL]\\t<time>Z\\t<request id>\\t<message>``), imports the module named by ``_HANDLER``
  and reports ``Runtime.ImportModuleError`` / ``Runtime.UserCodeSyntaxError`` /
  ``Runtime.HandlerNotFound`` in AWS's words when that fails.
* Invoke, one at a time: reads a request frame, calls ``handler(event, context)``, answers with
  the result (``bytes`` as they are, anything else as JSON) or the error body AWS's runtime
  gives (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace`` with task-root paths
  shown as ``/var/task/...``). stdout and stderr are the environment's log file; they are
  flushed before each answer so the parent reads every line of the invocation.

Frames are ``>II`` (meta length, body length), then meta as JSON, then the body bytes.
A thread blocks on the lifeline pipe: when the parent dies (even by SIGKILL) its write end
closes and the worker removes its environment folder ROOT (its TMPDIR and log file) and kills
its own process group, so no environment outlives stepflow.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import shutil
import signal
import struct
import sys
import threading
import time
import traceback
from decimal import Decimal

HEADER = struct.Struct(">II")
TASK_ROOT_SHOWN_AS = "/var/task/"
_request_id = ""
_ending = threading.Lock()


# -- frames ------------------------------------------------------------------------------------


def read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes from a pipe, or None at end of file (the parent closed it)."""
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> tuple[dict, bytes] | None:
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    meta_size, body_size = HEADER.unpack(header)
    data = read_exact(fd, meta_size + body_size)
    if data is None:
        return None
    return json.loads(data[:meta_size]), data[meta_size:]


def send(fd: int, meta: dict, body: bytes = b"") -> None:
    raw = json.dumps(meta).encode()
    view = memoryview(HEADER.pack(len(raw), len(body)) + raw + body)
    while view:
        view = view[os.write(fd, view):]


# -- the context object ------------------------------------------------------------------------


class CognitoIdentity:
    """``context.identity``: empty for invocations that do not come from Cognito."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None


class LambdaContext:
    """The ``context`` argument, with the attributes AWS's Python runtime gives it."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str):
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.client_context = None
        self.identity = CognitoIdentity()
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops the invocation (never negative)."""
        return max(0, self._epoch_deadline_time_in_ms - int(time.time() * 1000))

    def log(self, message) -> None:
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name},"
                f"function_version={self.function_version},invoked_function_arn={self.invoked_function_arn}])")


# -- errors as AWS's runtime reports them ------------------------------------------------------


def error_body(message: str, error_type: str, stack: list[str], request_id: str = "") -> bytes:
    body = {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}
    return json.dumps(body).encode()


def exception_message(error: BaseException) -> str:
    """``str(error)``; an exception with no args but a ``message`` attribute gives that."""
    text = str(error)
    if not text and isinstance(getattr(error, "message", None), str):
        return error.message
    return text


def stack_trace(error: BaseException) -> list[str]:
    """The traceback without this file's frames, task-root paths shown as ``/var/task/...``."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    root = os.environ["LAMBDA_TASK_ROOT"].rstrip("/") + "/"
    for frame in frames:
        if frame.filename.startswith(root):
            frame.filename = TASK_ROOT_SHOWN_AS + frame.filename[len(root):]
    return traceback.format_list(frames)


def log_error(body: bytes) -> None:
    """The ``[ERROR] Type: message`` block AWS's runtime writes to the function's log."""
    error = json.loads(body)
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}", "Traceback (most recent call last):"]
    lines += [line for element in error["stackTrace"] for line in element.splitlines()]
    print("\n".join(lines), flush=True)


# -- init --------------------------------------------------------------------------------------


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


def setup_process(lifeline_fd: int, root: str) -> None:
    """Task root first on sys.path, line-buffered output, Lambda's root log handler, lifeline."""
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)
    threading.Thread(target=_watch_parent, args=(lifeline_fd, root), daemon=True, name="lifeline").start()


def _watch_parent(fd: int, root: str) -> None:
    """Block until the parent's end of the lifeline closes, then end the environment."""
    while os.read(fd, 1):
        pass
    end_environment(root)


def end_environment(root: str) -> None:
    """The parent is gone: remove the environment's folder and kill its process group (us too).

    Reached from the lifeline thread, or from the main thread when it reads end-of-file on the
    request pipe or cannot write its answer (whichever comes first; a normal close kills the
    group before either)."""
    with _ending:  # one thread cleans up; the other waits here until the group is killed
        shutil.rmtree(root, ignore_errors=True)
        os.killpg(os.getpgrp(), signal.SIGKILL)


def load_handler(name: str):
    """The handler function, or raise _Fault with AWS's init error type and message."""
    module_name, _, function_name = name.rpartition(".")
    if not module_name:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{name}': not enough values to unpack (expected 2, got 1)")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}") from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise _Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}", trace) from None
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _Fault("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class _Fault(Exception):
    """An error the runtime itself reports (not the handler's exception)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace or []

    def body(self, request_id: str = "") -> bytes:
        return error_body(self.message, self.error_type, self.trace, request_id)


def initialise(resp_fd: int):
    """Import the handler and tell the parent how it went; None when init failed."""
    started = time.monotonic()
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except _Fault as fault:
        body = fault.body()
    except Exception as error:  # noqa: BLE001 - the module's own top-level code failed: reported as AWS does
        body = error_body(exception_message(error), type(error).__name__, stack_trace(error))
    else:
        send(resp_fd, {"init": "ok", "ms": (time.monotonic() - started) * 1000})
        return handler
    log_error(body)
    send(resp_fd, {"init": "error", "ms": (time.monotonic() - started) * 1000}, body)
    return None


# -- invoke ------------------------------------------------------------------------------------


def _json_default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(result) -> bytes:
    """The response body: bytes as they are, anything else as JSON (Runtime.MarshalError if not)."""
    if isinstance(result, (bytes, bytearray)):
        return bytes(result)
    try:
        return json.dumps(result, default=_json_default, ensure_ascii=False).encode()
    except (TypeError, ValueError) as error:
        raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {error}") from None


def invoke(handler, meta: dict, payload: bytes) -> tuple[bool, bytes]:
    """Run one invocation; (True, result body) or (False, error body)."""
    global _request_id
    request_id = _request_id = meta["id"]
    context = LambdaContext(request_id, meta["deadline_ms"], meta["arn"])
    try:
        try:
            event = json.loads(payload) if payload else None
        except ValueError as error:
            raise _Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {error}") from None
        return True, marshal(handler(event, context))
    except _Fault as fault:
        body = fault.body(request_id)
    except Exception as error:  # noqa: BLE001 - the handler's failure is the invocation's result
        body = error_body(exception_message(error), type(error).__name__, stack_trace(error), request_id)
    log_error(body)
    return False, body


def serve(handler, req_fd: int, resp_fd: int) -> None:
    """Answer invocations until the parent closes the request pipe."""
    while True:
        request = receive(req_fd)
        if request is None:
            return
        ok, body = invoke(handler, *request)
        sys.stdout.flush()
        sys.stderr.flush()
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        send(resp_fd, {"ok": ok, "peak_kb": peak_kb}, body)


def main(argv: list[str]) -> None:
    req_fd, resp_fd, lifeline_fd = (int(a) for a in argv[1:4])
    setup_process(lifeline_fd, argv[4])
    try:
        handler = initialise(resp_fd)
        if handler is None:
            return  # init failed: the parent reports it and closes the environment
        serve(handler, req_fd, resp_fd)
    except BrokenPipeError:  # the parent died while we were answering
        pass
    end_environment(argv[4])


if __name__ == "__main__":
    main(sys.argv)

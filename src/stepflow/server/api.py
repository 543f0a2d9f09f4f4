"""The AWS Step Functions API over HTTP: the JSON 1.0 protocol with X-Amz-Target dispatch.

``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Action>`` and a JSON body calls the service
method of that action; errors come back as AWS error shapes (``{"__type", "message"}`` with HTTP
400, or 500 for a stepflow bug, which never takes the server down).

The protocol core, :meth:`ApiEndpoint.call`, works on bytes and returns an :class:`ApiReply`, so
the raw ASGI fast path in :mod:`stepflow.server.app` and the Starlette adapter
:meth:`ApiEndpoint.handle` answer byte for byte alike.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from stepflow.engine.runner import REPLY_AWAITS_COMMIT
from stepflow.errors import ApiError, StoreUnavailableError

try:  # orjson encodes responses several times faster than json; optional, same JSON values
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None

log = logging.getLogger("stepflow.server")

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AWSStepFunctions."
INTERNAL_FAILURE = "The request processing has failed because of an unknown error."


def action_method_name(action: str) -> str:
    """``StartExecution`` -> ``start_execution``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


def encode_json(value: Any) -> bytes:
    """A response body: orjson when it can encode the value, else the standard library."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:  # e.g. non-str dict keys or an int beyond 64 bits: json copes
            pass
    return json.dumps(value).encode()


@dataclass(frozen=True, slots=True)
class ApiReply:
    """One HTTP answer: status, JSON body, and the AWS error code of an error answer."""

    status: int
    body: bytes
    error_code: str | None = None

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The raw ASGI headers (lower-case names) of this answer."""
        headers = [(b"content-length", str(len(self.body)).encode()), (b"content-type", CONTENT_TYPE.encode())]
        if self.error_code is not None:
            headers.append((b"x-amzn-errortype", self.error_code.encode("latin-1")))
        return headers


def error_reply(code: str, message: str, status: int = 400) -> ApiReply:
    """An AWS error shape."""
    return ApiReply(status, json.dumps({"__type": code, "message": message}).encode(), code)


def error_response(code: str, message: str, status: int = 400) -> Response:
    """An AWS error shape as a Starlette response."""
    return to_response(error_reply(code, message, status))


def to_response(reply: ApiReply) -> Response:
    """An :class:`ApiReply` as a Starlette response."""
    headers = {"x-amzn-ErrorType": reply.error_code} if reply.error_code is not None else None
    return Response(reply.body, status_code=reply.status, media_type=CONTENT_TYPE, headers=headers)


def parse_params(body: bytes) -> dict:
    """The request's parameters; ValueError if the body is not a JSON object."""
    params = json.loads(body) if body else {}
    if not isinstance(params, dict):
        raise ValueError("request body must be a JSON object")
    return params


class ApiEndpoint:
    """Dispatches JSON 1.0 requests to a StepFunctions service object."""

    def __init__(self, service):
        self.service = service
        self._names: dict[str, str] = {}  # action -> method name, for actions that resolved

    def method_for(self, target: str):
        """The service method an X-Amz-Target names, or an error reply."""
        if not target.startswith(TARGET_PREFIX):
            return error_reply("UnknownOperationException", f"Unknown operation {target!r}")
        action = target[len(TARGET_PREFIX):]
        name = self._names.get(action) or action_method_name(action)
        method = getattr(self.service, name, None)
        if method is None or action.startswith("_"):
            return error_reply("UnknownOperationException", f"stepflow does not implement {target}")
        self._names[action] = name
        return method

    async def call(self, target: str, body: bytes) -> ApiReply:
        """Answer one request: its X-Amz-Target header (decoded) and its raw body."""
        method = self.method_for(target)
        if isinstance(method, ApiReply):
            return method
        try:
            params = parse_params(body)
        except ValueError as err:
            return error_reply("SerializationException", f"Malformed request body: {err}")
        try:
            result = await self._invoke(method, params)
        except ApiError as err:
            return error_reply(err.code, err.message, err.status)
        except TypeError as err:
            return error_reply("ValidationException", f"Invalid request: {err}")
        except StoreUnavailableError as err:  # the database is down: say so (clients retry a 503)
            log.error("%s: %s", target, err)
            return error_reply("ServiceUnavailable", str(err), 503)
        except Exception:  # a stepflow bug: answer 500, keep serving
            log.exception("%s failed", target)
            return error_reply("InternalFailure", INTERNAL_FAILURE, 500)
        try:
            return ApiReply(200, encode_json(result))
        except (TypeError, ValueError):  # a result that is not JSON: a stepflow bug
            log.exception("%s returned a result that is not JSON", target)
            return error_reply("InternalFailure", INTERNAL_FAILURE, 500)

    async def _invoke(self, method, params: dict) -> Any:
        """Call the action; reply only once what it changed is committed. The runner's group
        commit lets the actions of concurrent requests share one transaction."""
        token = REPLY_AWAITS_COMMIT.set(True)
        try:
            result = method(**params)
            if inspect.isawaitable(result):
                result = await result
        finally:
            REPLY_AWAITS_COMMIT.reset(token)
        runner = getattr(self.service, "runner", None)
        if runner is not None:
            await runner.synced()
        return result

    async def handle(self, request: Request) -> Response:
        """The Starlette adapter (for embedding the API in another Starlette app)."""
        reply = await self.call(request.headers.get("x-amz-target", ""), await request.body())
        return to_response(reply)

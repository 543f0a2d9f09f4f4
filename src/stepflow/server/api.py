"""The AWS Step Functions API over HTTP: the JSON 1.0 protocol with X-Amz-Target dispatch.

``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Action>`` and a JSON body calls the service
method of that action; errors come back as AWS error shapes (``{"__type", "message"}`` with HTTP
400, or 500 for a stepflow bug, which never takes the server down).
"""

from __future__ import annotations

import inspect
import json
import logging
import re

from starlette.requests import Request
from starlette.responses import Response

from stepflow.errors import ApiError

log = logging.getLogger("stepflow.server")

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AWSStepFunctions."


def action_method_name(action: str) -> str:
    """``StartExecution`` -> ``start_execution``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


def error_response(code: str, message: str, status: int = 400) -> Response:
    body = json.dumps({"__type": code, "message": message})
    return Response(body, status_code=status, media_type=CONTENT_TYPE, headers={"x-amzn-ErrorType": code})


class ApiEndpoint:
    """Dispatches JSON 1.0 requests to a StepFunctions service object."""

    def __init__(self, service):
        self.service = service

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        if not target.startswith(TARGET_PREFIX):
            return error_response("UnknownOperationException", f"Unknown operation {target!r}")
        method = getattr(self.service, action_method_name(target[len(TARGET_PREFIX):]), None)
        if method is None or target[len(TARGET_PREFIX):].startswith("_"):
            return error_response("UnknownOperationException", f"stepflow does not implement {target}")
        try:
            body = await request.body()
            params = json.loads(body) if body else {}
            if not isinstance(params, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError as err:
            return error_response("SerializationException", f"Malformed request body: {err}")
        try:
            result = method(**params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as err:
            return error_response(err.code, err.message, err.status)
        except TypeError as err:
            return error_response("ValidationException", f"Invalid request: {err}")
        except Exception:  # a stepflow bug: answer 500, keep serving
            log.exception("%s failed", target)
            return error_response("InternalFailure", "The request processing has failed because of an unknown error.", 500)
        return Response(json.dumps(result), media_type=CONTENT_TYPE)

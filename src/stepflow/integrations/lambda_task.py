"""Step Functions' Lambda integration: the legacy function-ARN resource and ``lambda:invoke``.

Shapes follow AWS: the legacy resource outputs the function's JSON result and fails with the
function's ``errorType`` and its error body as the cause; ``arn:aws:states:::lambda:invoke``
outputs ``{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode}``.
A missing function fails with ``Lambda.ResourceNotFoundException`` in AWS's words.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stepflow.asl.json_text import dumps
from stepflow.engine.tasks import LAMBDA, TaskRequest, TaskResult
from stepflow.integrations.lambda_runtime import InvokeResponse, LocalFunction
from stepflow.integrations.lambda_workers import LambdaServiceError


class FunctionRegistry:
    """The project's functions, found by name, ARN or partial ARN (with or without qualifier)."""

    def __init__(self, functions: list[LocalFunction] = ()):
        self._by_name: dict[str, LocalFunction] = {}
        for function in functions:
            self.add(function)

    def add(self, function: LocalFunction) -> None:
        self._by_name[function.spec.name] = function

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def find(self, reference: str) -> LocalFunction | None:
        """``name``, ``name:alias``, ``arn:aws:lambda:r:a:function:name[:qualifier]``, ``a:function:name``."""
        name = reference
        if ":function:" in reference:
            name = reference.split(":function:", 1)[1]
        name = name.split(":", 1)[0]
        return self._by_name.get(name)


class LambdaIntegration:
    """Invokes local functions: worker-process functions (``invoke_async``) enforce their own
    Timeout; in-process ones run on a thread pool (handlers block; the event loop must not)."""

    def __init__(self, registry: FunctionRegistry, region: str = "us-east-1", account: str = "123456789012", max_threads: int = 64):
        self.registry = registry
        self.region = region
        self.account = account
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="stepflow-lambda")

    async def invoke(self, request: TaskRequest) -> TaskResult:
        if request.resource.kind == LAMBDA:
            return await self._legacy(request)
        return await self._service(request)

    async def _call(self, function: LocalFunction, payload: bytes, execution_arn: str = "") -> InvokeResponse:
        request_id = str(uuid.uuid4())
        invoke_async = getattr(function, "invoke_async", None)
        if invoke_async is not None:
            return await invoke_async(payload, request_id, execution_arn)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, function.invoke, payload, request_id)
        try:
            return await asyncio.wait_for(future, timeout=function.spec.timeout)
        except asyncio.TimeoutError:
            return function.timeout_response(request_id)

    # arn:aws:lambda:REGION:ACCOUNT:function:NAME -------------------------------------------

    async def _legacy(self, request: TaskRequest) -> TaskResult:
        function = self.registry.find(request.resource.arn)
        if function is None:
            return self._not_found(request.resource.arn)
        try:
            response = await self._call(function, dumps(request.parameters).encode(), request.execution_arn)
        except LambdaServiceError as error:
            return TaskResult(error=error.error, cause=error.cause)
        if response.function_error:
            return _function_failure(response, compact=False)
        return TaskResult(output=_decode(response.payload))

    # arn:aws:states:::lambda:invoke -----------------------------------------------------------

    async def _service(self, request: TaskRequest) -> TaskResult:
        params = request.parameters if isinstance(request.parameters, dict) else {}
        reference = params.get("FunctionName")
        if not isinstance(reference, str):
            return TaskResult(error="Lambda.InvalidParameterValueException", cause="FunctionName is required (Service: Lambda, Status Code: 400)")
        function = self.registry.find(reference)
        if function is None:
            return self._not_found(reference)
        try:
            response = await self._call(function, _request_payload(params.get("Payload")), request.execution_arn)
        except LambdaServiceError as error:
            return TaskResult(error=error.error, cause=error.cause)
        if response.function_error:
            return _function_failure(response, compact=True)
        return TaskResult(output=_invoke_output(response))

    def _not_found(self, reference: str) -> TaskResult:
        name = reference.split(":function:", 1)[1].split(":")[0] if ":function:" in reference else reference.split(":")[0]
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}:$LATEST"
        cause = (
            f"Function not found: {arn} (Service: AWSLambda; Status Code: 404; Error Code: "
            f"ResourceNotFoundException; Request ID: {uuid.uuid4()}; Proxy: null)"
        )
        return TaskResult(error="Lambda.ResourceNotFoundException", cause=cause)


def _request_payload(payload: Any) -> bytes:
    """A string Payload is sent as it is (it is already JSON text); anything else as JSON."""
    if payload is None:
        return b"{}"
    if isinstance(payload, str):
        return payload.encode()
    return dumps(payload).encode()


def _decode(payload: bytes) -> Any:
    text = payload.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _function_failure(response: InvokeResponse, compact: bool) -> TaskResult:
    text = response.payload.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    error = body.get("errorType") if isinstance(body, dict) else None
    if compact and body is not None:
        text = dumps(body)
    return TaskResult(error=error or "Lambda.Unknown", cause=text)


def _invoke_output(response: InvokeResponse) -> dict:
    length = str(len(response.payload))
    date = email.utils.formatdate(usegmt=True)
    request_id = response.request_id
    return {
        "ExecutedVersion": response.executed_version,
        "Payload": _decode(response.payload),
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": [response.executed_version],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Length": [length],
                "Date": [date],
                "X-Amzn-Trace-Id": [f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0"],
                "Content-Type": ["application/json"],
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/json",
                "Date": date,
                "X-Amz-Executed-Version": response.executed_version,
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id,
                "X-Amzn-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }

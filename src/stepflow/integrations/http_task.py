"""The HTTP Task: ``arn:aws:states:::http:invoke`` (Step Functions developer guide, "Call
third-party APIs in Step Functions workflows").

Parameters: ``ApiEndpoint`` (required), ``Method`` (GET, POST, PUT, DELETE, PATCH, OPTIONS,
HEAD), ``Headers``, ``QueryParameters``, ``RequestBody`` (a JSON value, sent as JSON, or a
string, sent as it is), ``Transform`` (``RequestBodyEncoding``: ``NONE`` or ``URL_ENCODED``;
``RequestEncodingOptions.ArrayFormat``: ``INDICES`` (default), ``REPEAT``, ``COMMAS``,
``BRACKETS``). ``Authentication`` (``ConnectionArn``, an EventBridge connection in AWS) is
accepted and ignored locally: put credentials in ``Headers`` when a local endpoint needs them.

Output: ``{Headers: {name: [values]}, ResponseBody: <parsed JSON or text>, StatusCode: "200",
StatusText: "OK"}`` (StatusCode is a string, as AWS shows it). A non-2xx answer fails the task
with ``States.Http.StatusCode.<code>`` and that same object as JSON text in the cause; a network
failure (refused, unreachable, timed out) fails it with ``States.Http.Socket``.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import httpx

from stepflow.asl.json_text import dumps
from stepflow.engine.tasks import TaskRequest, TaskResult
from stepflow.errors import RUNTIME
from stepflow.integrations.aws_shapes import parameters_of

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")
REQUEST_TIMEOUT_SECONDS = 60.0  # AWS ends an HTTP Task's request after 60 seconds
SOCKET = "States.Http.Socket"
USER_AGENT = "Amazon|StepFunctions|HttpInvoke|{region}"
DROPPED_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


class HttpTask:
    """Calls the endpoint with httpx and reports the response as the HTTP Task does."""

    def __init__(self, region: str = "us-east-1", transport: httpx.AsyncBaseTransport | None = None):
        self.region = region
        self.transport = transport

    async def invoke(self, request: TaskRequest) -> TaskResult:
        params = parameters_of(request)
        try:
            call = self._request(params)
        except ValueError as err:
            return TaskResult(error=RUNTIME, cause=str(err))
        try:
            async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS, transport=self.transport) as client:
                response = await client.request(**call)
        except httpx.HTTPError as err:
            return TaskResult(error=SOCKET, cause=f"{type(err).__name__}: {err or 'request failed'} ({call['url']})")
        output = response_shape(response)
        if 200 <= response.status_code < 300:
            return TaskResult(output=output)
        return TaskResult(error=f"States.Http.StatusCode.{response.status_code}", cause=dumps(output))

    def _request(self, params: dict) -> dict:
        endpoint = params.get("ApiEndpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"The HTTP Task's ApiEndpoint must be an http:// or https:// URL, got {endpoint!r}")
        method = str(params.get("Method", "")).upper()
        if method not in METHODS:
            raise ValueError(f"The HTTP Task's Method must be one of {', '.join(METHODS)}, got {params.get('Method')!r}")
        headers = {"User-Agent": USER_AGENT.format(region=self.region)}
        headers.update({str(k): str(v) for k, v in (params.get("Headers") or {}).items()
                        if str(k).lower() not in DROPPED_HEADERS})
        call = {"method": method, "url": _with_query(endpoint, params.get("QueryParameters")), "headers": headers}
        if "RequestBody" in params and method not in ("GET", "HEAD"):
            call["content"], content_type = _body(params["RequestBody"], params.get("Transform") or {})
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = content_type
        return call


def _with_query(endpoint: str, query: Any) -> str:
    if not query:
        return endpoint
    if not isinstance(query, dict):
        raise ValueError("The HTTP Task's QueryParameters must be a JSON object")
    pairs = [(k, _scalar(v)) for k, value in query.items() for v in (value if isinstance(value, list) else [value])]
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(pairs)


def _body(body: Any, transform: dict) -> tuple[bytes, str]:
    encoding = transform.get("RequestBodyEncoding", "NONE")
    if encoding == "URL_ENCODED":
        if not isinstance(body, dict):
            raise ValueError("RequestBody must be a JSON object when RequestBodyEncoding is URL_ENCODED")
        array_format = (transform.get("RequestEncodingOptions") or {}).get("ArrayFormat", "INDICES")
        if array_format not in ARRAY_FORMATS:
            raise ValueError(f"ArrayFormat must be one of {', '.join(ARRAY_FORMATS)}, got {array_format!r}")
        return urlencode(form_pairs(body, array_format)).encode(), "application/x-www-form-urlencoded"
    if encoding != "NONE":
        raise ValueError(f"RequestBodyEncoding must be NONE or URL_ENCODED, got {encoding!r}")
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=UTF-8"
    return dumps(body).encode("utf-8"), "application/json; charset=UTF-8"


def form_pairs(value: Any, array_format: str, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten a JSON object into form fields: ``a[b]=1``; arrays by ``array_format``
    (INDICES ``a[0]=x``, REPEAT ``a=x&a=y``, COMMAS ``a=x,y``, BRACKETS ``a[]=x``)."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in form_pairs(v, array_format, f"{prefix}[{k}]" if prefix else str(k))]
    if isinstance(value, list):
        if array_format == "COMMAS":
            return [(prefix, ",".join(_scalar(v) for v in value))]
        keys = {"INDICES": lambda i: f"{prefix}[{i}]", "REPEAT": lambda i: prefix, "BRACKETS": lambda i: f"{prefix}[]"}
        return [pair for i, v in enumerate(value) for pair in form_pairs(v, array_format, keys[array_format](i))]
    return [(prefix, _scalar(value))]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return value if isinstance(value, str) else dumps(value)


def response_shape(response: httpx.Response) -> dict:
    """The HTTP Task's output for a response."""
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(name.lower(), []).append(value)
    return {
        "Headers": headers,
        "ResponseBody": _response_body(response),
        "StatusCode": str(response.status_code),
        "StatusText": _reason(response),
    }


def _response_body(response: httpx.Response) -> Any:
    text = response.text
    if not text:
        return ""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _reason(response: httpx.Response) -> str:
    if response.reason_phrase:
        return response.reason_phrase
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""

"""Shapes AWS's optimized integrations share: the Java SDK's ``SdkHttpMetadata`` and
``SdkResponseMetadata`` that Step Functions adds to request-response outputs, the service error
causes in the SDK's words, and the ``Service.ErrorException`` error names.

An optimized integration (``arn:aws:states:::sns:publish``) answers with the service's response
fields in PascalCase plus the HTTP metadata of the call::

    {"MessageId": "...",
     "SdkHttpMetadata": {"AllHttpHeaders": {"Content-Length": ["294"], ...},
                         "HttpHeaders": {"Content-Length": "294", ...}, "HttpStatusCode": 200},
     "SdkResponseMetadata": {"RequestId": "..."}}

and fails with ``SNS.NotFoundException`` and a cause such as ``Topic does not exist (Service:
AmazonSNS; Status Code: 404; Error Code: NotFound; Request ID: ...; Proxy: null)``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import uuid
from dataclasses import dataclass

from stepflow.engine.tasks import TaskResult


@dataclass(frozen=True)
class ServiceError(Exception):
    """A service API error, before it becomes a task failure."""

    error: str  # the Step Functions error name, e.g. "SNS.NotFoundException"
    message: str  # the service's message, e.g. "Topic does not exist"
    service: str  # the SDK's service name, e.g. "AmazonSNS"
    code: str  # the service's error code, e.g. "NotFound"
    status: int = 400

    def result(self) -> TaskResult:
        """The task failure Step Functions reports for this error."""
        return TaskResult(error=self.error, cause=sdk_cause(self.message, self.service, self.status, self.code))


def sdk_cause(message: str, service: str, status: int, code: str, request_id: str | None = None) -> str:
    """An AWS SDK for Java (v1) exception message, as optimized integrations report causes."""
    request_id = request_id or str(uuid.uuid4())
    return (
        f"{message} (Service: {service}; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)"
    )


def sdk_v2_cause(message: str, service: str, status: int, request_id: str | None = None) -> str:
    """An AWS SDK for Java v2 exception message, as ``aws-sdk:*`` integrations report causes."""
    request_id = request_id or str(uuid.uuid4())
    return f"{message} (Service: {service}, Status Code: {status}, Request ID: {request_id}) (SDK Attempt Count: 1)"


def http_date(epoch: float | None = None) -> str:
    """An RFC 7231 date (``Tue, 21 Nov 2023 00:06:05 GMT``)."""
    return email.utils.formatdate(epoch, usegmt=True)


def with_sdk_metadata(fields: dict, body: str, content_type: str, request_id: str | None = None) -> dict:
    """``fields`` plus ``SdkHttpMetadata``/``SdkResponseMetadata`` for a 200 response of ``body``."""
    request_id = request_id or str(uuid.uuid4())
    headers = {
        "x-amzn-RequestId": request_id,
        "connection": "keep-alive",
        "Content-Length": str(len(body.encode("utf-8"))),
        "Date": http_date(),
        "Content-Type": content_type,
    }
    metadata = {
        "AllHttpHeaders": {name: [value] for name, value in headers.items()},
        "HttpHeaders": headers,
        "HttpStatusCode": 200,
    }
    return {**fields, "SdkHttpMetadata": metadata, "SdkResponseMetadata": {"RequestId": request_id}}


def epoch_millis(epoch: float | None) -> int | None:
    """A timestamp as the SDK serialises ``Date`` in integration outputs: epoch milliseconds."""
    return None if epoch is None else int(round(epoch * 1000))


def iso_timestamp(epoch: float) -> str:
    """An ISO-8601 UTC timestamp with milliseconds (``2023-11-14T22:13:20.000Z``)."""
    moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parameters_of(request) -> dict:
    """The request's parameters as an object (a task's Parameters may be any JSON value)."""
    params = request.parameters
    return params if isinstance(params, dict) else {}

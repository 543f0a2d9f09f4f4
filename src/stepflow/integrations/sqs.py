"""``arn:aws:states:::sqs:sendMessage`` to the project's local queues (``AWS::SQS::Queue``).

Request (PascalCase, as the SQS SendMessage API): ``QueueUrl``, ``MessageBody`` (a JSON value
that is not a string is sent as its JSON text, as Step Functions does), ``DelaySeconds``,
``MessageAttributes``, ``MessageGroupId`` and ``MessageDeduplicationId`` (FIFO queues).
Response: ``{MD5OfMessageBody, MD5OfMessageAttributes?, MessageId, SequenceNumber? (FIFO),
SdkHttpMetadata, SdkResponseMetadata}``. Each message is kept in the store (resource kind
``sqs-message``) and listed by ``stepflow messages --queue NAME``.

A queue is found by its URL, or by the queue name at the end of any URL, so definitions written
for AWS (``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME``) work unchanged. Nothing consumes the
messages: the local queue is a record of what was sent.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any

from stepflow.asl.json_text import dumps
from stepflow.engine.tasks import TaskRequest, TaskResult
from stepflow.integrations.aws_shapes import (
    ServiceError,
    parameters_of,
    with_sdk_metadata,
)

MESSAGE_KIND = "sqs-message"
DEDUP_WINDOW_SECONDS = 300.0  # SQS FIFO deduplication interval
SERVICE = "AmazonSQS"


def _error(exception: str, message: str, code: str) -> ServiceError:
    return ServiceError(f"SQS.{exception}", message, SERVICE, code)


def md5_of_attributes(attributes: dict) -> str:
    """SQS's MD5OfMessageAttributes: each attribute, sorted by name, encoded as length-prefixed
    name, data type, a transport byte (1 string, 2 binary) and length-prefixed value."""
    digest = hashlib.md5()
    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = attribute.get("DataType", "String")
        digest.update(_prefixed(name.encode()) + _prefixed(data_type.encode()))
        if "BinaryValue" in attribute:
            value = attribute["BinaryValue"]
            raw = value if isinstance(value, bytes) else base64.b64decode(value)
            digest.update(b"\x02" + _prefixed(raw))
        else:
            digest.update(b"\x01" + _prefixed(str(attribute.get("StringValue", "")).encode()))
    return digest.hexdigest()


def _prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def body_text(value: Any) -> str:
    """A message body as SQS gets it: strings as they are, other JSON values as JSON text."""
    return value if isinstance(value, str) else dumps(value)


class LocalQueues:
    """The project's queues, and the messages sent to them (kept in the store)."""

    def __init__(self, queues: Callable[[], list], store):
        self._queues = queues
        self.store = store
        self._sequence = 0
        self._dedup: dict[tuple[str, str], tuple[float, dict]] = {}

    def find(self, reference: str | None):
        """A queue by URL, ARN or name (the last segment of any URL)."""
        if not isinstance(reference, str) or not reference:
            return None
        name = reference.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        for queue in self._queues():
            if reference in (queue.url, queue.arn) or queue.name == name:
                return queue
        return None

    def send(self, reference: str | None, body: str, attributes: dict | None = None, group_id: str | None = None,
             dedup_id: str | None = None, delay_seconds: int | None = None, origin: dict | None = None) -> dict:
        """Store one message; the SendMessage response fields (raises ServiceError)."""
        queue = self.find(reference)
        if queue is None:
            raise _error("QueueDoesNotExistException", "The specified queue does not exist.", "AWS.SimpleQueueService.NonExistentQueue")
        if not body:
            raise _error("AmazonSQSException", "The request must contain the parameter MessageBody.", "MissingParameter")
        attributes = attributes or {}
        if queue.fifo:
            return self._send_fifo(queue, body, attributes, group_id, dedup_id, origin)
        if group_id is not None:
            raise _error("AmazonSQSException", "The request include parameter that is not valid for this queue type", "InvalidParameterValue")
        return self._store(queue, body, attributes, {"DelaySeconds": delay_seconds or 0}, origin)

    def _send_fifo(self, queue, body, attributes, group_id, dedup_id, origin) -> dict:
        if not group_id:
            raise _error("AmazonSQSException", "The request must contain the parameter MessageGroupId.", "MissingParameter")
        if dedup_id is None:
            if getattr(queue, "content_based_deduplication", True) is False:
                raise _error("AmazonSQSException", "The queue should either have ContentBasedDeduplication enabled or "
                             "MessageDeduplicationId provided explicitly", "InvalidParameterValue")
            dedup_id = hashlib.sha256(body.encode()).hexdigest()
        now = time.time()
        seen = self._dedup.get((queue.url, dedup_id))
        if seen is not None and now - seen[0] < DEDUP_WINDOW_SECONDS:
            return seen[1]  # a duplicate within five minutes: accepted, not delivered again
        self._sequence += 1
        extra = {"MessageGroupId": group_id, "MessageDeduplicationId": dedup_id,
                 "SequenceNumber": f"{int(now * 1000)}{self._sequence:07d}"}  # grows, as SQS's does
        response = self._store(queue, body, attributes, extra, origin)
        self._dedup[(queue.url, dedup_id)] = (now, response)
        return response

    def _store(self, queue, body: str, attributes: dict, extra: dict, origin: dict | None) -> dict:
        message_id = str(uuid.uuid4())
        response = {"MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest(), "MessageId": message_id}
        if attributes:
            response["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
        if "SequenceNumber" in extra:
            response["SequenceNumber"] = extra["SequenceNumber"]
        doc = {"MessageId": message_id, "QueueName": queue.name, "QueueUrl": queue.url, "Body": body,
               "MessageAttributes": attributes, "SentTimestamp": int(time.time() * 1000), **extra, **(origin or {})}
        self.store.put_resource(MESSAGE_KIND, message_id, doc)
        return response

    def messages(self, queue_name: str | None = None) -> list[dict]:
        docs = self.store.list_resources(MESSAGE_KIND)
        return [d for d in docs if queue_name is None or d.get("QueueName") == queue_name]


class SqsSendMessage:
    """The ``sqs:sendMessage`` task executor."""

    def __init__(self, queues: LocalQueues):
        self.queues = queues

    async def invoke(self, request: TaskRequest) -> TaskResult:
        params = parameters_of(request)
        body = params.get("MessageBody")
        try:
            response = self.queues.send(
                params.get("QueueUrl"), "" if body is None else body_text(body), params.get("MessageAttributes"),
                params.get("MessageGroupId"), params.get("MessageDeduplicationId"), params.get("DelaySeconds"),
                origin={"ExecutionArn": request.execution_arn, "StateName": request.state_name},
            )
        except ServiceError as err:
            return err.result()
        return TaskResult(output=with_sdk_metadata(response, _xml_body(response), "text/xml"))


def _xml_body(response: dict) -> str:
    """The SendMessage XML response, for the Content-Length the metadata reports."""
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in response.items())
    return (f'<?xml version="1.0"?><SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
            f"<SendMessageResult>{fields}</SendMessageResult><ResponseMetadata><RequestId>"
            f"{uuid.uuid4()}</RequestId></ResponseMetadata></SendMessageResponse>")

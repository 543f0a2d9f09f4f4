"""``arn:aws:states:::sns:publish`` to the project's topics (``AWS::SNS::Topic``).

Request (the SNS Publish API in PascalCase): ``TopicArn`` or ``TargetArn`` or ``PhoneNumber``;
``Message`` (a JSON value that is not a string is published as its JSON text, as Step Functions
does); ``Subject``; ``MessageAttributes`` (``{name: {DataType, StringValue | BinaryValue}}``);
``MessageStructure: "json"`` (``Message`` is then a JSON object with a ``default`` entry and
optional per-protocol entries); ``MessageGroupId``/``MessageDeduplicationId`` (FIFO topics).

Response: ``{MessageId, SequenceNumber? (FIFO), SdkHttpMetadata, SdkResponseMetadata}``.
Errors: ``SNS.NotFoundException`` ("Topic does not exist"), ``SNS.InvalidParameterException``.

Every published message is recorded in the store (resource kind ``sns-message``; listed by
``stepflow messages``), appended to ``Settings.messages_sink`` (JSONL) when set, and delivered to
the topic's subscribers whose filter policy accepts it (see :mod:`stepflow.integrations.delivery`
and :mod:`stepflow.integrations.sns_filter`). A message to a
``PhoneNumber`` or a non-topic ``TargetArn`` is recorded only.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from stepflow.asl.json_text import dumps
from stepflow.engine.tasks import TaskRequest, TaskResult
from stepflow.integrations.aws_shapes import (
    ServiceError,
    iso_timestamp,
    parameters_of,
    with_sdk_metadata,
)
from stepflow.integrations.delivery import (
    DEFAULT_SUBJECT,
    Deliveries,
    Delivery,
    append_line,
    subscription_arn,
)
from stepflow.integrations.sns_filter import accepts

MESSAGE_KIND = "sns-message"
SERVICE = "AmazonSNS"


def _invalid(message: str) -> ServiceError:
    return ServiceError("SNS.InvalidParameterException", message, SERVICE, "InvalidParameter")


def _not_found() -> ServiceError:
    return ServiceError("SNS.NotFoundException", "Topic does not exist", SERVICE, "NotFound", 404)


class Topics:
    """The project's topics, found by ARN or by name (the last segment of any topic ARN)."""

    def __init__(self, topics: Callable[[], list]):
        self._topics = topics

    def find(self, arn: str):
        name = arn.rsplit(":", 1)[-1]
        for topic in self._topics():
            if topic.arn == arn or topic.name == name:
                return topic
        return None


class SnsPublish:
    """Publishes to local topics: record, sink, background delivery."""

    def __init__(self, topics: Topics, store, deliveries: Deliveries, sink: str | Path | None = None):
        self.topics = topics
        self.store = store
        self.deliveries = deliveries
        self.sink = Path(sink) if sink else None
        self._sequence = 0

    async def invoke(self, request: TaskRequest) -> TaskResult:
        try:
            response = self.publish(parameters_of(request), {"ExecutionArn": request.execution_arn,
                                                              "StateName": request.state_name})
        except ServiceError as err:
            return err.result()
        return TaskResult(output=with_sdk_metadata(response, _xml_body(response), "text/xml"))

    def publish(self, params: dict, origin: dict | None = None) -> dict:
        """Validate, record and start delivering one message; the Publish response fields."""
        target, topic = self._target(params)
        message = _message_text(params.get("Message"))
        per_protocol = _structure(message, params.get("MessageStructure"))
        subject = _subject(params.get("Subject"))
        attributes = params.get("MessageAttributes") or {}
        doc = {"MessageId": str(uuid.uuid4()), **target, "Subject": subject, "Message": message,
               "MessageAttributes": attributes, "Timestamp": iso_timestamp(time.time()), **(origin or {})}
        if params.get("MessageStructure"):
            doc["MessageStructure"] = params["MessageStructure"]
        response = {"MessageId": doc["MessageId"]}
        if topic is not None and getattr(topic, "fifo", topic.name.endswith(".fifo")):
            response["SequenceNumber"] = doc["SequenceNumber"] = self._fifo(params)
        self._record(doc)
        if topic is not None:
            self.deliveries.start(MESSAGE_KIND, doc, self._deliveries(doc, topic, per_protocol))
        return response

    def _target(self, params: dict) -> tuple[dict, object]:
        topic_arn, target_arn, phone = params.get("TopicArn"), params.get("TargetArn"), params.get("PhoneNumber")
        if not (topic_arn or target_arn or phone):
            raise _invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
        if phone and not (topic_arn or target_arn):
            return {"PhoneNumber": phone}, None
        arn = topic_arn or target_arn
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            raise _invalid(f"Invalid parameter: {'TopicArn' if topic_arn else 'TargetArn'}")
        is_topic = arn.split(":")[2:3] == ["sns"] and arn.count(":") == 5
        if not is_topic:  # a mobile endpoint: recorded, nothing to deliver locally
            return {"TargetArn": arn}, None
        topic = self.topics.find(arn)
        if topic is None:
            raise _not_found()
        return {"TopicArn": topic.arn, "TopicName": topic.name}, topic

    def _fifo(self, params: dict) -> str:
        if not params.get("MessageGroupId"):
            raise _invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
        self._sequence += 1
        return f"{int(time.time() * 1000)}{self._sequence:07d}"

    def _record(self, doc: dict) -> None:
        self.store.put_resource(MESSAGE_KIND, doc["MessageId"], doc)
        if self.sink is not None:
            append_line(self.sink, json.dumps(doc))

    def _deliveries(self, doc: dict, topic, per_protocol: dict | None) -> list[Delivery]:
        out = []
        for sub in topic.subscriptions:
            scope = getattr(sub, "filter_policy_scope", "MessageAttributes") or "MessageAttributes"
            if not accepts(getattr(sub, "filter_policy", None), scope, doc["Message"], doc["MessageAttributes"]):
                continue  # the subscription's filter policy rejects this message
            text = _for_protocol(doc["Message"], per_protocol, sub.protocol)
            arn = subscription_arn(topic.arn, sub.protocol, sub.endpoint)
            record = notification(doc, text, arn)
            raw = bool(sub.raw_message_delivery) and sub.protocol in ("http", "https", "sqs", "file", "firehose")
            body = text if raw or sub.protocol == "email" else json.dumps(record, indent=2)
            out.append(Delivery(sub.protocol, sub.endpoint, arn, body, raw, doc["Subject"] or DEFAULT_SUBJECT,
                                doc["MessageId"], topic.arn, _lambda_record(record, arn)))
        return out

    def messages(self, topic_name: str | None = None) -> list[dict]:
        docs = self.store.list_resources(MESSAGE_KIND)
        return [d for d in docs if topic_name is None or d.get("TopicName") == topic_name]


def notification(doc: dict, text: str, subscription: str) -> dict:
    """SNS's JSON notification body (HTTP/S, email-json, SQS). Not signed locally."""
    out = {"Type": "Notification", "MessageId": doc["MessageId"], "TopicArn": doc.get("TopicArn", "")}
    if doc.get("Subject"):
        out["Subject"] = doc["Subject"]
    out.update(Message=text, Timestamp=doc["Timestamp"], SignatureVersion="1", Signature="", SigningCertURL="",
               UnsubscribeURL=f"http://127.0.0.1/?Action=Unsubscribe&SubscriptionArn={subscription}")
    attributes = doc.get("MessageAttributes") or {}
    if attributes:
        out["MessageAttributes"] = {
            name: {"Type": a.get("DataType", "String"), "Value": a.get("StringValue", a.get("BinaryValue"))}
            for name, a in attributes.items()
        }
    return out


def _lambda_record(record: dict, subscription: str) -> dict:
    """The ``Sns`` object of a Lambda event: the notification, attributes without nesting."""
    return {**record, "UnsubscribeUrl": record["UnsubscribeURL"], "SigningCertUrl": record["SigningCertURL"],
            "MessageAttributes": record.get("MessageAttributes", {})}


def _message_text(message) -> str:
    if message is None or message == "":
        raise _invalid("Empty message")
    return message if isinstance(message, str) else dumps(message)


def _structure(message: str, structure) -> dict | None:
    """With MessageStructure=json: the per-protocol messages (must have a ``default``)."""
    if structure is None:
        return None
    if structure != "json":
        raise _invalid("Invalid parameter: MessageStructure")
    try:
        entries = json.loads(message)
    except ValueError:
        raise _invalid("Invalid parameter: Message Structure - JSON message body failed to parse") from None
    if not isinstance(entries, dict) or not isinstance(entries.get("default"), str):
        raise _invalid("Invalid parameter: Message Structure - No default entry in JSON message body")
    return entries


def _for_protocol(message: str, per_protocol: dict | None, protocol: str) -> str:
    if per_protocol is None:
        return message
    text = per_protocol.get(protocol, per_protocol["default"])
    return text if isinstance(text, str) else dumps(text)


def _subject(subject) -> str | None:
    if subject is None:
        return None
    if (not isinstance(subject, str) or not subject or len(subject) >= 100 or not subject.isascii()
            or any(c in subject for c in "\r\n")):
        raise _invalid("Invalid parameter: Subject")
    return subject


def _xml_body(response: dict) -> str:
    """The Publish XML response, for the Content-Length the metadata reports."""
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in response.items())
    return (f'<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">\n  <PublishResult>\n    {fields}\n'
            f"  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>{uuid.uuid4()}</RequestId>\n"
            "  </ResponseMetadata>\n</PublishResponse>\n")

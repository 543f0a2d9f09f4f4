"""Delivering published SNS messages to a topic's subscribers, over real transports.

=============  ===========================================================================
protocol       what happens locally
=============  ===========================================================================
http, https    POST of SNS's JSON notification (or the raw message with RawMessageDelivery),
               with SNS's headers (``x-amz-sns-message-type: Notification``,
               ``x-amz-sns-message-id``, ``x-amz-sns-topic-arn``,
               ``x-amz-sns-subscription-arn``); a 2xx answer delivers it.
email          a plain-text mail with the message (Subject, or "AWS Notification Message"),
               through the SMTP server of ``Settings.smtp`` ("host:port"); user and password
               from STEPFLOW_SMTP_USER / STEPFLOW_SMTP_PASSWORD (the password is never logged).
email-json     the same, with the JSON notification as the body.
file           one JSON line (the notification, or the raw message) appended to the endpoint
               path: stepflow's local sink.
sqs            the notification (or raw message) sent to the local queue named by the ARN.
lambda         the local function invoked with SNS's ``{"Records": [{"EventSource": "aws:sns",
               "Sns": {...}}]}`` event.
others         (sms, application, firehose) recorded as not delivered.
=============  ===========================================================================

Retries follow SNS's default delivery policy for HTTP/S endpoints: three retries, 20 seconds
apart, after a first failed attempt (a connection failure, HTTP 429 or 5xx); any other status
is a permanent failure. The delays are multiplied by the runtime's time scale (``--time-scale``;
0 retries at once). Email, SQS, file and Lambda deliveries are retried on the same schedule.
Subscriptions declared in the template count as confirmed; notifications are not signed
(``Signature`` and ``SigningCertURL`` are empty).

Deliveries run in the background after Publish has answered, as in AWS; :meth:`Deliveries.drain`
waits for the outstanding ones (``stepflow run`` does before it exits). Each message's record in
the store gets a ``Deliveries`` list (protocol, endpoint, status, attempts, last error).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import smtplib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import httpx

log = logging.getLogger("stepflow.integrations.sns")

DEFAULT_RETRY_DELAYS = (20.0, 20.0, 20.0)  # SNS's default HTTP/S policy: 3 retries, 20 s apart
HTTP_TIMEOUT_SECONDS = 15.0  # SNS waits 15 s for an HTTP/S endpoint
DEFAULT_SUBJECT = "AWS Notification Message"
EMAIL_FOOTER = (
    "\n\n--\nThis notification was published by stepflow to the local topic {topic}.\n"
    "Subscription: {subscription}\n"
)


class DeliveryFailed(Exception):
    """One attempt failed; ``retry`` says whether SNS would try again."""

    def __init__(self, message: str, retry: bool = True):
        super().__init__(message)
        self.retry = retry


@dataclass
class SmtpSettings:
    """Where email notifications go. The password is read from the environment and kept out
    of repr() and logs."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "stepflow notifications <no-reply@localhost>"

    @classmethod
    def parse(cls, address: str | None, sender: str | None = None) -> SmtpSettings | None:
        """``host:port`` (port 25 when omitted); credentials from STEPFLOW_SMTP_USER/PASSWORD."""
        if not address:
            return None
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "25")
        settings = cls(host or "127.0.0.1", int(port or 25), os.environ.get("STEPFLOW_SMTP_USER") or None,
                       os.environ.get("STEPFLOW_SMTP_PASSWORD") or None)
        if sender:
            settings.sender = sender
        return settings


def send_mail(smtp: SmtpSettings, to: str, subject: str, body: str) -> None:
    """Send one mail (blocking; run it in a thread). STARTTLS when the server offers it."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, to, subject
    message.set_content(body)
    client = smtplib.SMTP_SSL if smtp.port == 465 else smtplib.SMTP
    with client(smtp.host, smtp.port, timeout=30) as session:
        session.ehlo()
        if client is smtplib.SMTP and session.has_extn("starttls"):
            session.starttls()
            session.ehlo()
        if smtp.user:
            session.login(smtp.user, smtp.password or "")
        session.send_message(message)


@dataclass
class Delivery:
    """One notification on its way to one subscriber."""

    protocol: str
    endpoint: str
    subscription_arn: str
    body: str  # what the subscriber gets: the JSON notification or the raw message
    raw: bool
    subject: str
    message_id: str
    topic_arn: str
    record: dict  # the SNS record for a Lambda event (Type, MessageId, TopicArn, Message...)


class Deliveries:
    """Runs deliveries in the background and records their outcome on the message."""

    def __init__(self, store, smtp: SmtpSettings | None = None, queues=None,
                 invoke_lambda: Callable[[str, bytes], Awaitable[None]] | None = None,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, time_scale: float = 1.0):
        self.store = store
        self.smtp = smtp
        self.queues = queues
        self.invoke_lambda = invoke_lambda
        self.retry_delays = tuple(d * time_scale for d in retry_delays)
        self._pending: set[asyncio.Task] = set()

    def start(self, kind: str, doc: dict, deliveries: list[Delivery]) -> None:
        """Deliver in the background; the record ``doc`` (resource ``kind``) gets the outcome."""
        if not deliveries:
            return
        task = asyncio.get_running_loop().create_task(self._deliver_all(kind, doc, deliveries))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait until every delivery started so far has ended (delivered or given up)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _deliver_all(self, kind: str, doc: dict, deliveries: list[Delivery]) -> None:
        outcomes = await asyncio.gather(*(self._with_retries(d) for d in deliveries))
        doc["Deliveries"] = list(outcomes)
        self.store.put_resource(kind, doc["MessageId"], doc)

    async def _with_retries(self, delivery: Delivery) -> dict:
        outcome = {"Protocol": delivery.protocol, "Endpoint": delivery.endpoint,
                   "SubscriptionArn": delivery.subscription_arn, "Attempts": 0}
        for delay in (0.0, *self.retry_delays):
            if delay:
                await asyncio.sleep(delay)
            outcome["Attempts"] += 1
            try:
                status = await self._attempt(delivery)
            except DeliveryFailed as failure:
                outcome.update(Status="FAILED", Error=str(failure))
                log.warning("SNS delivery to %s %s failed (attempt %d): %s", delivery.protocol,
                            delivery.endpoint, outcome["Attempts"], failure)
                if not failure.retry:
                    break
                continue
            outcome.update(Status=status)
            outcome.pop("Error", None)
            break
        return outcome

    async def _attempt(self, delivery: Delivery) -> str:
        handler = {
            "http": self._http, "https": self._http, "email": self._email, "email-json": self._email,
            "file": self._file, "sqs": self._sqs, "lambda": self._lambda,
        }.get(delivery.protocol)
        if handler is None:
            return "NOT_DELIVERED_LOCALLY"
        await handler(delivery)
        return "DELIVERED"

    # transports ----------------------------------------------------------------------------

    async def _http(self, delivery: Delivery) -> None:
        headers = {
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": delivery.message_id,
            "x-amz-sns-topic-arn": delivery.topic_arn,
            "x-amz-sns-subscription-arn": delivery.subscription_arn,
            "Content-Type": "text/plain; charset=UTF-8",
            "User-Agent": "Amazon Simple Notification Service Agent",
        }
        if delivery.raw:
            headers["x-amz-sns-rawdelivery"] = "true"
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as client:
                response = await client.post(delivery.endpoint, content=delivery.body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as err:
            raise DeliveryFailed(f"{type(err).__name__}: {err}") from None
        if not 200 <= response.status_code < 300:
            retry = response.status_code == 429 or response.status_code >= 500
            raise DeliveryFailed(f"HTTP {response.status_code}", retry=retry)

    async def _email(self, delivery: Delivery) -> None:
        if self.smtp is None:
            raise DeliveryFailed("no SMTP server configured (Settings.smtp = 'host:port')", retry=False)
        body = delivery.body
        if delivery.protocol == "email":
            body += EMAIL_FOOTER.format(topic=delivery.topic_arn, subscription=delivery.subscription_arn)
        try:
            await asyncio.to_thread(send_mail, self.smtp, delivery.endpoint, delivery.subject, body)
        except (OSError, smtplib.SMTPException) as err:
            raise DeliveryFailed(f"SMTP {self.smtp.host}:{self.smtp.port}: {type(err).__name__}: {err}") from None

    async def _file(self, delivery: Delivery) -> None:
        # one JSON value per line: the notification object, or the raw message as a JSON string
        line = json.dumps(delivery.body) if delivery.raw else json.dumps(json.loads(delivery.body))
        try:
            await asyncio.to_thread(append_line, Path(delivery.endpoint), line)
        except OSError as err:
            raise DeliveryFailed(str(err)) from None

    async def _sqs(self, delivery: Delivery) -> None:
        if self.queues is None:
            raise DeliveryFailed("no local queues", retry=False)
        from stepflow.integrations.aws_shapes import ServiceError

        try:
            self.queues.send(delivery.endpoint, delivery.body, origin={"SnsMessageId": delivery.message_id})
        except ServiceError as err:
            raise DeliveryFailed(f"{err.error}: {err.message}", retry=False) from None

    async def _lambda(self, delivery: Delivery) -> None:
        if self.invoke_lambda is None:
            raise DeliveryFailed("no local functions", retry=False)
        event = {"Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": delivery.subscription_arn,
            "Sns": delivery.record,
        }]}
        await self.invoke_lambda(delivery.endpoint, json.dumps(event).encode())


def append_line(path: Path, line: str) -> None:
    """Append one line to a JSONL file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def subscription_arn(topic_arn: str, protocol: str, endpoint: str) -> str:
    """A stable subscription ARN for a template subscription."""
    return f"{topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, f'{topic_arn}|{protocol}|{endpoint}')}"

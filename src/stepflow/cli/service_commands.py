"""Commands that show what the local service integrations recorded: SNS and SQS messages
(``stepflow messages``) and Glue job runs (``stepflow glue-runs``)."""

from __future__ import annotations

import datetime as dt
import json

import click

from stepflow.cli.store_commands import store_option


def _store(store_url: str):
    from stepflow.store import open_store

    return open_store(store_url)


def _matches(doc: dict, key: str, wanted: str | None) -> bool:
    return wanted is None or doc.get(key) == wanted


def _sent_at(doc: dict) -> str:
    """When the message was sent, as SNS shows it (``2024-07-01T02:00:03.123Z``): an SNS
    message's Timestamp, an SQS message's SentTimestamp (epoch milliseconds) converted."""
    if doc.get("Timestamp"):
        return doc["Timestamp"]
    millis = doc.get("SentTimestamp")
    if not isinstance(millis, (int, float)):
        return ""
    moment = dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _message_line(doc: dict) -> str:
    where = doc.get("TopicName") or doc.get("QueueName") or doc.get("TopicArn") or doc.get("TargetArn") or doc.get("PhoneNumber")
    when = _sent_at(doc)
    text = doc.get("Message", doc.get("Body", ""))
    subject = f"[{doc['Subject']}] " if doc.get("Subject") else ""
    deliveries = ", ".join(f"{d['Protocol']}:{d['Status']}" for d in doc.get("Deliveries") or [])
    line = f"{when}  {where}  {doc['MessageId']}  {subject}{text}"
    return f"{line}  ({deliveries})" if deliveries else line


@click.command()
@store_option
@click.option("--topic", help="Only SNS messages published to this topic (name).")
@click.option("--queue", help="Only SQS messages sent to this queue (name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (with delivery outcomes).")
def messages(store_url, topic, queue, as_json):
    """List the SNS messages published (and SQS messages sent) by executions, oldest first.

    Example: stepflow messages --topic db-refresh-notifications
    """
    store = _store(store_url)
    docs = []
    if queue is None:
        docs += [d for d in store.list_resources("sns-message") if _matches(d, "TopicName", topic)]
    if topic is None:
        docs += [d for d in store.list_resources("sqs-message") if _matches(d, "QueueName", queue)]
    docs.sort(key=_sent_at)  # SNS and SQS messages interleaved, oldest first (a stable sort keeps ties in order)
    for doc in docs:
        click.echo(json.dumps(doc) if as_json else _message_line(doc))


@click.command("glue-runs")
@store_option
@click.argument("job", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (GetJobRun's JobRun and LogFile).")
def glue_runs(store_url, job, as_json):
    """List Glue job runs (state, times, log file), oldest first; only JOB's when given.

    Example: stepflow glue-runs etl-addressable-split-and-part
    """
    store = _store(store_url)
    for doc in store.list_resources("glue-job-run"):
        if not _matches(doc, "JobName", job):
            continue
        if as_json:
            click.echo(json.dumps(doc))
            continue
        error = f"  {doc['ErrorMessage'].splitlines()[-1]}" if doc.get("ErrorMessage") else ""
        click.echo(f"{doc['JobRunState']:10} {doc['JobName']}  {doc['Id']}  {doc.get('LogFile', '')}{error}")


COMMANDS = [messages, glue_runs]

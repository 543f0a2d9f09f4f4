"""``AWS::SNS::Topic`` (inline Subscription list), ``AWS::SNS::Subscription``, ``AWS::SQS::Queue``
and ``AWS::Glue::Job`` as the specs the integrations consume."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from stepflow.errors import TemplateError
from stepflow.sam.context import Context
from stepflow.sam.specs import GlueJobSpec, QueueSpec, SubscriptionSpec, TopicSpec

PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose", "file")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")


# -- SNS -------------------------------------------------------------------------------------------


def topics(ctx: Context, extra: dict[str, list[SubscriptionSpec]]) -> list[TopicSpec]:
    """Every topic with its subscriptions: inline ones, then AWS::SNS::Subscription resources,
    then functions' SNS events (``extra``, by topic ARN)."""
    declared = [_topic(ctx, logical_id) for logical_id, _ in ctx.resources("AWS::SNS::Topic")]
    by_arn = {topic.arn: list(topic.subscriptions) for topic in declared}
    for logical_id, _ in ctx.resources("AWS::SNS::Subscription"):
        arn, spec = _subscription_resource(ctx, logical_id, by_arn)
        by_arn[arn].append(spec)
    for arn, specs in extra.items():
        if arn not in by_arn:
            where = f"Resources/{specs[0].logical_id}/Properties/Events"
            raise TemplateError(f"{where}: topic {arn} is not a topic of this template")
        by_arn[arn].extend(specs)
    return [TopicSpec(t.logical_id, t.name, t.arn, tuple(by_arn[t.arn]), t.fifo) for t in declared]


def _topic(ctx: Context, logical_id: str) -> TopicSpec:
    where = f"Resources/{logical_id}/Properties"
    props = ctx.properties(logical_id)
    fifo = ctx.resolver.boolean(props.get("FifoTopic", False), f"{where}/FifoTopic")
    name = _checked_name(ctx.resolver.name_of(logical_id), fifo, _TOPIC_NAME, f"{where}/TopicName", "topic")
    arn = ctx.resolver.value({"Ref": logical_id}, where)
    inline = ctx.resolver.value(props.get("Subscription") or [], f"{where}/Subscription")
    if not isinstance(inline, list):
        raise TemplateError(f"{where}/Subscription: must be a list of {{Protocol, Endpoint}}")
    subscriptions = [_subscription(item, f"{where}/Subscription/{i}", None) for i, item in enumerate(inline)]
    return TopicSpec(logical_id, name, arn, tuple(subscriptions), fifo)


def _subscription_resource(ctx: Context, logical_id: str, by_arn: dict) -> tuple[str, SubscriptionSpec]:
    where = f"Resources/{logical_id}/Properties"
    props = ctx.resolver.value(ctx.properties(logical_id), where)
    arn = props.get("TopicArn")
    if arn not in by_arn:
        raise TemplateError(f"{where}/TopicArn: {arn!r} is not a topic of this template")
    return arn, _subscription(props, where, logical_id)


def _subscription(props: Any, where: str, logical_id: str | None) -> SubscriptionSpec:
    if not isinstance(props, dict):
        raise TemplateError(f"{where}: a subscription is a map with Protocol and Endpoint")
    protocol, endpoint = props.get("Protocol"), props.get("Endpoint")
    if protocol not in PROTOCOLS:
        raise TemplateError(f"{where}/Protocol: {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if not isinstance(endpoint, str) or not endpoint:
        raise TemplateError(f"{where}/Endpoint: the {protocol} subscription needs an Endpoint")
    if protocol in ("http", "https") and not endpoint.startswith(f"{protocol}://"):
        raise TemplateError(f"{where}/Endpoint: {endpoint!r} is not an {protocol}:// URL")
    return SubscriptionSpec(protocol=protocol, endpoint=endpoint,
                            raw_message_delivery=_flag(props.get("RawMessageDelivery", False), f"{where}/RawMessageDelivery"),
                            filter_policy=_filter_policy(props.get("FilterPolicy"), f"{where}/FilterPolicy"),
                            filter_policy_scope=str(props.get("FilterPolicyScope", "MessageAttributes")),
                            logical_id=logical_id)


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TemplateError(f"{where}: expected true or false, got {value!r}")


def _filter_policy(value: Any, where: str) -> dict | None:
    if value is None or isinstance(value, dict):
        return value or None
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        parsed = None
    if not isinstance(parsed, dict):
        raise TemplateError(f"{where}: a filter policy is a JSON object")
    return parsed


def _checked_name(name: str, fifo: bool, pattern: re.Pattern, where: str, what: str) -> str:
    base = name[: -len(".fifo")] if fifo and name.endswith(".fifo") else name
    if fifo and not name.endswith(".fifo"):
        raise TemplateError(f"{where}: the name of a FIFO {what} must end with .fifo, got {name!r}")
    if not pattern.fullmatch(base):
        raise TemplateError(f"{where}: {name!r} is not a valid {what} name (letters, digits, - and _)")
    return name


# -- SQS -------------------------------------------------------------------------------------------


def queues(ctx: Context) -> list[QueueSpec]:
    return [_queue(ctx, logical_id) for logical_id, _ in ctx.resources("AWS::SQS::Queue")]


def _queue(ctx: Context, logical_id: str) -> QueueSpec:
    where = f"Resources/{logical_id}/Properties"
    props = ctx.properties(logical_id)
    resolve = ctx.resolver
    fifo = resolve.boolean(props.get("FifoQueue", False), f"{where}/FifoQueue")
    name = _checked_name(resolve.name_of(logical_id), fifo, _QUEUE_NAME, f"{where}/QueueName", "queue")
    attrs = {a: resolve.value({"Fn::GetAtt": [logical_id, a]}, where) for a in ("Arn", "QueueUrl")}
    return QueueSpec(
        logical_id=logical_id, name=name, arn=attrs["Arn"], url=attrs["QueueUrl"], fifo=fifo,
        visibility_timeout=resolve.integer(props.get("VisibilityTimeout", 30), f"{where}/VisibilityTimeout"),
        content_based_deduplication=resolve.boolean(props.get("ContentBasedDeduplication", False),
                                                    f"{where}/ContentBasedDeduplication"),
    )


# -- Glue ------------------------------------------------------------------------------------------


def glue_jobs(ctx: Context) -> list[GlueJobSpec]:
    """Glue jobs with a local script (a path relative to the template, or file://). A job whose
    script is in S3 is left out with a warning unless ``Metadata: {stepflow: {ScriptLocation:
    local/path.py}}`` names its local copy."""
    out = []
    for logical_id, resource in ctx.resources("AWS::Glue::Job"):
        spec = _glue_job(ctx, logical_id, resource)
        if spec is not None:
            out.append(spec)
    return out


def _glue_job(ctx: Context, logical_id: str, resource: dict) -> GlueJobSpec | None:
    where = f"Resources/{logical_id}/Properties"
    props = ctx.properties(logical_id)
    resolve = ctx.resolver
    command = resolve.value(props.get("Command"), f"{where}/Command")
    if not isinstance(command, dict) or command.get("ScriptLocation") is None:
        raise TemplateError(f"{where}/Command/ScriptLocation: a Glue job needs Command.ScriptLocation")
    script = _script(ctx, logical_id, resource, str(command["ScriptLocation"]), f"{where}/Command/ScriptLocation")
    if script is None:
        return None
    arguments = resolve.value(props.get("DefaultArguments") or {}, f"{where}/DefaultArguments")
    if not isinstance(arguments, dict):
        raise TemplateError(f"{where}/DefaultArguments: must be a map of '--name' to values")
    execution = resolve.value(props.get("ExecutionProperty") or {}, f"{where}/ExecutionProperty")
    return GlueJobSpec(
        logical_id=logical_id, name=resolve.name_of(logical_id), script=script,
        default_arguments={str(k): resolve.string(v, f"{where}/DefaultArguments/{k}") for k, v in arguments.items()},
        timeout_minutes=None if props.get("Timeout") is None else resolve.integer(props["Timeout"], f"{where}/Timeout"),
        max_concurrent_runs=resolve.integer(execution.get("MaxConcurrentRuns", 1), f"{where}/ExecutionProperty/MaxConcurrentRuns"),
        command_name=str(command.get("Name", "glueetl")),
        max_retries=resolve.integer(props.get("MaxRetries", 0), f"{where}/MaxRetries"),
    )


def _script(ctx: Context, logical_id: str, resource: dict, location: str, where: str) -> Path | None:
    override = ((resource.get("Metadata") or {}).get("stepflow") or {}).get("ScriptLocation")
    if override is not None:
        location, where = str(override), f"Resources/{logical_id}/Metadata/stepflow/ScriptLocation"
    elif location.startswith("s3://"):
        ctx.warn(f"{where}: {location} is in S3; the job is left out (name a local copy in "
                 f"Resources/{logical_id}/Metadata/stepflow/ScriptLocation)")
        return None
    local = location[len("file://"):] if location.startswith("file://") else location
    path = (ctx.base_dir / local).resolve()
    if not path.is_file():
        raise TemplateError(f"{where}: script {location} not found")
    return path

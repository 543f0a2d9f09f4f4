"""The project as values: what a SAM template declares that stepflow runs locally.

These dataclasses are the contract between the template loader (:mod:`stepflow.sam.project`)
and their consumers (the Lambda runtime, the integrations, the scheduler, the server). Every
name, ARN and URL in them is the *local* one (see :mod:`stepflow.sam.resources`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_TIMEOUT = 3  # seconds, Lambda's default
DEFAULT_MEMORY = 128  # MB, Lambda's default
DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/stepflow"


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function of the project, ready to run locally."""

    logical_id: str
    name: str
    handler: str  # module.function, as Lambda's Handler setting
    code_uri: Path
    runtime: str = "python3.12"
    timeout: int = DEFAULT_TIMEOUT
    memory_size: int = DEFAULT_MEMORY
    environment: dict = field(default_factory=dict)
    reserved_concurrency: int | None = None
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"


@dataclass(frozen=True)
class SubscriptionSpec:
    """An SNS subscription: protocol http, https, email, email-json, sqs, lambda or (stepflow's
    own) file. ``filter_policy`` is the parsed FilterPolicy, if any."""

    protocol: str
    endpoint: str
    raw_message_delivery: bool = False
    filter_policy: dict | None = None
    filter_policy_scope: str = "MessageAttributes"
    logical_id: str | None = None  # the AWS::SNS::Subscription or function event it came from


@dataclass(frozen=True)
class TopicSpec:
    logical_id: str
    name: str
    arn: str
    subscriptions: tuple[SubscriptionSpec, ...] = ()
    fifo: bool = False


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    arn: str
    url: str
    fifo: bool = False
    visibility_timeout: int = 30
    content_based_deduplication: bool = False


@dataclass(frozen=True)
class GlueJobSpec:
    """An ``AWS::Glue::Job`` whose Command.ScriptLocation is a local Python script."""

    logical_id: str
    name: str
    script: Path
    default_arguments: dict = field(default_factory=dict)
    timeout_minutes: int | None = None
    max_concurrent_runs: int = 1
    command_name: str = "glueetl"  # glueetl, pythonshell or gluestreaming
    max_retries: int = 0


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge schedule (``Events`` of type Schedule / ScheduleV2 on a state machine)."""

    name: str
    expression: str  # cron(...), rate(...) or at(...)
    state_machine_arn: str
    input: str | None = None
    enabled: bool = True
    timezone: str | None = None
    kind: str = "Schedule"  # Schedule (EventBridge rule) or ScheduleV2 (EventBridge Scheduler)
    start_date: str | None = None
    end_date: str | None = None


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str
    definition: dict  # after DefinitionSubstitutions and intrinsics
    type: str = "STANDARD"
    role_arn: str = DEFAULT_ROLE_ARN
    schedules: tuple[ScheduleSpec, ...] = ()
    source: str | None = None  # the DefinitionUri file it was read from, if any


@dataclass(frozen=True)
class Project:
    """Everything a SAM template declares that stepflow runs locally."""

    path: Path
    functions: tuple[FunctionSpec, ...] = ()
    state_machines: tuple[StateMachineSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    glue_jobs: tuple[GlueJobSpec, ...] = ()
    parameters: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # what was read but is ignored locally (Layers, S3 code...)
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    @property
    def schedules(self) -> tuple[ScheduleSpec, ...]:
        return tuple(s for machine in self.state_machines for s in machine.schedules)

    def state_machine(self, key: str) -> StateMachineSpec | None:
        """The state machine with this logical id, name or ARN (None if there is none)."""
        return _find(self.state_machines, key)

    def topic(self, key: str) -> TopicSpec | None:
        """The topic with this logical id, name or ARN."""
        return _find(self.topics, key)

    def queue(self, key: str) -> QueueSpec | None:
        """The queue with this logical id, name, ARN or URL."""
        return _find(self.queues, key) or next((q for q in self.queues if q.url == key), None)

    def glue_job(self, key: str) -> GlueJobSpec | None:
        """The Glue job with this logical id or name."""
        return _find(self.glue_jobs, key)

    def function(self, key: str) -> FunctionSpec | None:
        """The function with this logical id, name or ARN."""
        return _find(self.functions, key)


def _find(items, key: str):
    for item in items:
        if key in (item.logical_id, item.name, getattr(item, "arn", None)):
            return item
    return None

"""What the engine asks of a task resource, and what it gets back.

The engine never calls an integration itself: it emits a :class:`TaskRequest` and later receives
a :class:`TaskResult`. Integrations (``stepflow.integrations``) implement :class:`TaskExecutor`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Protocol

LAMBDA = "lambda"  # arn:aws:lambda:REGION:ACCOUNT:function:NAME (the "Lambda" event family)
SERVICE = "service"  # arn:aws:states:::SERVICE:ACTION[.PATTERN] (the "Task" event family)
ACTIVITY = "activity"  # arn:aws:states:REGION:ACCOUNT:activity:NAME (the "Activity" family)

SYNC = "sync"
SYNC2 = "sync:2"
WAIT_FOR_TASK_TOKEN = "waitForTaskToken"


@dataclass(frozen=True, slots=True)
class Resource:
    """A Task's Resource ARN, taken apart."""

    arn: str
    kind: str
    service: str = ""  # lambda, states, sns, glue, aws-sdk:s3, http ...
    action: str = ""  # invoke, startExecution, publish ...
    pattern: str = ""  # "", sync, sync:2, waitForTaskToken
    region: str = "us-east-1"
    account: str = ""
    name: str = ""  # function or activity name (with alias/version qualifier)

    @property
    def history_resource(self) -> str:
        """The ``resource`` AWS shows in Task* history events: ``invoke``, ``startExecution.sync``."""
        return f"{self.action}.{self.pattern}" if self.pattern else self.action


@functools.lru_cache(maxsize=4096)
def parse_resource(arn: str, default_region: str = "us-east-1") -> Resource:
    """Classify a Task Resource ARN (no I/O)."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return Resource(arn, LAMBDA, "lambda", "invoke", region=parts[3], account=parts[4], name=":".join(parts[6:]))
    if len(parts) >= 7 and parts[2] == "states" and parts[5] == "activity":
        return Resource(arn, ACTIVITY, "states", "activity", region=parts[3], account=parts[4], name=parts[6])
    if len(parts) >= 6 and parts[2] == "states" and parts[3] == "" and parts[4] == "":
        rest = ":".join(parts[5:])
        service, _, action = rest.rpartition(":") if rest.startswith("aws-sdk:") else rest.partition(":")
        action, pattern = _split_pattern(action)
        return Resource(arn, SERVICE, service, action, pattern, region=default_region)
    return Resource(arn, SERVICE, "unknown", arn, region=default_region)


def _split_pattern(action: str) -> tuple[str, str]:
    for suffix in (".sync:2", ".sync", ".waitForTaskToken"):
        if action.endswith(suffix):
            return action[: -len(suffix)], suffix[1:]
    return action, ""


@dataclass(slots=True)
class TaskRequest:
    """One invocation of a Task's resource, under a deterministic step key."""

    step: str  # e.g. "/Map[3]/Enrich@12#2": frame, state, entered event id, attempt
    execution_arn: str
    state_name: str
    resource: Resource
    parameters: Any
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    task_token: str | None = None
    credentials: Any = None
    context: dict = field(default_factory=dict)
    submitted: bool = False  # a callback task already sent out before a restart: only wait
    # Set by the runner: call with the service's answer when a callback task's request went out
    # (TaskSubmitted), or with worker=... when an activity worker took the task (ActivityStarted).
    on_submitted: Any = None


@dataclass(slots=True)
class TaskResult:
    """A finished invocation: ``output`` on success, else ``error`` and ``cause``."""

    output: Any = None
    error: str | None = None
    cause: str | None = None
    # Extra history events the integration wants recorded (e.g. TaskSubmitted), as (type, details).
    events: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error is not None


class TaskExecutor(Protocol):
    """Runs task resources: the one method an integration registry offers the engine."""

    async def invoke(self, request: TaskRequest) -> TaskResult:  # pragma: no cover - protocol
        """Run the request to its end (or until cancelled) and report the outcome."""
        ...

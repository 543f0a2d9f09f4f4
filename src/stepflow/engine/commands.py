"""What one interpreter call hands the runner: commands to carry out and what changed; and the
AWS limits the interpreter enforces."""

from __future__ import annotations

from dataclasses import dataclass, field

from stepflow.engine.tasks import TaskRequest


@dataclass(frozen=True, slots=True)
class Limits:
    """AWS service limits, enforced by default; ``Limits.relaxed()`` lifts them."""

    payload_bytes: int | None = 256 * 1024
    history_events: int | None = 25_000
    map_concurrency: int = 40

    @classmethod
    def relaxed(cls) -> "Limits":
        return cls(payload_bytes=None, history_events=None, map_concurrency=1_000_000)


# -- commands for the runner -------------------------------------------------------------------


@dataclass(slots=True)
class RunTask:
    request: TaskRequest


@dataclass(slots=True)
class StartTimer:
    frame: str
    token: str
    due: float


@dataclass(slots=True)
class CancelTask:
    step: str


@dataclass(slots=True)
class Progress:
    """What one interpreter call did: commands to carry out, frames and events to persist."""

    commands: list = field(default_factory=list)
    dirty: set = field(default_factory=set)
    removed: set = field(default_factory=set)
    first_event: int = 0  # index in Execution.events of the first event this call added
    more: bool = False  # frames are still ready: call proceed() again

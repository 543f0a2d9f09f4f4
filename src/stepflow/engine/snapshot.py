"""Execution state as data (DESIGN.md §2).

An execution's whole state is an :class:`Execution` holding :class:`Frame` objects, one per
running scope: the machine itself, each Map iteration, each Parallel branch. Nothing lives on a
Python call stack or in a thread: the interpreter reads a frame, decides, and writes the frame
back; the store persists the frames it marked dirty together with the events they produced.
Every field is plain JSON-able data (see ``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
ABORTED = "ABORTED"
PENDING_REDRIVE = "PENDING_REDRIVE"
NOT_STARTED = "NOT_STARTED"  # a Map iteration waiting for a concurrency slot
TERMINAL = frozenset({SUCCEEDED, FAILED, TIMED_OUT, ABORTED})

ROOT = ""  # the key of the machine's own frame


@dataclass(slots=True)
class Frame:
    """One running scope: which state it is in, with what input, waiting for what.

    ``wait`` is None while the frame can run, else a dict saying what it waits for:
    ``{"kind": "task", "step": key, ...}``, ``{"kind": "timer", "due": t, "reason": ...}`` or
    ``{"kind": "children", ...}`` (a Map or Parallel state waiting for its iterations/branches).
    """

    key: str
    program: str
    parent: str | None = None
    index: int = 0
    state: str | None = None
    input: Any = None
    input_text: str | None = None
    entered_id: int = 0
    entered_at: float = 0.0
    retries: list[int] | None = None
    attempt: int = 0
    vars: dict | None = None
    wait: dict | None = None
    last_event: int = 0
    status: str = RUNNING
    silent: bool = False  # a distributed Map iteration: its events go to no history here
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Frame":
        return cls(**data)


@dataclass(slots=True)
class Execution:
    """One execution: identity, status, result, its frames and its history."""

    arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    input: Any
    input_text: str
    start_date: float
    role_arn: str = ""
    type: str = "STANDARD"
    status: str = RUNNING
    stop_date: float | None = None
    output_text: str | None = None
    error: str | None = None
    cause: str | None = None
    frames: dict[str, Frame] = field(default_factory=dict)
    events: list = field(default_factory=list)  # new events as history tuples (history.as_dict)
    next_event_id: int = 1
    redrive_count: int = 0
    redrive_date: float | None = None
    trace_header: str | None = None
    state_machine_version_arn: str | None = None
    state_machine_alias_arn: str | None = None
    revision: str = ""  # which definition this execution runs (state machine revision id)
    test_case: str | None = None  # mock config test case (StartExecution on "...:stateMachine:Name#Case")
    mock_counters: dict | None = None  # state name -> mocked invocations so far (integrations.mocks)
    # In-memory indexes, rebuilt from the frames after a load (never persisted):
    ready: deque = field(default_factory=deque)  # frames that can run now
    inflight: dict = field(default_factory=dict)  # task step key -> frame key

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

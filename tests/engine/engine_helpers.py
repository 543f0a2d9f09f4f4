"""Helpers for the engine tests (imported as ``engine_helpers``): definitions are plain dicts,
runs go through ``stepflow.run``."""

from __future__ import annotations

import threading

ACCOUNT = "123456789012"
REGION = "us-east-1"
START = 1_700_000_000.0  # FakeClock's default start (2023-11-14T22:13:20Z)


def lambda_arn(name: str) -> str:
    """The legacy Lambda resource ARN of a function."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def machine(*states: tuple[str, dict], **top) -> dict:
    """A definition from (name, state) pairs; the first state is StartAt."""
    return {"StartAt": states[0][0], "States": dict(states), **top}


def single(state: dict, **top) -> dict:
    """A one-state machine (the state ends the execution unless it is Succeed/Fail)."""
    if state["Type"] not in ("Succeed", "Fail", "Choice") and "Next" not in state:
        state = {**state, "End": True}
    return machine(("S", state), **top)


def types(result) -> list[str]:
    return [event["type"] for event in result.history]


def events_of(result, event_type: str) -> list[dict]:
    return [event for event in result.history if event["type"] == event_type]


def details(event: dict) -> dict:
    """The details object of an event (whatever its key)."""
    for key, value in event.items():
        if key.endswith("EventDetails"):
            return value
    return {}


class Recorder:
    """A Lambda handler that records every event it gets (thread-safe) and returns ``fn(event)``."""

    def __init__(self, fn=None):
        self.fn = fn or (lambda event: event)
        self.calls: list = []
        self._lock = threading.Lock()

    def __call__(self, event, context):
        with self._lock:
            self.calls.append(event)
        return self.fn(event)


class Flaky:
    """Raises ``error`` for the first ``failures`` calls, then returns ``value``."""

    def __init__(self, failures: int, error: Exception | None = None, value=None):
        self.failures = failures
        self.error = error or RuntimeError("flaky")
        self.value = {"ok": True} if value is None else value
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, event, context):
        with self._lock:
            self.calls += 1
            attempt = self.calls
        if attempt <= self.failures:
            raise self.error
        return self.value

"""The context object (``$$`` in JSONPath, ``$states.context`` in JSONata)."""

from __future__ import annotations

import time
from typing import Any

from stepflow.engine.snapshot import Execution, Frame


def iso_timestamp(epoch: float) -> str:
    """AWS's timestamp form in the context object: 2024-01-31T12:00:00.123Z."""
    millis = int(round(epoch * 1000))
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


_exe_contexts: dict[tuple[str, int], dict] = {}


def execution_context(exe: Execution) -> dict:
    """``$$.Execution`` and ``$$.StateMachine``, built once per execution (and redrive)."""
    key = (exe.arn, exe.redrive_count)
    cached = _exe_contexts.get(key)
    if cached is not None:
        return cached
    execution = {
        "Id": exe.arn,
        "Input": exe.input,
        "StartTime": iso_timestamp(exe.start_date),
        "Name": exe.name,
        "RoleArn": exe.role_arn,
    }
    if exe.type == "STANDARD":  # express executions cannot be redriven: no RedriveCount
        execution["RedriveCount"] = exe.redrive_count
    if exe.redrive_date is not None:
        execution["RedriveTime"] = iso_timestamp(exe.redrive_date)
    cached = {"Execution": execution, "StateMachine": {"Id": exe.state_machine_arn, "Name": exe.state_machine_name}}
    if len(_exe_contexts) > 10_000:
        _exe_contexts.clear()
    _exe_contexts[key] = cached
    return cached


def context_object(exe_ctx: dict, exe: Execution, state_name: str, frame: Frame, retry_count: int | None, **extra: Any) -> dict:
    """The whole context object for one state of one frame (RetryCount for states with Retry)."""
    state = {"EnteredTime": iso_timestamp(frame.entered_at), "Name": state_name}
    if retry_count is not None:
        state["RetryCount"] = retry_count
    ctx = {"Execution": exe_ctx["Execution"], "State": state, "StateMachine": exe_ctx["StateMachine"]}
    ctx.update(extra)
    return ctx

"""Helpers for the integration tests (imported as ``integration_helpers``)."""

from __future__ import annotations

import json
import uuid

ROLE = "arn:aws:iam::123456789012:role/stepflow"


def create_machine(rt, definition: dict, name: str | None = None, machine_type: str = "STANDARD") -> str:
    created = rt.service.create_state_machine(name=name or f"m-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                              roleArn=ROLE, type=machine_type)
    return created["stateMachineArn"]


async def execute(rt, definition_or_arn, input_value=None, name=None) -> dict:
    """Start an execution and wait for its end; its DescribeExecution."""
    arn = definition_or_arn if isinstance(definition_or_arn, str) else create_machine(rt, definition_or_arn)
    started = rt.service.start_execution(stateMachineArn=arn, name=name, input=json.dumps(input_value or {}))
    if started["executionArn"] in rt.runner.active:
        await rt.runner.wait(started["executionArn"])
    return rt.service.describe_execution(executionArn=started["executionArn"])


def task(resource: str, parameters: dict, **extra) -> dict:
    """A one-Task definition."""
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True, **extra}}}


def history_types(rt, arn: str) -> list[str]:
    return [e["type"] for e in rt.store.history(arn)]

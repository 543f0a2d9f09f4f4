"""TestState: run one state, alone, with a given input (and variables), and report its
status, output, next state and, at DEBUG/TRACE, the data flow step by step.

The state is compiled by the real parser (as a one-state machine, or picked out of a whole
machine with ``stateName``) and evaluated by the same data-flow pieces the engine uses
(:mod:`stepflow.asl.dataflow`); a Task without a ``mock`` calls its resource through the
runtime's integrations. A ``mock`` (``result`` or ``errorOutput``) replaces the resource call,
and is required for Map, Parallel, activities, ``.sync`` and ``.waitForTaskToken``.
This module checks the request; :mod:`stepflow.api.test_state_run` runs the state.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from stepflow.api.common import require
from stepflow.asl.parse import compile_definition
from stepflow.asl.validate import load_definition, validate_definition
from stepflow.engine.context import iso_timestamp
from stepflow.engine.tasks import (
    ACTIVITY,
    SYNC,
    SYNC2,
    WAIT_FOR_TASK_TOKEN,
    parse_resource,
)
from stepflow.errors import ApiError, DefinitionError

LEVELS = ("INFO", "DEBUG", "TRACE")
MOCKABLE = ("Task", "Map", "Parallel")
NEEDS_MOCK = ("Map", "Parallel")
WRAPPED_NAME = "TestState"  # the state's name when the definition is a single state
UNSUPPORTED_WITHOUT_MOCK = (
    "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"
)


@dataclass
class TestRequest:
    """A checked TestState request."""

    name: str
    state: Any  # the compiled state (stepflow.asl.model)
    raw: dict  # the state's definition
    input: Any
    variables: dict
    context: dict
    mock: dict | None
    retry_count: int
    level: str


def parse_definition(definition: str, state_name: str | None) -> tuple[str, dict, Any]:
    """``(state name, raw state, compiled state)``; InvalidDefinition with AWS's diagnostics."""
    try:
        document = load_definition(definition)
    except DefinitionError as err:
        raise ApiError("InvalidDefinition", err.aws_message()) from None
    if state_name is None:
        name = WRAPPED_NAME
        document = {"StartAt": name, "States": {name: document, **_placeholders(document, name)}}
    else:
        name = state_name
        if name not in (document.get("States") or {}):
            raise ApiError("ValidationException", f"State '{name}' is not present in the state machine definition.")
    _validate(document)
    try:
        machine = compile_definition(document)
    except (ValueError, TypeError, KeyError) as err:
        raise ApiError("InvalidDefinition", f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {err}'") from None
    return name, document["States"][name], machine.root.states[name]


def _placeholders(state: dict, name: str) -> dict:
    """A Succeed state for every state a lone state may go to, so that it validates as a machine."""
    targets = [state.get("Next"), state.get("Default")]
    for key in ("Choices", "Catch"):
        items = state.get(key)
        targets += [item.get("Next") for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    return {t: {"Type": "Succeed"} for t in targets if isinstance(t, str) and t and t != name}


def _validate(document: dict) -> None:
    try:
        problems = validate_definition(document)
    except DefinitionError as err:
        problems = err.diagnostics
    errors = [p for p in problems if getattr(p, "severity", "ERROR") == "ERROR"]
    if errors:
        raise ApiError("InvalidDefinition", DefinitionError(errors).aws_message())


def check_mock(state, mock: Any, reveal_secrets: bool) -> dict | None:
    """The mock, checked against the state (ValidationException / InvalidDefinition)."""
    if mock is None:
        if state.type in NEEDS_MOCK:
            raise ApiError("InvalidDefinition", UNSUPPORTED_WITHOUT_MOCK)
        if state.type == "Task" and _needs_mock(state.resource):
            raise ApiError("InvalidDefinition", "TestState API does not support Activity tasks, .sync or .waitForTaskToken service integration patterns unless a mock is specified.")
        return None
    if not isinstance(mock, dict):
        raise ApiError("ValidationException", "A test mock must be an object with one of the following fields: [result, errorOutput].")
    if state.type not in MOCKABLE:
        raise ApiError("ValidationException", f"State type '{state.type}' is not supported when a mock is specified")
    if ("result" in mock) == ("errorOutput" in mock):
        raise ApiError("ValidationException", "A test mock should have only one of the following fields: [result, errorOutput].")
    if reveal_secrets:
        raise ApiError("ValidationException", "TestState does not support RevealSecrets when a mock is specified.")
    error_output = mock.get("errorOutput")
    if error_output is not None and not isinstance((error_output or {}).get("error"), str):
        raise ApiError("ValidationException", "The error field is required when mock.errorOutput is specified.")
    return mock


def _needs_mock(resource: str) -> bool:
    parsed = parse_resource(resource)
    return parsed.kind == ACTIVITY or parsed.pattern in (SYNC, SYNC2, WAIT_FOR_TASK_TOKEN)


def parse_json(text: Any, field: str, default: Any, code: str = "ValidationException") -> Any:
    """A JSON request field (a string holding JSON)."""
    if text is None:
        return default
    if not isinstance(text, str):
        raise ApiError(code, f"Invalid {field}: it must be a string holding JSON")
    try:
        return json.loads(text)
    except ValueError as err:
        if code == "InvalidExecutionInput":
            raise ApiError(code, f"Invalid State Machine Execution Input: '{err}'") from None
        raise ApiError(code, f"Invalid {field}: '{err}'") from None


def default_context(service, name: str, value: Any, role_arn: str | None, retry_count: int, raw: dict) -> dict:
    """A context object like the one AWS builds for a TestState run (an express execution)."""
    machine = f"TestStateStateMachine-{uuid.uuid4().hex[:12]}"
    execution = str(uuid.uuid4())
    now = iso_timestamp(service.clock.now())
    ctx = {
        "Execution": {
            "Id": service._arn("express", machine, execution, str(uuid.uuid4())), "Input": value, "Name": execution,
            "RoleArn": role_arn or f"arn:aws:iam::{service.account}:role/stepflow", "StartTime": now,
        },
        "StateMachine": {"Id": service._arn("stateMachine", machine), "Name": machine},
        "State": {"Name": name, "EnteredTime": now},
    }
    if raw.get("Retry"):
        ctx["State"]["RetryCount"] = retry_count
    if str(raw.get("Resource", "")).endswith("." + WAIT_FOR_TASK_TOKEN):
        ctx["Task"] = {"Token": uuid.uuid4().hex + uuid.uuid4().hex}
    return ctx


class TestStateMixin:
    """The TestState action of :class:`stepflow.service.StepFunctions`."""

    async def test_state(self, definition: str = None, roleArn: str = None, input: str = None, inspectionLevel: str = None,
                         revealSecrets: bool = False, variables: str = None, stateName: str = None, mock: dict = None,
                         context: str = None, stateConfiguration: dict = None, **_) -> dict:
        from stepflow.api.test_state_run import run_state

        require(definition=definition)
        level = inspectionLevel or "INFO"
        if level not in LEVELS:
            raise ApiError("ValidationException", f"1 validation error detected: Value '{level}' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]")
        name, raw, state = parse_definition(definition, stateName)
        mock = check_mock(state, mock, bool(revealSecrets))
        if context is not None and mock is None:
            raise ApiError("ValidationException", "The context field may only be specified if a mock is specified.")
        value = parse_json(input, "input", {}, "InvalidExecutionInput")
        names = parse_json(variables, "variables", {})
        if not isinstance(names, dict):
            raise ApiError("ValidationException", "Invalid variables: it must be a JSON object")
        retry_count = int((stateConfiguration or {}).get("retrierRetryCount") or 0)
        ctx = parse_json(context, "context", None) or default_context(self, name, value, roleArn, retry_count, raw)
        request = TestRequest(name, state, raw, value, names, ctx, mock, retry_count, level)
        return await run_state(self, request)

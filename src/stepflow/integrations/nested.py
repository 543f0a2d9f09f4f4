"""Nested executions: ``arn:aws:states:::states:startExecution`` (plain, ``.sync``, ``.sync:2``;
``.waitForTaskToken`` is the registry's generic callback pattern around the plain call) and the
``aws-sdk:sfn:*`` actions a workflow may call on its own service.

Shapes (Step Functions developer guide, "Start a new AWS Step Functions state machine from a
running execution"; checked against the recorded AWS cases in shared/conformance):

- plain: ``{ExecutionArn, StartDate, SdkHttpMetadata, SdkResponseMetadata}``;
- ``.sync``: the child's DescribeExecution in PascalCase, ``Input``/``Output`` as JSON text,
  with ``RedriveCount``/``RedriveStatus``/``RedriveStatusReason``;
- ``.sync:2``: the same with ``Input``/``Output`` parsed and without the redrive fields (as AWS's
  recorded outputs of each pattern show);
- a child that ends FAILED, TIMED_OUT or ABORTED fails the task with ``States.TaskFailed`` and the
  same object (with the child's ``Error``/``Cause``) as JSON text in the cause;
- API errors: ``StepFunctions.<Code>Exception`` with the SDK's cause text.

Stopping the parent (or the parent task timing out) stops a ``.sync`` child. A child started
with ``AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`` in its input is recorded as started by that
execution (resource ``execution-parent``), as the console's "Started by" shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from typing import Any

from stepflow.asl.json_text import dumps
from stepflow.engine.tasks import SYNC, SYNC2, TaskRequest, TaskResult
from stepflow.errors import RUNTIME, TASK_FAILED, ApiError, ExecutionDropped
from stepflow.integrations.aws_shapes import (
    ServiceError,
    epoch_millis,
    iso_timestamp,
    parameters_of,
    sdk_v2_cause,
    with_sdk_metadata,
)

log = logging.getLogger("stepflow.integrations.nested")

STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
POLL_SECONDS = 0.2  # only while a child is RUNNING but not (yet) run by this process
NAMESPACE = uuid.UUID("5f0c6a2e-55c1-4f53-9a55-1f0a3c1d0b7e")
STEP_KIND = "nested-execution"  # step -> child ARN, to wait again after a restart
PARENT_KIND = "execution-parent"  # child ARN -> the execution that started it


def _api_failure(err: ApiError) -> TaskResult:
    code = err.code
    return ServiceError(f"StepFunctions.{code}Exception", err.message, "AWSStepFunctions", code, err.status).result()


def _child_input(params: dict) -> str:
    """The child's input text: an object is serialised, a string is taken as JSON text, none is {}."""
    value = params.get("Input")
    if value is None:
        return "{}"
    if isinstance(value, str):
        return value
    return dumps(value)


class NestedExecutions:
    """Starts executions of the local StepFunctions service from a Task state."""

    def __init__(self, service, runner, store=None):
        self.service = service
        self.runner = runner
        self.store = store

    async def invoke(self, request: TaskRequest) -> TaskResult:
        params = parameters_of(request)
        try:
            arn, started = self._start(request, params)
        except ApiError as err:
            return _api_failure(err)
        if request.resource.pattern not in (SYNC, SYNC2):
            return TaskResult(output=started)
        if not request.submitted and request.on_submitted is not None:
            request.on_submitted(started)
        described = await self._wait(arn)
        return _sync_result(described, parse=request.resource.pattern == SYNC2)

    # starting ----------------------------------------------------------------------------------

    def _start(self, request: TaskRequest, params: dict) -> tuple[str, dict]:
        """Start the child (or, for a task re-issued after a restart, find the one it started)."""
        known = self._recorded_child(request) if request.submitted else None
        if known is not None:
            return known, {}
        input_text = _child_input(params)
        name = params.get("Name")
        if name is None:  # deterministic, so a re-issued request finds its own child again
            name = str(uuid.uuid5(NAMESPACE, f"{request.execution_arn}|{request.step}"))
        response = self.service.start_execution(stateMachineArn=params.get("StateMachineArn"), name=name, input=input_text)
        arn = response["executionArn"]
        self._record(request, arn, input_text)
        body = json.dumps(response, default=str)
        started = with_sdk_metadata({"ExecutionArn": arn, "StartDate": epoch_millis(response["startDate"])},
                                    body, "application/x-amz-json-1.0")
        return arn, started

    def _recorded_child(self, request: TaskRequest) -> str | None:
        if self.store is None:
            return None
        doc = self.store.get_resource(STEP_KIND, f"{request.execution_arn}|{request.step}")
        return doc.get("childArn") if doc else None

    def _record(self, request: TaskRequest, child_arn: str, input_text: str) -> None:
        if self.store is None:
            return
        self.store.put_resource(STEP_KIND, f"{request.execution_arn}|{request.step}",
                                {"childArn": child_arn, "parentArn": request.execution_arn, "step": request.step})
        parent = _started_by(input_text)
        if parent is not None:
            self.store.put_resource(PARENT_KIND, child_arn, {"childArn": child_arn, "parentArn": parent})

    # waiting -----------------------------------------------------------------------------------

    async def _wait(self, arn: str) -> dict:
        """Wait for the child's end; stop it when this task is cancelled (parent stopped)."""
        try:
            while True:
                described = self.service.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    return described
                if arn in self.runner.active:
                    with contextlib.suppress(ExecutionDropped):  # not run here any more: poll the store
                        await self.runner.wait(arn)
                else:
                    await asyncio.sleep(POLL_SECONDS)
        except asyncio.CancelledError:
            self._stop_child(arn)
            raise

    def _stop_child(self, arn: str) -> None:
        try:
            if self.service.describe_execution(executionArn=arn)["status"] == "RUNNING":
                self.service.stop_execution(executionArn=arn)
        except ApiError:
            log.warning("could not stop nested execution %s", arn)


def _started_by(input_text: str) -> str | None:
    try:
        value = json.loads(input_text)
    except ValueError:
        return None
    parent = value.get(STARTED_BY) if isinstance(value, dict) else None
    return parent if isinstance(parent, str) else None


def _json_or_text(text: str | None) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def describe_shape(described: dict, parse: bool) -> dict:
    """DescribeExecution as ``.sync`` (JSON text) or ``.sync:2`` (parsed JSON) outputs it."""
    convert = _json_or_text if parse else (lambda text: text)
    out = {
        "ExecutionArn": described["executionArn"],
        "Input": convert(described.get("input")),
        "InputDetails": {"Included": True},
        "Name": described["name"],
    }
    if "output" in described:
        out["Output"] = convert(described["output"])
        out["OutputDetails"] = {"Included": True}
    if not parse:  # recorded AWS outputs of .sync have the redrive fields; those of .sync:2 not
        _copy(described, out, "redriveCount", "redriveStatus", "redriveStatusReason")
    out["StartDate"] = epoch_millis(described.get("startDate"))
    out["StateMachineArn"] = described["stateMachineArn"]
    out["Status"] = described["status"]
    out["StopDate"] = epoch_millis(described.get("stopDate"))
    _copy(described, out, "error", "cause")
    return out


def _copy(described: dict, out: dict, *keys: str) -> None:
    """Copy present, non-null fields, their names in PascalCase."""
    for key in keys:
        if described.get(key) is not None:
            out[key[0].upper() + key[1:]] = described[key]


def _sync_result(described: dict, parse: bool) -> TaskResult:
    shape = describe_shape(described, parse)
    if described["status"] == "SUCCEEDED":
        return TaskResult(output=shape)
    return TaskResult(error=TASK_FAILED, cause=dumps(shape))


# aws-sdk:sfn:* -------------------------------------------------------------------------------

SDK_ACTIONS = (
    "startExecution", "describeExecution", "stopExecution", "listExecutions", "describeStateMachine",
    "listStateMachines", "sendTaskSuccess", "sendTaskFailure", "sendTaskHeartbeat",
)
_DATE_KEYS = {"startDate", "stopDate", "creationDate", "updateDate", "redriveDate"}


class SfnSdk:
    """``arn:aws:states:::aws-sdk:sfn:ACTION``: the Step Functions API through the SDK integration
    (request-response only). Parameters are PascalCase; outputs the SDK v2 response, PascalCase,
    dates as ISO-8601; errors ``Sfn.<Code>Exception``."""

    def __init__(self, service):
        self.service = service

    async def invoke(self, request: TaskRequest) -> TaskResult:
        action = request.resource.action
        method = getattr(self.service, _snake(action), None)
        if action not in SDK_ACTIONS or method is None:
            return TaskResult(error=RUNTIME, cause=f"stepflow does not support the resource '{request.resource.arn}' locally.")
        kwargs = {_camel(key): value for key, value in parameters_of(request).items()}
        try:
            response = method(**kwargs)
            if asyncio.iscoroutine(response):
                response = await response
        except ApiError as err:
            return TaskResult(error=f"Sfn.{err.code}Exception", cause=sdk_v2_cause(err.message, "Sfn", err.status))
        return TaskResult(output=_pascal(response))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _pascal(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    if key in _DATE_KEYS and isinstance(value, (int, float)):
        return iso_timestamp(value)
    return value

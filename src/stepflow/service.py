"""The Step Functions API as Python methods (the control plane).

Each public method is one AWS API action: it takes the action's request fields (camelCase, as in
the API reference) and returns its response dict, or raises :class:`~stepflow.errors.ApiError`
with AWS's error code and message. The HTTP server only decodes, dispatches and encodes.
Methods run on the runner's event loop thread. An action that changes an execution calls
``runner.before_reply()`` before it returns, so that its transition is committed before the
caller hears of it (group commit: the runner commits now, or the HTTP API awaits the group
flush before replying); reads of executions call it first, so that no reply shows a transition
that is not committed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from stepflow.api import (
    ActivitiesMixin,
    AliasesMixin,
    MapRunsMixin,
    TagsMixin,
    TaskTokensMixin,
    TestStateMixin,
    VersionsMixin,
    resolve_target,
)
from stepflow.api.common import arn_kind, check_name, paginate, require, with_token
from stepflow.asl.json_text import dumps, size_in_bytes
from stepflow.asl.parse import compile_definition
from stepflow.asl.validate import load_definition, validate_definition
from stepflow.engine.interpreter import Limits
from stepflow.engine.runner import Runner
from stepflow.engine.snapshot import RUNNING, TERMINAL, Execution
from stepflow.errors import (
    ApiError,
    DefinitionError,
    ExecutionDropped,
    StepflowError,
    StoreUnavailableError,
)
from stepflow.store.records import StateMachineRecord

MAX_INPUT_BYTES = 256 * 1024
STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")
STOP_ATTEMPTS = 5  # StopExecution of an execution another process runs: loads and commits tried


class MachineCache:
    """Compiled definitions by revision id: a definition is parsed and compiled once."""

    def __init__(self, store):
        self.store = store
        self._compiled: dict[str, Any] = {}

    def compiled(self, revision_id: str, text: str | None = None):
        machine = self._compiled.get(revision_id)
        if machine is None:
            text = text if text is not None else self.store.definition(revision_id)
            machine = compile_definition(json.loads(text))
            self._compiled[revision_id] = machine
        return machine

    def add(self, revision_id: str, machine) -> None:
        self._compiled[revision_id] = machine

    def for_execution(self, exe: Execution):
        return self.compiled(exe.revision)


class StepFunctions(ActivitiesMixin, VersionsMixin, AliasesMixin, TagsMixin, TestStateMixin, MapRunsMixin, TaskTokensMixin):
    """AWS Step Functions actions over one store and one runner."""

    # Set by the runtime when mocks are loaded: check_test_case(machine_name, case) raises ApiError
    # for a test case the mock config lacks. None: a "#TestCase" ARN suffix is refused.
    check_test_case = None

    def __init__(self, store, runner: Runner, machines: MachineCache, clock, limits: Limits, region: str, account: str, callbacks=None):
        self.callbacks = callbacks
        self.store = store
        self.runner = runner
        self.machines = machines
        self.clock = clock
        self.limits = limits
        self.region = region
        self.account = account

    # -- state machines ---------------------------------------------------------------------

    def create_state_machine(self, name: str = None, definition: str = None, roleArn: str = None, type: str = "STANDARD", **extra) -> dict:
        require(name=name, definition=definition, roleArn=roleArn)
        _check_version_description(extra)
        check_name(name)
        if type not in STATE_MACHINE_TYPES:
            raise ApiError("ValidationException", f"Value '{type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")
        machine = self._compile(definition, type)
        arn = self._arn("stateMachine", name)
        existing = self.store.get_state_machine(arn)
        if existing is not None:
            if existing.definition == definition and existing.role_arn == roleArn and existing.type == type:
                return {"stateMachineArn": arn, "creationDate": existing.creation_date}
            raise ApiError("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
        record = StateMachineRecord(
            arn=arn, name=name, definition=definition, role_arn=roleArn, type=type,
            creation_date=self.clock.now(), revision_id=uuid.uuid4().hex,
            description=extra.get("description") or "",
            tags={t["key"]: t.get("value", "") for t in extra.get("tags") or []},
        )
        if extra.get("loggingConfiguration"):
            record.logging_configuration = extra["loggingConfiguration"]
        if extra.get("tracingConfiguration"):
            record.tracing_configuration = extra["tracingConfiguration"]
        self.store.put_state_machine(record)
        self.machines.add(record.revision_id, machine)
        out = {"stateMachineArn": arn, "creationDate": record.creation_date}
        if extra.get("publish"):
            out["stateMachineVersionArn"] = self.publish_version(record, extra.get("versionDescription"))["stateMachineVersionArn"]
        return out

    def describe_state_machine(self, stateMachineArn: str = None, **_) -> dict:
        if arn_kind(stateMachineArn) == "version":
            return self.describe_state_machine_version(stateMachineArn)
        record = self._machine(stateMachineArn)
        out = {
            "stateMachineArn": record.arn, "name": record.name, "status": record.status,
            "definition": record.definition, "roleArn": record.role_arn, "type": record.type,
            "creationDate": record.creation_date, "loggingConfiguration": record.logging_configuration,
            "tracingConfiguration": record.tracing_configuration, "revisionId": record.revision_id,
        }
        if record.description:
            out["description"] = record.description
        return out

    def update_state_machine(self, stateMachineArn: str = None, definition: str = None, roleArn: str = None, **extra) -> dict:
        record = self._machine(stateMachineArn)
        _check_version_description(extra)
        if definition is None and roleArn is None and not extra.get("loggingConfiguration") and not extra.get("tracingConfiguration"):
            raise ApiError("MissingRequiredParameter", "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")
        if definition is not None:
            machine = self._compile(definition, record.type)
            record.definition = definition
            record.revision_id = uuid.uuid4().hex
            self.machines.add(record.revision_id, machine)
        if roleArn is not None:
            record.role_arn = roleArn
        if extra.get("loggingConfiguration"):
            record.logging_configuration = extra["loggingConfiguration"]
        if extra.get("tracingConfiguration"):
            record.tracing_configuration = extra["tracingConfiguration"]
        record.update_date = self.clock.now()
        self.store.put_state_machine(record)
        out = {"updateDate": record.update_date, "revisionId": record.revision_id}
        if extra.get("publish"):
            out["stateMachineVersionArn"] = self.publish_version(record, extra.get("versionDescription"))["stateMachineVersionArn"]
        return out

    def delete_state_machine(self, stateMachineArn: str = None, **_) -> dict:
        require(stateMachineArn=stateMachineArn)
        _check_arn(stateMachineArn, "stateMachine")
        self.forget_versions_and_aliases(stateMachineArn)
        self.store.delete_state_machine(stateMachineArn)
        return {}

    def list_state_machines(self, maxResults: int = 100, nextToken: str = None, **_) -> dict:
        records = self.store.list_state_machines()
        page, token = paginate(records, maxResults, nextToken)
        items = [{"stateMachineArn": r.arn, "name": r.name, "type": r.type, "creationDate": r.creation_date} for r in page]
        return with_token({"stateMachines": items}, token)

    def validate_state_machine_definition(self, definition: str = None, type: str = "STANDARD", severity: str = "ERROR", maxResults: int = 100, **_) -> dict:
        require(definition=definition)
        try:
            diagnostics = validate_definition(load_definition(definition), state_machine_type=type)
        except DefinitionError as err:
            diagnostics = err.diagnostics
        if severity == "ERROR":
            diagnostics = [d for d in diagnostics if getattr(d, "severity", "ERROR") == "ERROR"]
        items = [
            {"severity": getattr(d, "severity", "ERROR"), "code": d.code, "message": d.message, "location": d.location}
            for d in diagnostics
        ]
        failed = any(i["severity"] == "ERROR" for i in items)
        return {"result": "FAIL" if failed else "OK", "diagnostics": items[:maxResults], "truncated": len(items) > maxResults}

    # -- executions ---------------------------------------------------------------------------

    def start_execution(self, stateMachineArn: str = None, name: str = None, input: str = None, traceHeader: str = None, **_) -> dict:
        exe = self._new_execution(stateMachineArn, name, input, traceHeader, sync=False)
        if isinstance(exe, dict):
            return exe
        # Its row is written with its first transition, in the group commit; the reply waits for it.
        return self.runner.start_new(exe, {"executionArn": exe.arn, "startDate": exe.start_date},
                                     lambda: ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{exe.arn}'"))

    async def start_sync_execution(self, stateMachineArn: str = None, name: str = None, input: str = None, traceHeader: str = None, **_) -> dict:
        exe = self._new_execution(stateMachineArn, name, input, traceHeader, sync=True)
        self.runner.start(exe)
        self.runner.before_reply()
        if not exe.finished:
            exe = await self._sync_end(exe)
        out = {
            "executionArn": exe.arn, "stateMachineArn": exe.state_machine_arn, "name": exe.name,
            "startDate": exe.start_date, "stopDate": exe.stop_date, "status": exe.status,
            "input": exe.input_text, "inputDetails": {"included": True},
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": int(max(100, (exe.stop_date - exe.start_date) * 1000))},
        }
        if exe.output_text is not None:
            out["output"] = exe.output_text
            out["outputDetails"] = {"included": True}
        _add_error(out, exe)
        return out

    async def _sync_end(self, exe: Execution) -> Execution:
        """The end of a StartSyncExecution's execution, or an AWS error if this process stopped
        running it first (ServiceUnavailable when a commit failed because the store is down,
        InternalFailure when it failed otherwise or another process committed the execution
        first): the caller never waits for an end that will not come."""
        try:
            if self.runner.active.get(exe.arn) is not exe:
                raise ExecutionDropped(exe.arn, "its progress was not committed")
            return await self.runner.wait(exe.arn)
        except ExecutionDropped as dropped:
            if isinstance(dropped.__cause__, StoreUnavailableError):
                raise StoreUnavailableError(str(dropped.__cause__)) from dropped
            raise ApiError("InternalFailure", str(dropped), 500) from dropped

    def describe_execution(self, executionArn: str = None, **_) -> dict:
        self.runner.before_reply()
        exe = self._execution(executionArn)
        out = {
            "executionArn": exe.arn, "stateMachineArn": exe.state_machine_arn, "name": exe.name,
            "status": exe.status, "startDate": exe.start_date,
            "input": exe.input_text, "inputDetails": {"included": True},
            "redriveCount": exe.redrive_count,
            "redriveStatus": _redrive_status(exe),
        }
        if exe.stop_date is not None:
            out["stopDate"] = exe.stop_date
        if exe.output_text is not None:
            out["output"] = exe.output_text
            out["outputDetails"] = {"included": True}
        if exe.trace_header:
            out["traceHeader"] = exe.trace_header
        _add_version_and_alias(out, exe)
        if exe.redrive_date is not None:
            out["redriveDate"] = exe.redrive_date
        if out["redriveStatus"] == "NOT_REDRIVABLE":
            out["redriveStatusReason"] = _not_redrivable_reason(exe)
        _add_error(out, exe)
        return out

    def describe_state_machine_for_execution(self, executionArn: str = None, **_) -> dict:
        exe = self._execution(executionArn)
        record = self.store.get_state_machine(exe.state_machine_arn)
        definition = self.store.definition(exe.revision) or (record.definition if record else "")
        out = {
            "stateMachineArn": exe.state_machine_arn, "name": exe.state_machine_name, "definition": definition,
            "roleArn": exe.role_arn, "updateDate": (record.update_date or record.creation_date) if record else exe.start_date,
            "revisionId": exe.revision,
        }
        if record is not None:
            out["loggingConfiguration"] = record.logging_configuration
            out["tracingConfiguration"] = record.tracing_configuration
        return out

    def stop_execution(self, executionArn: str = None, error: str = None, cause: str = None, **_) -> dict:
        """StopExecution: a RUNNING execution ends ABORTED, whichever process runs it."""
        exe = self._execution(executionArn)
        if exe.status == RUNNING:
            live = self.runner.active.get(exe.arn)
            if live is not None:
                self.runner.stop(live, error, cause)
                self.runner.before_reply()
                exe = live
            else:
                exe = self._take_over_and_stop(exe.arn, error, cause)
        return {"stopDate": exe.stop_date or self.clock.now()}

    def _take_over_and_stop(self, arn: str, error: str | None, cause: str | None) -> Execution:
        """Stop a RUNNING execution that another process runs (or that none does): take it over
        as RedriveExecution does, stop it here and commit at once. Its old owner's next commit is
        then refused, and its lease maintenance drops it sooner (``Runner.drop_unowned``). Tried
        again when the old owner committed between our load and our commit; returns the
        execution as stored (ABORTED, or ended otherwise meanwhile)."""
        for _ in range(STOP_ATTEMPTS):
            exe = self.store.get_execution(arn, with_frames=True)
            if exe is None or exe.status != RUNNING:
                return exe
            self.store.claim(arn, force=True)
            self.runner.stop(exe, error, cause)
            failure = self.runner.flush()  # now, even under group commit: a refusal means try again
            if failure is not None:
                raise failure
            stored = self.store.get_execution(arn)
            if stored.status != RUNNING:
                return stored
        raise ApiError("InternalFailure", f"could not stop {arn}: the process running it kept committing it first", 500)

    def redrive_execution(self, executionArn: str = None, clientToken: str = None, **_) -> dict:
        """RedriveExecution: FAILED, TIMED_OUT or ABORTED standard executions, within 14 days."""
        exe = self._execution(executionArn)
        reason = _redrive_refusal(exe, self.clock.now())
        if reason is not None:
            raise ApiError("ExecutionNotRedrivable", reason)
        if self.runner.active.get(exe.arn) is not exe or not exe.frames:
            exe = self.store.get_execution(exe.arn, with_frames=True)
        self.store.claim(exe.arn, force=True)
        self.runner.redrive(exe)
        self.runner.before_reply()
        return {"redriveDate": exe.redrive_date}

    def list_executions(self, stateMachineArn: str = None, statusFilter: str = None, maxResults: int = 100, nextToken: str = None, **_) -> dict:
        version_arn = None
        if arn_kind(stateMachineArn) == "version":
            version_arn, stateMachineArn = stateMachineArn, stateMachineArn.rsplit(":", 1)[0]
        if stateMachineArn is not None:
            self._machine(stateMachineArn)
        self.runner.before_reply()
        executions = self.store.list_executions(stateMachineArn, statusFilter)
        if version_arn is not None:
            executions = [e for e in executions if e.state_machine_version_arn == version_arn]
        page, token = paginate(executions, maxResults, nextToken)
        items = []
        for exe in page:
            item = {"executionArn": exe.arn, "stateMachineArn": exe.state_machine_arn, "name": exe.name, "status": exe.status, "startDate": exe.start_date}
            if exe.stop_date is not None:
                item["stopDate"] = exe.stop_date
            if exe.redrive_count:
                item["redriveCount"] = exe.redrive_count
            _add_version_and_alias(item, exe)
            items.append(item)
        return with_token({"executions": items}, token)

    def get_execution_history(self, executionArn: str = None, maxResults: int = 100, reverseOrder: bool = False, nextToken: str = None, includeExecutionData: bool = True, **_) -> dict:
        self.runner.before_reply()
        self._execution(executionArn)
        events = self.store.history(executionArn)
        if reverseOrder:
            events = events[::-1]
        page, token = paginate(events, maxResults or 100, nextToken, limit=1000)
        if not includeExecutionData:
            page = [_without_data(e) for e in page]
        return with_token({"events": page}, token)

    # -- helpers --------------------------------------------------------------------------------

    def _arn(self, kind: str, *parts: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:{kind}:" + ":".join(parts)

    def _compile(self, definition: str, machine_type: str):
        try:
            document = load_definition(definition)
            diagnostics = [d for d in validate_definition(document, state_machine_type=machine_type) if getattr(d, "severity", "ERROR") == "ERROR"]
        except DefinitionError as err:
            raise ApiError("InvalidDefinition", err.aws_message()) from None
        if diagnostics:
            raise ApiError("InvalidDefinition", DefinitionError(diagnostics).aws_message())
        try:
            return compile_definition(document)
        except (ValueError, TypeError, KeyError) as err:  # the validator missed it: still the caller's error
            raise ApiError("InvalidDefinition", f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {err}'") from None

    def _machine(self, arn: str | None) -> StateMachineRecord:
        require(stateMachineArn=arn)
        _check_arn(arn, "stateMachine")
        record = self.store.get_state_machine(arn)
        if record is None:
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
        return record

    def _execution(self, arn: str | None) -> Execution:
        require(executionArn=arn)
        if not isinstance(arn, str) or not arn.startswith("arn:") or (":execution:" not in arn and ":express:" not in arn):
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
        exe = self.runner.active.get(arn) or self.store.get_execution(arn)
        if exe is None:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return exe

    def _new_execution(self, sm_arn, name, input_text, trace_header, sync: bool):
        sm_arn, test_case = _split_test_case(sm_arn)  # Step Functions Local: "...:stateMachine:Name#Case"
        record, _, version_arn, alias_arn = resolve_target(self, sm_arn)  # a version or alias ARN runs that version
        if test_case is not None:
            if self.check_test_case is None:
                raise ApiError("ValidationException", f"Test case '{test_case}' given but no mock configuration was loaded (--mock-config)")
            self.check_test_case(record.name, test_case)
        if sync and record.type != "EXPRESS":
            raise ApiError("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
        input_text = "{}" if input_text is None else input_text
        value = _parse_input(input_text, self.limits)
        if name is None:
            name = str(uuid.uuid4())
        check_name(name)
        if record.type == "EXPRESS":
            arn = self._arn("express", record.name, name, str(uuid.uuid4()))
        else:
            arn = self._arn("execution", record.name, name)
            existing = self.runner.active.get(arn) or self.store.get_execution(arn)
            if existing is not None:
                if existing.status == RUNNING and existing.input_text == input_text:
                    return {"executionArn": existing.arn, "startDate": existing.start_date}
                raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        exe = Execution(
            arn=arn, name=name, state_machine_arn=record.arn, state_machine_name=record.name,
            input=value, input_text=input_text, start_date=self.clock.now(), role_arn=record.role_arn,
            type=record.type, trace_header=trace_header, revision=record.revision_id,
            state_machine_version_arn=version_arn, state_machine_alias_arn=alias_arn, test_case=test_case,
        )
        self.store.create_execution(exe, with_first_commit=not sync)  # StartExecution: see start_execution
        return exe


def _split_test_case(arn):
    """``(arn, test case)`` of a state machine ARN with an optional ``#TestCase`` suffix."""
    if isinstance(arn, str) and "#" in arn:
        arn, case = arn.split("#", 1)
        return arn, case
    return arn, None


def _check_version_description(extra: dict) -> None:
    if extra.get("versionDescription") is not None and not extra.get("publish"):
        raise ApiError("ValidationException", "Version description can only be set when publish is true")


def _add_version_and_alias(out: dict, exe: Execution) -> None:
    if exe.state_machine_version_arn:
        out["stateMachineVersionArn"] = exe.state_machine_version_arn
    if exe.state_machine_alias_arn:
        out["stateMachineAliasArn"] = exe.state_machine_alias_arn


def _parse_input(text: str, limits: Limits) -> Any:
    if not isinstance(text, str):
        raise ApiError("InvalidExecutionInput", "Invalid execution input: input must be a JSON string")
    if limits.payload_bytes is not None and size_in_bytes(text) > limits.payload_bytes:
        raise ApiError("InvalidExecutionInput", f"Input size exceeds the maximum of {limits.payload_bytes} bytes")
    try:
        return json.loads(text)
    except ValueError as err:
        raise ApiError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{err}'") from None


def _check_arn(arn: str, kind: str) -> None:
    if not isinstance(arn, str) or not arn.startswith("arn:") or f":{kind}:" not in arn:
        raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'")


def _add_error(out: dict, exe: Execution) -> None:
    if exe.error is not None:
        out["error"] = exe.error
    if exe.cause is not None:
        out["cause"] = exe.cause


REDRIVE_WINDOW_SECONDS = 14 * 24 * 3600


def _redrive_refusal(exe: Execution, now: float) -> str | None:
    """Why an execution cannot be redriven (AWS's conditions), or None."""
    if exe.type != "STANDARD":
        return f"Execution {exe.arn} is an EXPRESS execution and cannot be redriven."
    if exe.status not in ("FAILED", "TIMED_OUT", "ABORTED"):
        return f"Execution {exe.arn} has status {exe.status} and cannot be redriven."
    if exe.stop_date is not None and now - exe.stop_date > REDRIVE_WINDOW_SECONDS:
        return f"Execution {exe.arn} stopped more than 14 days ago and cannot be redriven."
    return None


def _redrive_status(exe: Execution) -> str:
    if exe.status in ("FAILED", "TIMED_OUT", "ABORTED") and exe.type == "STANDARD":
        return "REDRIVABLE"
    return "NOT_REDRIVABLE"


def _not_redrivable_reason(exe: Execution) -> str:
    if exe.type == "EXPRESS":
        return "Execution is EXPRESS and cannot be redriven"
    if exe.status == "RUNNING":
        return "Execution is RUNNING and cannot be redriven"
    return "Execution is SUCCEEDED and cannot be redriven"


def _without_data(event: dict) -> dict:
    out = {}
    for key, value in event.items():
        if isinstance(value, dict) and key.endswith("EventDetails"):
            value = {k: v for k, v in value.items() if k not in ("input", "output", "parameters")}
        out[key] = value
    return out


__all__ = ["StepFunctions", "MachineCache", "StepflowError", "TERMINAL", "dumps"]

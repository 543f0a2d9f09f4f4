"""Running the one state of a TestState request (see :mod:`stepflow.api.test_state`).

:class:`StateRun` walks the state's data flow with the parser's compiled pieces, recording each
step for ``inspectionData``; failures go through the state's Retry and Catch as the engine's
policies decide them (RETRIABLE, CAUGHT_ERROR) or end the test FAILED.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from stepflow.asl.dataflow import error_output, select_path
from stepflow.asl.env import Env
from stepflow.asl.json_text import dumps
from stepflow.asl.jsonpath import apply_result_path
from stepflow.asl.model import JSONATA, MISSING, StateScope
from stepflow.engine.policy import backoff_delay, catch_decision, error_matches
from stepflow.engine.tasks import TaskRequest, parse_resource
from stepflow.errors import RUNTIME, TIMEOUT, ApiError, StatesError

TEST_STATE_SECONDS = 300.0  # a TestState call runs at most five minutes
_NUMERIC_FIELDS = ("maxConcurrency", "toleratedFailureCount", "toleratedFailurePercentage")


async def run_state(service, request) -> dict:
    """Run the request's state and answer as TestState does."""
    run = StateRun(service, request)
    try:
        await run.execute()
    except StatesError as failure:
        run.failed(failure.error, failure.cause)
    return run.response()


class StateRun:
    """One state's evaluation: its scope, the data-flow steps seen, and the outcome."""

    def __init__(self, service, request):
        self.service = service
        self.req = request
        self.state = request.state
        self.jsonata = request.state.query_language == JSONATA
        self.scope = StateScope(request.input, request.input, request.context, request.variables)
        self.data: dict[str, Any] = {"input": request.input}
        self.details: dict[str, Any] = {}
        self.status = "SUCCEEDED"
        self.output: Any = MISSING
        self.next_state: str | None = None
        self.error: str | None = None
        self.cause: str | None = None
        self.assigned: dict | None = None

    # -- the states ---------------------------------------------------------------------------

    async def execute(self) -> None:
        kind = self.state.type
        if kind == "Pass":
            self.pass_state()
        elif kind == "Task":
            await self.task_state()
        elif kind == "Choice":
            self.choice_state()
        elif kind == "Fail":
            self.fail_state()
        elif kind in ("Map", "Parallel"):
            self.mocked_container()
        else:  # Wait and Succeed: checked, not waited for
            self.effective_input()
            if kind == "Wait":
                self.wait_fields()
            self.succeed(*self.state.io.output(self.scope, self.scope.effective), self.following())

    def pass_state(self) -> None:
        state = self.state
        if self.jsonata:
            self.succeed(*state.io.output(self.scope, self.scope.raw), self.following())
        elif state.result is not MISSING:
            self.data["result"] = state.result
            self.scope.effective = state.io.effective_input(self.scope)
            self.finish(state.result)
        else:
            self.effective_input()
            self.finish(self.arguments())

    async def task_state(self) -> None:
        self.effective_input()
        arguments = self.arguments()
        result = await self.call_resource(arguments)
        self.data["result"] = result
        self.finish(result)

    def choice_state(self) -> None:
        self.effective_input()
        scope, state = self.scope, self.state
        for rule in state.choices:
            if rule.condition(scope):
                io = rule.io if rule.io.has_output else state.io
                output, _ = io.output(scope, scope.effective)
                self.succeed(output, rule.io.assignments(scope, scope.effective), rule.next)
                return
        if state.default is None:
            raise StatesError("States.NoChoiceMatched", "No Matches!")
        self.succeed(*state.io.output(scope, scope.effective), state.default)

    def fail_state(self) -> None:
        self.effective_input()
        state, scope = self.state, self.scope
        error = state.error(scope) if state.error is not None else None
        cause = state.cause(scope) if state.cause is not None else None
        self.status, self.error, self.cause = "FAILED", error, cause

    def mocked_container(self) -> None:
        self.effective_input()
        if self.state.type == "Map":
            self.map_inspection()
        elif not self.jsonata and self.state.io.parameters is not None:
            self.data["afterParameters"] = self.arguments()
        result = self.mock_result()
        self.data["result"] = result
        self.finish(result)

    # -- data-flow steps ------------------------------------------------------------------------

    def effective_input(self) -> None:
        if self.jsonata:
            return
        self.scope.effective = self.state.io.effective_input(self.scope)
        self.data["afterInputPath"] = self.scope.effective

    def arguments(self) -> Any:
        value = self.state.io.arguments(self.scope)
        self.data["afterArguments" if self.jsonata else "afterParameters"] = value
        return value

    def finish(self, result: Any) -> None:
        """The result through ResultSelector, ResultPath and OutputPath (or JSONata Output)."""
        if self.jsonata:
            self.succeed(*self.state.io.output(self.scope, result), self.following())
            return
        io, scope = self.state.io, self.scope
        if io.result_selector is not None:
            result = io.result_selector(Env(result, scope.context, scope.variables))
        self.data["afterResultSelector"] = result
        assigned = io.assign(Env(result, scope.context, scope.variables)) if io.assign is not None else None
        merged = result if io.result_path is MISSING else apply_result_path(scope.raw, io.result_path, result)
        self.data["afterResultPath"] = merged
        self.succeed(select_path(io.output_path, merged, scope, "OutputPath"), assigned, self.following())

    def following(self) -> str | None:
        return None if self.state.end else self.state.next

    def succeed(self, output: Any, assigned: dict | None, next_state: str | None) -> None:
        self.output, self.assigned, self.next_state = output, assigned, next_state

    def wait_fields(self) -> None:
        state = self.state
        value = state.seconds(self.scope) if state.seconds is not None else state.timestamp(self.scope)
        if state.seconds is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise StatesError(RUNTIME, f"The SecondsPath parameter does not reference a valid non-negative integer: {value}")
        if state.timestamp is not None and not isinstance(value, str):
            raise StatesError(RUNTIME, f"The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {value}")

    def map_inspection(self) -> None:
        state, scope = self.state, self.scope
        items = state.items(scope) if state.items is not None else scope.effective
        if not self.jsonata:
            self.data["afterItemsPath"] = items
        if state.item_selector is not None and isinstance(items, list):
            self.data["afterItemSelector"] = [state.item_selector(scope, i, item) for i, item in enumerate(items)]
        self.data["maxConcurrency"] = state.max_concurrency(scope) if state.max_concurrency is not None else 0
        if state.tolerated_failure_count is not None:
            self.data["toleratedFailureCount"] = state.tolerated_failure_count(scope)
        if state.tolerated_failure_percentage is not None:
            self.data["toleratedFailurePercentage"] = state.tolerated_failure_percentage(scope)

    # -- the resource -----------------------------------------------------------------------------

    async def call_resource(self, arguments: Any) -> Any:
        if self.req.mock is not None:
            return self.mock_result()
        state, service = self.state, self.service
        resource = parse_resource(state.resource, service.region)
        timeout = TEST_STATE_SECONDS
        if state.timeout_seconds is not None:
            timeout = min(timeout, float(state.timeout_seconds(self.scope)))
        request = TaskRequest(
            step=f"test-state/{self.req.name}#{uuid.uuid4().hex}", execution_arn=self.req.context.get("Execution", {}).get("Id", ""),
            state_name=self.req.name, resource=resource, parameters=arguments, timeout_seconds=timeout,
            credentials=state.credentials or None, context=self.req.context,
        )
        try:
            result = await asyncio.wait_for(service.runner.tasks.invoke(request), timeout)
        except asyncio.TimeoutError:
            raise StatesError(TIMEOUT, None) from None
        if result.failed:
            raise StatesError(result.error, result.cause)
        return result.output

    def mock_result(self) -> Any:
        mock = self.req.mock
        if "errorOutput" in mock:
            failure = mock["errorOutput"]
            raise StatesError(failure["error"], failure.get("cause"))
        result = mock["result"]
        if isinstance(result, str):
            try:
                result = _loads(result)
            except ValueError:
                raise ApiError("ValidationException", "Mocked result must be valid JSON.") from None
        _check_container_result(self.state, result)
        return result

    # -- failure ------------------------------------------------------------------------------------

    def failed(self, error: str, cause: str | None) -> None:
        """Retry (RETRIABLE), else Catch (CAUGHT_ERROR), else FAILED."""
        self.error, self.cause, self.output, self.next_state = error, cause, MISSING, None
        retriers = getattr(self.state, "retry", ())
        for index, retrier in enumerate(retriers):
            if error_matches(retrier.error_equals, error):
                if self.req.retry_count < retrier.max_attempts:
                    self.status = "RETRIABLE"
                    self.details = {"retryIndex": index, "retryBackoffIntervalSeconds": int(backoff_delay(retrier, self.req.retry_count))}
                    return
                break
        catcher = catch_decision(getattr(self.state, "catch", ()), error)
        if catcher is None:
            self.status = "FAILED"
            return
        scope = StateScope(self.scope.raw, self.scope.raw, self.scope.context, self.scope.variables)
        try:
            self.output, self.assigned = catcher.io.output(scope, error_output(error, cause))
        except StatesError as failure:
            self.status, self.error, self.cause = "FAILED", failure.error, failure.cause
            return
        self.status, self.next_state = "CAUGHT_ERROR", catcher.next
        self.details = {"catchIndex": self.state.catch.index(catcher)}

    # -- the answer ---------------------------------------------------------------------------------

    def response(self) -> dict:
        out: dict[str, Any] = {"status": self.status}
        if self.output is not MISSING:
            out["output"] = dumps(self.output)
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        if self.next_state is not None:
            out["nextState"] = self.next_state
        if self.req.level != "INFO":
            out["inspectionData"] = self.inspection()
        return out

    def inspection(self) -> dict:
        data = {k: (v if k in _NUMERIC_FIELDS else dumps(v)) for k, v in self.data.items()}
        variables = {**self.req.variables, **(self.assigned or {})}
        if variables:
            data["variables"] = dumps(variables)
        if self.details:
            data["errorDetails"] = self.details
        return data


def _loads(text: str) -> Any:
    import json

    return json.loads(text)


def _check_container_result(state, result: Any) -> None:
    """Map and Parallel mocks must look like what those states return."""
    if state.type == "Map":
        if state.result_writer:
            if not isinstance(result, dict):
                raise ApiError("ValidationException", "Mocked result must be a JSON object.")
        elif not isinstance(result, list):
            raise ApiError("ValidationException", "Mocked result must be an array.")
    elif state.type == "Parallel":
        if not isinstance(result, list):
            raise ApiError("ValidationException", "Mocked result must be an array.")
        if len(result) != len(state.branches):
            raise ApiError("ValidationException", "Mocked result must contain the same number of items as number of Parallel branches.")

"""Task: hand the resource a request, wait for its result (or a timeout), then move on."""

from __future__ import annotations

import uuid

from stepflow.asl.json_text import dumps, size_in_bytes
from stepflow.engine import history
from stepflow.engine.states.base import StateHandler
from stepflow.engine.tasks import (
    ACTIVITY,
    LAMBDA,
    WAIT_FOR_TASK_TOKEN,
    TaskRequest,
    parse_resource,
)
from stepflow.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError


class TaskHandler(StateHandler):
    def enter(self, run, frame, state) -> None:
        self.attempt(run, frame, state)

    def retry(self, run, frame, state) -> None:
        self.attempt(run, frame, state)

    def attempt(self, run, frame, state, step: str | None = None, token: str | None = None) -> None:
        """Evaluate the parameters and issue the request (a new step unless re-issuing one)."""
        resource = parse_resource(state.resource)
        if step is None:
            frame.attempt += 1
            step = f"{frame.key}/{state.name}@{frame.entered_id}#{frame.attempt}"
        if token is None and (resource.pattern == WAIT_FOR_TASK_TOKEN or resource.kind == ACTIVITY):
            token = uuid.uuid4().hex + uuid.uuid4().hex
        extra = {"Task": {"Token": token}} if token else {}
        scope = run.scope(frame, state, **extra)
        parameters = state.io.arguments(scope)
        timeout = _seconds(state.timeout_seconds, scope, "TimeoutSeconds")
        heartbeat = _seconds(state.heartbeat_seconds, scope, "HeartbeatSeconds")
        reissue = frame.wait is not None
        old_wait = frame.wait or {}
        old_due = old_wait.get("due")
        frame.wait = {"kind": "task", "step": step, "resource": state.resource}
        if token:
            frame.wait["task_token"] = token
        if not reissue:
            self._scheduled_events(run, frame, resource, parameters, timeout, heartbeat)
        if reissue and old_wait.get("submitted"):
            frame.wait["submitted"] = True
        due = old_due or (run.clock.timeout_due(timeout) if timeout is not None else None)
        if due is not None:
            frame.wait.update(token=f"timeout:{step}", reason="task-timeout", due=due)
            run.timer(frame, frame.wait["token"], due)
        if heartbeat is not None:
            frame.wait["heartbeat_seconds"] = heartbeat
            run.arm_heartbeat(frame)
        run.touch(frame)
        run.run_task(frame, TaskRequest(
            step=step,
            execution_arn=run.exe.arn,
            state_name=state.name,
            resource=resource,
            parameters=parameters,
            timeout_seconds=timeout,
            heartbeat_seconds=heartbeat,
            task_token=token,
            credentials=state.credentials or None,
            context=scope.context or {},
            submitted=bool(frame.wait.get("submitted")),
        ))

    def _scheduled_events(self, run, frame, resource, parameters, timeout, heartbeat) -> None:
        event_type, details = history.task_scheduled(resource, dumps(parameters), timeout, heartbeat)
        run.emit(frame, event_type, details)
        if resource.kind != ACTIVITY:  # an activity starts when a worker takes it
            event_type, details = history.task_started(resource)
            run.emit(frame, event_type, details)

    def reissue(self, run, frame, state) -> None:
        wait = frame.wait
        self.attempt(run, frame, state, step=wait["step"], token=wait.get("task_token"))

    def task_done(self, run, frame, state, step, result) -> None:
        resource = parse_resource(state.resource)
        for event_type, details in result.events:
            run.emit(frame, event_type, details)
        if not result.failed:
            text = dumps(result.output)
            limit = run.limits.payload_bytes
            if limit is not None and len(text) * 4 > limit and size_in_bytes(text) > limit:
                result.error = DATA_LIMIT_EXCEEDED
                source = resource.arn if resource.kind == LAMBDA else resource.service
                result.cause = (
                    f"The state/task '{source}' returned a result with a size exceeding "
                    "the maximum number of bytes service limit."
                )
        frame.wait = None
        if result.failed:
            event_type, details = history.task_failed(resource, result.error, result.cause)
            run.emit(frame, event_type, details)
            run.state_failed(frame, state, result.error, result.cause)
            return
        event_type, details = history.task_succeeded(resource, text)
        run.emit(frame, event_type, details)
        scope = run.scope(frame, state)
        output, assigned = state.io.output(scope, result.output)
        run.exit_state(frame, state, output, assigned, None if state.end else state.next)


def _seconds(evaluator, scope, field: str) -> float | None:
    if evaluator is None:
        return None
    value = evaluator(scope)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        source = getattr(evaluator, "source", field)
        raise StatesError(RUNTIME, f"The {field} parameter must be a positive integer: {source} == {value}")
    return float(value)

"""One interpreter call on one execution: the primitives the state handlers use (enter and exit
states, fail and retry them, emit history events, start and stop child frames)."""

from __future__ import annotations

import sys
import time
from collections import ChainMap
from typing import TYPE_CHECKING, Any

from stepflow.asl.dataflow import error_output
from stepflow.asl.env import EMPTY_VARIABLES, Env
from stepflow.asl.json_text import dumps, size_in_bytes
from stepflow.asl.model import State, StateMachine, StateScope
from stepflow.engine import history
from stepflow.engine.child_frames import ChildFrames
from stepflow.engine.clock import Clock
from stepflow.engine.commands import CancelTask, Progress, RunTask, StartTimer
from stepflow.engine.context import context_object, execution_context
from stepflow.engine.policy import catch_decision, retry_decision, will_retry
from stepflow.engine.snapshot import (
    FAILED,
    ROOT,
    RUNNING,
    SUCCEEDED,
    Execution,
    Frame,
)
from stepflow.engine.states import HANDLERS
from stepflow.engine.tasks import TaskRequest, parse_resource
from stepflow.errors import (
    DATA_LIMIT_EXCEEDED,
    HEARTBEAT_TIMEOUT,
    INTRINSIC_FAILURE,
    PARAMETER_PATH_FAILURE,
    QUERY_EVALUATION_ERROR,
    RESULT_PATH_MATCH_FAILURE,
    RUNTIME,
    TIMEOUT,
    StatesError,
)

if TYPE_CHECKING:
    from stepflow.engine.interpreter import Interpreter

_NO_VALUE = object()
_NO_LIMIT = sys.maxsize  # an int: int-to-int comparisons are the fast ones

_SMALL_PAYLOAD = history.HISTORY_PAYLOAD_LIMIT // 4  # characters that cannot exceed the byte limit

DEFAULT_BUDGET = 2000  # transitions per call before yielding to other executions

# Errors raised while evaluating a state's fields; AWS prefixes their cause with the state.
_LOCATED_ERRORS = frozenset(
    {
        RUNTIME, QUERY_EVALUATION_ERROR, INTRINSIC_FAILURE, PARAMETER_PATH_FAILURE, RESULT_PATH_MATCH_FAILURE,
        "States.ReferencePathConflict",
    }
)


def now_function(clock: Clock):
    """``clock.now``, or ``time.time`` itself for the real clock (what Clock.now returns, without
    a Python call: timestamps are read several times per transition)."""
    now = clock.now
    return time.time if getattr(now, "__func__", None) is Clock.now else now


class Run(ChildFrames):
    """One interpreter call on one execution: the primitives state handlers use."""

    def __init__(self, ix: "Interpreter", exe: Execution, machine: StateMachine):
        self.ix = ix
        self.exe = exe
        self.machine = machine
        self.clock = ix.clock
        self.now = now_function(ix.clock)
        self.limits = ix.limits
        # Read on every event / state exit: the limits as plain attributes, None as "no limit".
        self.max_events = ix.limits.history_events if ix.limits.history_events is not None else _NO_LIMIT
        self.max_payload = ix.limits.payload_bytes if ix.limits.payload_bytes is not None else _NO_LIMIT
        self.programs = machine.programs
        self.inherits_variables = machine.assigns_variables  # else no frame ever has variables
        self.progress = Progress(first_event=len(exe.events))
        self.mark_dirty = self.progress.dirty.add  # touch() by key, without a Python call (hot path)
        self._text_value: Any = _NO_VALUE  # the last value text_of encoded, and its text
        self._text = ""

    # bookkeeping ---------------------------------------------------------------------------

    def finish(self, budget: int) -> Progress:
        used = 0
        ready = self.exe.ready
        while ready and used < budget and self.exe.status == RUNNING:
            used += self.advance(ready.popleft(), budget - used)
        self.progress.more = bool(ready) and self.exe.status == RUNNING
        return self.progress

    def touch(self, frame: Frame) -> None:
        self.progress.dirty.add(frame.key)

    def text_of(self, value: Any) -> str:
        """``dumps(value)``, remembering the last value encoded: a state that passes its input on
        unchanged (Pass, Choice, Wait without data-flow fields) then costs no second encoding.
        Identity means the same text, because the engine never mutates a value once made."""
        if value is self._text_value:
            return self._text
        text = dumps(value)
        self._text_value, self._text = value, text
        return text

    def emit(self, frame: Frame | None, event_type: str, details: dict | None, now: float | None = None) -> int:
        """Append one history event (the hottest function: keep it lean)."""
        exe = self.exe
        if frame is not None:
            if frame.silent:
                return frame.last_event
            previous = frame.last_event
        else:
            previous = None
        if exe.status != RUNNING and not event_type.startswith("Execution"):
            return previous or 0  # nothing follows the execution's end
        event_id = exe.next_event_id
        exe.next_event_id = event_id + 1
        if previous is None:
            previous = event_id - 1
        if now is None:
            now = self.now()
        exe.events.append((event_id, previous, now, event_type, details))  # history.as_dict reads it
        if frame is not None:
            frame.last_event = event_id
        if event_id > self.max_events and exe.status == RUNNING and event_type != "ExecutionFailed":
            self.end_execution(
                FAILED, "ExecutionFailed", error=RUNTIME,
                cause=f"The execution reached the maximum number of history events ({self.max_events}).",
            )
        return event_id

    def timer(self, frame: Frame, token: str, due: float) -> None:
        self.progress.commands.append(StartTimer(frame.key, token, due))

    def run_task(self, frame: Frame, request: TaskRequest) -> None:
        self.exe.inflight[request.step] = frame.key
        self.progress.commands.append(RunTask(request))

    def frame_waiting(self, step: str) -> Frame | None:
        key = self.exe.inflight.pop(step, None)
        frame = self.exe.frames.get(key) if key is not None else None
        if frame is None or frame.wait is None or frame.wait.get("step") != step or self.exe.status != RUNNING:
            return None
        if frame.status != RUNNING:
            return None
        return frame

    def frame_for_step(self, step: str) -> Frame | None:
        """The running frame whose task is this step (without consuming it), or None."""
        frame = self.exe.frames.get(self.exe.inflight.get(step, ""))
        if frame is None or frame.wait is None or frame.wait.get("step") != step or frame.status != RUNNING:
            return None
        return frame

    def arm_heartbeat(self, frame: Frame) -> None:
        wait = frame.wait
        count = wait.get("heartbeats", 0) + 1
        due = self.clock.timeout_due(wait["heartbeat_seconds"])
        wait.update(heartbeats=count)
        self.touch(frame)
        if due is not None:
            wait.update(heartbeat_token=f"heartbeat:{wait['step']}:{count}", heartbeat_due=due)
            self.timer(frame, wait["heartbeat_token"], due)

    def cancel_task(self, frame: Frame) -> None:
        wait = frame.wait
        if wait is not None and wait.get("kind") == "task":
            self.exe.inflight.pop(wait["step"], None)
            self.progress.commands.append(CancelTask(wait["step"]))

    # state lookup and evaluation scope ---------------------------------------------------

    def state(self, frame: Frame) -> State:
        return self.programs[frame.program].states[frame.state]

    def handler(self, frame: Frame):
        return HANDLERS[self.state(frame).type]

    def env(self, frame: Frame, state: State) -> Env:
        """What the JSONPath expressions of a state without InputPath read (``scope`` without the
        StateScope: a JSONPath Choice reads nothing else)."""
        context = self.context(frame, state) if state.uses_context else None
        return Env(frame.input, context, self._variables_of(frame))

    def _variables_of(self, frame: Frame):
        """``variables(frame)``, without its walk up the frames where none can hold any."""
        if frame.vars or (frame.parent is not None and self.inherits_variables):
            return self.variables(frame)
        return EMPTY_VARIABLES

    def variables(self, frame: Frame):
        chain = []
        current: Frame | None = frame
        while current is not None:
            if current.vars:
                chain.append(current.vars)
            current = self.exe.frames.get(current.parent) if current.parent is not None else None
        if not chain:
            return EMPTY_VARIABLES
        return chain[0] if len(chain) == 1 else ChainMap(*chain)

    def context(self, frame: Frame, state: State, **extra: Any) -> dict | None:
        if not state.uses_context:
            return None
        exe_ctx = execution_context(self.exe)
        retry_count = (sum(frame.retries) if frame.retries else 0) if getattr(state, "retry", ()) else None
        return context_object(exe_ctx, self.exe, state.name, frame, retry_count, **extra)

    def scope(self, frame: Frame, state: State, **context_extra: Any) -> StateScope:
        """The evaluation scope of the frame's current state (InputPath applied)."""
        context = self.context(frame, state, **context_extra) if state.uses_context else None
        scope = StateScope(frame.input, frame.input, context, self._variables_of(frame))
        if not state.io.passes_input:  # else there is no InputPath: the effective input is the raw one
            scope.effective = state.io.effective_input(scope)
        return scope

    # running frames ------------------------------------------------------------------------

    def advance(self, frame: Frame, budget: int) -> int:
        """Enter states in this frame until it waits, ends, or the budget is used."""
        used = 0
        exe = self.exe
        while frame.wait is None and frame.state is not None and frame.status == RUNNING and exe.status == RUNNING:
            if used >= budget:
                exe.ready.appendleft(frame)
                break
            self.enter(frame)
            used += 1
        return used

    def enter(self, frame: Frame) -> None:
        """Enter the frame's current state and run it as far as it goes (the hot path)."""
        state = self.programs[frame.program].states[frame.state]
        text = frame.input_text if frame.input_text is not None else self.text_of(frame.input)
        frame.entered_at = now = self.now()
        frame.retries = None
        frame.attempt = 0
        if len(text) <= _SMALL_PAYLOAD:  # never truncated: the details dict without a call
            details = (state.name, text)  # compact: history.as_dict makes it AWS's dict
        else:
            details = history.state_entered(state.name, text)
        frame.entered_id = self.emit(frame, state.entered_event, details, now)
        self.mark_dirty(frame.key)
        try:
            HANDLERS[state.type].enter(self, frame, state)
        except StatesError as failure:
            self.evaluation_failed(frame, failure)

    def guard(self, frame: Frame, action) -> None:
        """Run a handler step; an ASL failure it raises fails the state."""
        try:
            action()
        except StatesError as failure:
            self.evaluation_failed(frame, failure)

    def evaluation_failed(self, frame: Frame, failure: StatesError) -> None:
        """A handler step raised an ASL failure: the frame's current state fails with it."""
        self.state_failed(frame, self.state(frame), failure.error, failure.cause, evaluation=True)

    def timer_fired(self, frame: Frame, token: str) -> None:
        wait = frame.wait
        state = self.state(frame)
        if token == wait.get("heartbeat_token"):
            self.task_timed_out(frame, state, HEARTBEAT_TIMEOUT)
        elif wait.get("reason") == "task-timeout":
            self.task_timed_out(frame, state)
        elif wait.get("reason") == "retry":
            frame.wait = None
            self.touch(frame)
            self.handler(frame).retry(self, frame, state)
        else:
            frame.wait = None
            self.touch(frame)
            self.handler(frame).timer_fired(self, frame, state)

    def task_timed_out(self, frame: Frame, state: State, error: str = TIMEOUT) -> None:
        resource = frame.wait["resource"]
        self.cancel_task(frame)
        frame.wait = None
        event_type, details = history.task_failed(parse_resource(resource), error, None, timed_out=True)
        self.emit(frame, event_type, details)
        self.state_failed(frame, state, error, None)

    # leaving a state -----------------------------------------------------------------------

    def exit_state(self, frame: Frame, state: State, output: Any, assigned: dict | None, next_state: str | None) -> None:
        """Record StateExited, apply Assign, and move on (or finish the frame at an End)."""
        # text_of's cache test inlined: a state that passes its input on hits it, without a call.
        text = self._text if output is self._text_value else self.text_of(output)
        limit = self.max_payload
        if len(text) * 4 > limit and size_in_bytes(text) > limit:
            cause = f"The state/task '{state.name}' returned a result with a size exceeding the maximum number of bytes service limit."
            self.state_failed(frame, state, DATA_LIMIT_EXCEEDED, cause)
            return
        if assigned is None and len(text) <= _SMALL_PAYLOAD:
            details = (state.name, text)  # compact: history.as_dict makes it AWS's dict
        else:
            details = history.state_exited(state.name, text, assigned)
        self.emit(frame, state.exited_event, details)
        if assigned:
            frame.vars = {**frame.vars, **assigned} if frame.vars else dict(assigned)
        frame.wait = None
        self.mark_dirty(frame.key)
        if next_state is None:
            self.frame_succeeded(frame, output, text)
        else:
            frame.state = next_state
            frame.input = output
            frame.input_text = text

    def state_failed(self, frame: Frame, state: State, error: str, cause: str | None, evaluation: bool = False,
                     failed_event: str | None = None) -> None:
        """A state failed: Retry, else Catch, else the frame fails. ``failed_event`` (such as
        MapStateFailed) follows an EvaluationFailed event unless a retry comes next."""
        retriers = getattr(state, "retry", ())
        if evaluation and error in _LOCATED_ERRORS:
            cause = (
                f"An error occurred while executing the state '{state.name}' "
                f"(entered at the event id #{frame.entered_id}). {cause}"
            )
            if error == QUERY_EVALUATION_ERROR:
                self.emit(frame, "EvaluationFailed", {"error": error, "cause": cause, "state": state.name})
                if failed_event is not None and not will_retry(retriers, error, frame.retries):
                    self.emit(frame, failed_event, None)
        self.touch(frame)
        decision = retry_decision(retriers, error, frame.retries, self.ix.rng) if retriers else None
        catcher = None if decision is not None else catch_decision(getattr(state, "catch", ()), error)
        if decision is None and catcher is None:
            # Uncaught: the frame keeps its state, input and children, so a redrive can resume here.
            self.frame_failed(frame, error, cause)
            return
        HANDLERS[state.type].release(self, frame, state)
        frame.wait = None
        if decision is not None:
            self.schedule_retry(frame, decision)
            return
        if catcher is not None:
            try:
                output, assigned = catcher.io.output(self.catch_scope(frame, state), error_output(error, cause))
            except StatesError as failure:
                self.frame_failed(frame, failure.error, failure.cause)
                return
            self.exit_state(frame, state, output, assigned, catcher.next)
            return
        self.frame_failed(frame, error, cause)

    def catch_scope(self, frame: Frame, state: State) -> StateScope:
        return StateScope(frame.input, frame.input, self.context(frame, state), self.variables(frame))

    def schedule_retry(self, frame: Frame, decision) -> None:
        retries = list(frame.retries or ())
        while len(retries) <= decision.index:
            retries.append(0)
        retries[decision.index] += 1
        frame.retries = retries
        token = f"retry:{frame.entered_id}:{sum(retries)}"
        due = self.clock.due_in(decision.delay)
        frame.wait = {"kind": "timer", "reason": "retry", "token": token, "due": due}
        self.timer(frame, token, due)

    # frames ending ------------------------------------------------------------------------

    def frame_succeeded(self, frame: Frame, output: Any, text: str) -> None:
        frame.state = None
        if frame.parent is None:
            self.exe.output_text = text
            out, info = history.payload_text(text)
            self.end_execution(SUCCEEDED, "ExecutionSucceeded", details={"output": out, "outputDetails": info})
            return
        frame.status = SUCCEEDED
        frame.output = output
        self.notify_parent(frame)

    def frame_failed(self, frame: Frame, error: str, cause: str | None) -> None:
        """The frame ends FAILED; ``frame.state`` stays the failed state (for redrive)."""
        frame.status = FAILED
        frame.error = error
        frame.cause = cause
        self.touch(frame)
        if frame.parent is None:
            self.end_execution(FAILED, "ExecutionFailed", error=error, cause=cause)
            return
        self.notify_parent(frame)

    def notify_parent(self, child: Frame) -> None:
        """Tell the Map or Parallel state that started ``child`` that it ended (once per
        iteration, so without the closure ``guard`` takes)."""
        parent = self.exe.frames[child.parent]
        state = self.programs[parent.program].states[parent.state]
        try:
            HANDLERS[state.type].child_done(self, parent, state, child)
        except StatesError as failure:
            self.evaluation_failed(parent, failure)
        if parent.wait is None:  # else it still waits (for other children): no call
            self.requeue(parent)

    def redrive_execution(self) -> None:
        """RedriveExecution: re-run the unsuccessful states, keeping every successful iteration."""
        exe = self.exe
        exe.status = RUNNING
        exe.redrive_count += 1
        exe.redrive_date = self.clock.now()
        exe.stop_date = None
        exe.error = exe.cause = None
        root = exe.frames[ROOT]
        self.emit(root, "ExecutionRedriven", {"redriveCount": exe.redrive_count})
        self.revive(root)

    def revive(self, frame: Frame) -> None:
        """Make a stopped frame run again: its children if it waits on them, else its state."""
        wait = frame.wait
        frame.status = RUNNING
        frame.error = frame.cause = None
        self.mark_dirty(frame.key)
        if wait is not None and wait.get("kind") == "children":
            HANDLERS[self.state(frame).type].revive(self, frame, self.state(frame))
            return
        frame.wait = None
        if frame.state is not None:
            self.exe.ready.append(frame)

    def requeue(self, frame: Frame) -> None:
        """Put a frame that can run again (its wait ended) back in the work queue."""
        if frame.wait is None and frame.state is not None and frame.status == RUNNING:
            self.exe.ready.append(frame)

    def end_execution(self, status: str, event_type: str, *, error=None, cause=None, details=None) -> None:
        exe = self.exe
        for frame in exe.frames.values():
            self.cancel_task(frame)
        exe.status = status
        exe.error = error
        exe.cause = cause
        exe.stop_date = self.clock.now()
        exe.ready.clear()
        self.emit(exe.frames.get(ROOT), event_type, details if details is not None else history.error_details(error, cause))
        self.touch(exe.frames[ROOT])

    # after a load ----------------------------------------------------------------------------

    def reactivate(self, frame: Frame) -> None:
        if frame.status != RUNNING or self.exe.status != RUNNING:
            return
        wait = frame.wait
        if wait is None:
            if frame.state is not None:
                self.exe.ready.append(frame)
            return
        if wait.get("kind") == "task":
            self.handler(frame).reissue(self, frame, self.state(frame))
        elif wait.get("kind") == "timer":
            self.timer(frame, wait["token"], wait["due"])

"""Pass, Succeed and Fail: states that finish as soon as they are entered."""

from __future__ import annotations

from stepflow.asl.model import JSONATA, MISSING
from stepflow.engine.states.base import StateHandler
from stepflow.errors import RUNTIME, StatesError


class PassHandler(StateHandler):
    def enter(self, run, frame, state) -> None:
        if state.io.passes_input and state.result is MISSING:  # nothing to evaluate: the input goes on
            run.exit_state(frame, state, frame.input, None, None if state.end else state.next)
            return
        scope = run.scope(frame, state)
        if state.query_language == JSONATA:
            result = scope.raw
        elif state.result is not MISSING:
            result = state.result
        else:
            result = state.io.arguments(scope)
        output, assigned = state.io.output(scope, result)
        run.exit_state(frame, state, output, assigned, None if state.end else state.next)


class SucceedHandler(StateHandler):
    def enter(self, run, frame, state) -> None:
        scope = run.scope(frame, state)
        output, assigned = state.io.output(scope, scope.effective)
        run.exit_state(frame, state, output, assigned, None)


class FailHandler(StateHandler):
    def enter(self, run, frame, state) -> None:
        scope = run.scope(frame, state)
        error = _text(state.error(scope), "Error") if state.error is not None else None
        cause = _text(state.cause(scope), "Cause") if state.cause is not None else None
        run.frame_failed(frame, error, cause)


def _text(value, field: str):
    if isinstance(value, str):
        return value
    raise StatesError(RUNTIME, f"The {field} field must be a string, but was: {value!r}")

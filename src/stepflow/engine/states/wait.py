"""Wait: for Seconds / Timestamp (or their Path / JSONata forms), then move on."""

from __future__ import annotations

import datetime as dt
import re

from stepflow.asl.model import JSONATA
from stepflow.engine.states.base import StateHandler
from stepflow.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class WaitHandler(StateHandler):
    def enter(self, run, frame, state) -> None:
        scope = run.scope(frame, state)
        if state.seconds is not None:
            due = run.clock.due_in(_seconds(state, state.seconds(scope)))
        else:
            due = run.clock.due_at(_timestamp(state, state.timestamp(scope)))
        token = f"wait:{frame.entered_id}"
        frame.wait = {"kind": "timer", "reason": "wait", "token": token, "due": due}
        run.timer(frame, token, due)

    def timer_fired(self, run, frame, state) -> None:
        scope = run.scope(frame, state)
        output, assigned = state.io.output(scope, scope.effective)
        run.exit_state(frame, state, output, assigned, None if state.end else state.next)


def _seconds(state, value) -> float:
    source = _source(state, "Seconds")
    if state.query_language == JSONATA:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{source}' specified for the field 'Seconds' returned an unexpected result type. "
                f"Expected 'integer', but was '{type(value).__name__}' for value: {value}",
            )
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and value != int(value)):
        raise StatesError(RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: {source} == {value}")
    if value < 0:
        raise StatesError(RUNTIME, f"The SecondsPath parameter references a negative value: {source} == {value}")
    return float(value)


def _timestamp(state, value) -> float:
    if isinstance(value, str) and _RFC3339.match(value):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    source = _source(state, "Timestamp")
    if state.query_language == JSONATA:
        raise StatesError(
            QUERY_EVALUATION_ERROR,
            f"The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {value}",
        )
    raise StatesError(
        RUNTIME,
        f"The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {source} == {value}",
    )


def _source(state, field: str) -> str:
    return getattr(state.seconds if field == "Seconds" else state.timestamp, "source", field)

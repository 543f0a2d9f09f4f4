"""Choice: the first matching rule decides the next state; else Default; else failure."""

from __future__ import annotations

from stepflow.engine.states.base import StateHandler
from stepflow.errors import NO_CHOICE_MATCHED, StatesError


class ChoiceHandler(StateHandler):
    def enter(self, run, frame, state) -> None:
        scope = run.scope(frame, state)
        for rule in state.choices:
            if rule.condition(scope):
                output, assigned = _output(rule.io, state.io, scope)
                run.exit_state(frame, state, output, assigned, rule.next)
                return
        if state.default is None:
            raise StatesError(NO_CHOICE_MATCHED, "No Matches!")
        output, assigned = state.io.output(scope, scope.effective)
        run.exit_state(frame, state, output, assigned, state.default)


def _output(rule_io, state_io, scope):
    """A matched rule's own Assign applies (not the state's); its JSONata Output, if any,
    replaces the state's."""
    output_io = rule_io if rule_io.has_output else state_io
    output, _ = output_io.output(scope, scope.effective)
    return output, rule_io.assignments(scope, scope.effective)

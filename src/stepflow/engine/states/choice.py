"""Choice: the first matching rule decides the next state; else Default; else failure."""

from __future__ import annotations

from stepflow.asl.env import Env
from stepflow.engine.states.base import StateHandler
from stepflow.errors import NO_CHOICE_MATCHED, StatesError


class ChoiceHandler(StateHandler):
    def enter(self, run, frame, state) -> None:
        if state.passes_input:
            self._choose(run, frame, state)
            return
        scope = run.scope(frame, state)
        rule = _first_match(state.choices, scope)
        if rule is not None:
            output, assigned = _output(rule.io, state.io, scope)
            run.exit_state(frame, state, output, assigned, rule.next)
            return
        if state.default is None:
            raise StatesError(NO_CHOICE_MATCHED, "No Matches!")
        output, assigned = state.io.output(scope, scope.effective)
        run.exit_state(frame, state, output, assigned, state.default)

    def _choose(self, run, frame, state) -> None:
        """A Choice with nothing to apply but its JSONPath rules: they read one Env (no scope),
        and the input goes on unchanged."""
        env = run.env(frame, state)
        for rule in state.choices:
            if rule.test(env):
                run.exit_state(frame, state, frame.input, None, rule.next)
                return
        if state.default is None:
            raise StatesError(NO_CHOICE_MATCHED, "No Matches!")
        run.exit_state(frame, state, frame.input, None, state.default)


def _first_match(rules, scope):
    """The first rule whose condition holds, or None. JSONPath rules (``rule.test``) all read
    one Env, built once."""
    env = None
    for rule in rules:
        if rule.test is None:
            if rule.condition(scope):
                return rule
            continue
        if env is None:
            env = Env(scope.effective, scope.context, scope.variables)
        if rule.test(env):
            return rule
    return None


def _output(rule_io, state_io, scope):
    """A matched rule's own Assign applies (not the state's); its JSONata Output, if any,
    replaces the state's."""
    output_io = rule_io if rule_io.has_output else state_io
    output, _ = output_io.output(scope, scope.effective)
    return output, rule_io.assignments(scope, scope.effective)

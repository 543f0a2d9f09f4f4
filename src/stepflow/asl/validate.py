"""Static validation of Amazon States Language definitions, as AWS does it.

``validate_definition`` returns every problem of a definition, the way
ValidateStateMachineDefinition reports them (code, message, location, severity);
``validate_or_raise`` raises :class:`~stepflow.errors.DefinitionError` like CreateStateMachine.

Codes: SCHEMA_VALIDATION_FAILED (fields, types, values), MISSING_TRANSITION_TARGET (a Next,
Default, Choices[].Next, Catch[].Next or StartAt naming no state of its scope; a state nothing
routes to), MISSING_END_STATE (no terminal state at the top level), DUPLICATE_STATE_NAME,
INVALID_STATE_NAME, INVALID_RESOURCE, INVALID_LABEL_NAME, INVALID_JSONATA_EXPRESSION,
UNSUPPORTED_JSONATA_EXPRESSION, INVALID_JSON_DESCRIPTION, MISSING_DESCRIPTION; warnings
NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC.

Scoping, as measured on AWS: state names are unique across the whole machine (branches and
item processors included), transitions stay inside their own ``States``; a state without
``QueryLanguage`` takes the *machine's* language (not its enclosing Map's or Parallel's); a
state may upgrade to JSONata but not downgrade to JSONPath under a JSONata machine.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from stepflow.errors import DefinitionError, Diagnostic

from .validate_fields import (
    Report,
    Spec,
    Where,
    check_object,
    enum,
    integer,
    obj,
    string,
)
from .validate_states import validate_state

__all__ = ["load_definition", "validate_definition", "validate_or_raise"]

MISSING_TARGET = "MISSING_TRANSITION_TARGET"
MAX_STATE_NAME_LENGTH = 80


def _states_object(rep: Report, value: Any, at: Where, name: str) -> None:
    if not isinstance(value, dict):
        rep.error("Expected value of type [OBJECT]", at.loc)


_SCOPE = {"Comment": string, "StartAt": string, "States": _states_object}
TOP = Spec({**_SCOPE, "Version": string, "TimeoutSeconds": integer(0),
            "QueryLanguage": enum("JSONPath", "JSONata")}, required=("StartAt", "States"))
BRANCH = Spec(_SCOPE, required=("StartAt", "States"))
PROCESSOR = Spec({**_SCOPE, "ProcessorConfig": obj(Spec({
    "Mode": enum("INLINE", "DISTRIBUTED"), "ExecutionType": enum("STANDARD", "EXPRESS")}))},
    required=("StartAt", "States"))


def load_definition(text: str) -> dict:
    """Parse a definition's JSON text; not JSON or not an object raises DefinitionError."""
    if not isinstance(text, str) or not text.strip() or text.strip() == "null":
        raise DefinitionError([Diagnostic(
            "MISSING_DESCRIPTION", "Received a null or empty workflow input.", "")])
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [Diagnostic("INVALID_JSON_DESCRIPTION", _json_message(exc), "")]) from None
    if not isinstance(value, dict):
        raise DefinitionError([Diagnostic(
            "INVALID_JSON_DESCRIPTION", "The state machine definition must be a JSON object", "")])
    return value


def _json_message(exc: json.JSONDecodeError) -> str:
    """A parser message in the style of the Jackson parser AWS uses."""
    at = f" at line: {exc.lineno}, column: {exc.colno}"
    if exc.pos >= len(exc.doc):
        return "Unexpected end-of-input" + at
    char = exc.doc[exc.pos]
    return f"Unexpected character ('{char}' (code {ord(char)})): {exc.msg}{at}"


def validate_definition(definition: Any, *, state_machine_type: str = "STANDARD",
                        severity: str = "ERROR") -> list[Diagnostic]:
    """Every problem of a definition (a parsed dict), as AWS's diagnostics.

    ``severity="ERROR"`` (AWS's default) returns errors only; ``"WARNING"`` adds warnings.
    """
    rep = Report(machine_type=state_machine_type)
    at = Where("")
    if check_object(rep, definition, at, TOP):
        rep.machine_jsonata = "QueryLanguage" in definition and \
            definition["QueryLanguage"] != "JSONPath"
        _validate_scope(rep, definition, at.loc, names={}, top=True)
    return [d for d in rep.diagnostics if severity == "WARNING" or d.severity == "ERROR"]


def validate_or_raise(definition: Any, **kwargs: Any) -> None:
    """Raise DefinitionError (AWS InvalidDefinition) when the definition has any ERROR."""
    kwargs["severity"] = "ERROR"
    errors = validate_definition(definition, **kwargs)
    if errors:
        raise DefinitionError(errors)


def _validate_scope(rep: Report, scope: dict, loc: str, *, names: dict[str, str],
                    top: bool) -> None:
    """Validate the states of one scope (top level, branch or item processor), then its graph."""
    states = scope.get("States")
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        at = Where(f"{loc}/States/{name}", rep.machine_jsonata)
        _check_name(rep, name, at.loc, names)
        validate_state(rep, state, at)
        for sub, sub_loc, spec in _sub_workflows(state, at.loc):
            if check_object(rep, sub, Where(sub_loc, rep.machine_jsonata), spec):
                _validate_scope(rep, sub, sub_loc, names=names, top=False)
    _check_graph(rep, scope, states, loc, top)


def _check_name(rep: Report, name: str, loc: str, names: dict[str, str]) -> None:
    if not 0 < len(name) <= MAX_STATE_NAME_LENGTH:
        rep.error(f"State name '{name}' must be 1 to {MAX_STATE_NAME_LENGTH} characters long",
                  loc, "INVALID_STATE_NAME")
    if name in names:
        rep.error(f"Duplicate State name: {name}", loc, "DUPLICATE_STATE_NAME")
    names.setdefault(name, loc)


def _sub_workflows(state: Any, loc: str) -> Iterator[tuple[Any, str, Spec]]:
    """The nested scopes of a Parallel (Branches) or a Map (ItemProcessor / Iterator)."""
    if not isinstance(state, dict):
        return
    if state.get("Type") == "Parallel" and isinstance(state.get("Branches"), list):
        for i, branch in enumerate(state["Branches"]):
            yield branch, f"{loc}/Branches[{i}]", BRANCH
    if state.get("Type") == "Map":
        for field in ("ItemProcessor", "Iterator"):
            if field in state:
                yield state[field], f"{loc}/{field}", PROCESSOR


# ---------------------------------------------------------------- the transition graph


def _check_graph(rep: Report, scope: dict, states: dict, loc: str, top: bool) -> None:
    """Dangling targets, then (top level) a terminal state, then unreachable states."""
    start = scope.get("StartAt")
    for name, state in states.items():
        for target, where in _transitions(state, f"{loc}/States/{name}"):
            if target not in states:
                rep.error(f"Missing 'Next' target: {target}", where, MISSING_TARGET)
    if isinstance(start, str) and start not in states:
        rep.error(f"Missing 'Next' target: {start}", f"{loc}/StartAt", MISSING_TARGET)
    if top and not any(_is_terminal(state) for state in states.values()):
        rep.error("Workflow has no terminal state", "", "MISSING_END_STATE")
        return  # AWS reports no unreachable states on top of this
    reachable = _reachable(states, start)
    for name in states:
        if name not in reachable:
            rep.error(f'State "{name}" is not reachable.', f"{loc}/States/{name}", MISSING_TARGET)


def _transitions(state: Any, loc: str) -> Iterator[tuple[str, str]]:
    """(target, location) of every Next, Default, Choices[i].Next and Catch[i].Next."""
    if not isinstance(state, dict):
        return
    for field in ("Next", "Default"):
        if isinstance(state.get(field), str):
            yield state[field], f"{loc}/{field}"
    for field in ("Choices", "Catch"):
        items = state.get(field)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and isinstance(item.get("Next"), str):
                yield item["Next"], f"{loc}/{field}[{i}]/Next"


def _is_terminal(state: Any) -> bool:
    return isinstance(state, dict) and (
        state.get("Type") in ("Succeed", "Fail") or state.get("End") is True)


def _reachable(states: dict, start: Any) -> set[str]:
    """The names reachable from StartAt through transitions inside this scope."""
    if not isinstance(start, str) or start not in states:
        return set()
    seen, pending = {start}, [start]
    while pending:
        for target, _ in _transitions(states[pending.pop()], ""):
            if target in states and target not in seen:
                seen.add(target)
                pending.append(target)
    return seen

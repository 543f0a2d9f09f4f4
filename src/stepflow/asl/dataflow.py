"""How data flows through a state, in both query languages.

JSONPath:  raw input -> InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath
           (merged into the raw input) -> OutputPath; Assign reads the (selected) result as ``$``.
JSONata:   ``$states.input`` -> Arguments -> (work) -> ``$states.result`` -> Output; Assign and
           Output both read the variables as they were when the state started.

The engine only calls :meth:`StateIO.effective_input`, :meth:`StateIO.arguments` and
:meth:`StateIO.output`, whatever the language. ``passes_input`` says that the state sets none of
these fields: its effective input and arguments are its raw input, and when its result is its
input, so is its output, with nothing assigned (the engine then skips the calls).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stepflow.asl import json_text
from stepflow.asl.env import Env
from stepflow.asl.jsonpath import JsonPath, PathNotFound, apply_result_path
from stepflow.asl.model import MISSING, StateScope
from stepflow.errors import RUNTIME, StatesError

Template = Callable[[Env], Any]
JsonataTemplate = Callable[[dict, Mapping[str, Any]], Any]


def select_path(path: Any, value: Any, scope: StateScope, field: str) -> Any:
    """InputPath / OutputPath: MISSING keeps the value, None gives {}, a path selects."""
    if path is MISSING:
        return value
    if path is None:
        return {}
    try:
        return path.get(Env(value, scope.context, scope.variables))
    except PathNotFound:
        raise StatesError(RUNTIME, f"Invalid path '{path.text}' : No results for path: {path.normalized()}") from None


def states_binding(scope: StateScope) -> dict:
    """The ``$states`` object a JSONata expression sees."""
    states = {"input": scope.raw, "context": scope.context}
    if scope.result is not MISSING:
        states["result"] = scope.result
    if scope.error_output is not MISSING:
        states["errorOutput"] = scope.error_output
    return states


@dataclass(frozen=True, slots=True)
class JsonPathIO:
    """InputPath, Parameters, ResultSelector, ResultPath, OutputPath, Assign of one state."""

    input_path: JsonPath | None = MISSING
    parameters: Template | None = None
    result_selector: Template | None = None
    result_path: JsonPath | None = MISSING
    output_path: JsonPath | None = MISSING
    assign: Template | None = None
    passes_input: bool = field(default=False, init=False, repr=False, compare=False)  # see the module docstring

    def __post_init__(self) -> None:
        unset = (self.input_path, self.result_path, self.output_path)
        fields = (self.parameters, self.result_selector, self.assign)
        object.__setattr__(self, "passes_input", all(v is MISSING for v in unset) and all(v is None for v in fields))

    def effective_input(self, scope: StateScope) -> Any:
        if self.input_path is MISSING:  # the common case, without a call
            return scope.raw
        return select_path(self.input_path, scope.raw, scope, "InputPath")

    def arguments(self, scope: StateScope) -> Any:
        if self.parameters is None:
            return scope.effective
        return self.parameters(Env(scope.effective, scope.context, scope.variables))

    def output(self, scope: StateScope, result: Any) -> tuple[Any, dict | None]:
        """The state output and the variables it assigns, from its result."""
        assigned = None
        if self.result_selector is not None or self.assign is not None:
            result, assigned = self._selected(scope, result)
        if self.result_path is not MISSING:
            result = apply_result_path(scope.raw, self.result_path, result)
        if self.output_path is MISSING:
            return result, assigned
        return select_path(self.output_path, result, scope, "OutputPath"), assigned

    def _selected(self, scope: StateScope, result: Any) -> tuple[Any, dict | None]:
        """ResultSelector, then Assign over the selected result (only built when either is set)."""
        env = Env(result, scope.context, scope.variables)
        if self.result_selector is not None:
            result = self.result_selector(env)
            env = Env(result, scope.context, scope.variables)
        return result, (self.assign(env) if self.assign is not None else None)

    def assignments(self, scope: StateScope, result: Any) -> dict | None:
        """Only the Assign part (a Choice rule's own Assign)."""
        if self.assign is None:
            return None
        return self.assign(Env(result, scope.context, scope.variables))

    @property
    def has_output(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class JsonataIO:
    """Arguments, Output and Assign of one JSONata state.

    ``output_default`` says what the state outputs without an Output field: its result (Task,
    Map, Parallel) or its input (Pass, Choice, Wait, Succeed).
    """

    arguments_template: JsonataTemplate | None = None
    output_template: JsonataTemplate | None = None
    assign: JsonataTemplate | None = None
    output_default: str = "result"
    passes_input: bool = field(default=False, init=False, repr=False, compare=False)  # see the module docstring

    def __post_init__(self) -> None:
        templates = (self.arguments_template, self.output_template, self.assign)
        object.__setattr__(self, "passes_input", all(v is None for v in templates))

    def effective_input(self, scope: StateScope) -> Any:
        return scope.raw

    def arguments(self, scope: StateScope) -> Any:
        if self.arguments_template is None:
            return scope.raw
        return self.arguments_template(states_binding(scope), scope.variables)

    def output(self, scope: StateScope, result: Any) -> tuple[Any, dict | None]:
        if self.output_default == "result":
            scope.result = result
        states = states_binding(scope)
        assigned = self.assign(states, scope.variables) if self.assign is not None else None
        if self.output_template is not None:
            return self.output_template(states, scope.variables), assigned
        return (result if self.output_default == "result" else scope.raw), assigned

    def assignments(self, scope: StateScope, result: Any) -> dict | None:
        if self.assign is None:
            return None
        return self.assign(states_binding(scope), scope.variables)

    @property
    def has_output(self) -> bool:
        return self.output_template is not None


@dataclass(frozen=True, slots=True)
class JsonPathCatchIO:
    """A JSONPath Catcher: ResultPath puts the error output into the raw input; Assign reads it."""

    result_path: JsonPath | None = MISSING
    assign: Template | None = None

    def output(self, scope: StateScope, error_output: dict) -> tuple[Any, dict | None]:
        env = Env(error_output, scope.context, scope.variables)
        assigned = self.assign(env) if self.assign is not None else None
        if self.result_path is MISSING:
            return error_output, assigned
        return apply_result_path(scope.raw, self.result_path, error_output), assigned


@dataclass(frozen=True, slots=True)
class JsonataCatchIO:
    """A JSONata Catcher: Output (default: the error output) and Assign over $states.errorOutput."""

    output_template: JsonataTemplate | None = None
    assign: JsonataTemplate | None = None

    def output(self, scope: StateScope, error_output: dict) -> tuple[Any, dict | None]:
        scope.error_output = error_output
        states = states_binding(scope)
        assigned = self.assign(states, scope.variables) if self.assign is not None else None
        if self.output_template is None:
            return error_output, assigned
        return self.output_template(states, scope.variables), assigned


def error_output(error: str, cause: str | None) -> dict:
    """The JSON a Catcher passes on: ``{"Error": ..., "Cause": ...}`` (Cause only when set)."""
    out = {"Error": error}
    if cause is not None:
        out["Cause"] = cause
    return out


def compact(value: Any) -> str:
    """Compact JSON text, for error causes that quote a value."""
    return json_text.dumps(value)

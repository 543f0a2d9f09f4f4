"""JSONata as AWS Step Functions evaluates it.

A JSON string is a JSONata expression when the whole string is ``{% <expression> %}``: it
starts with ``{%`` and ends with ``%}``. Anything outside the braces, even a space, makes it a
literal string (``" {% states.input %} "`` is returned as written).

An expression reads ``$states`` (``input``, ``context`` and, where the field has them,
``result`` and ``errorOutput``) and every workflow variable as ``$name``; it has no context item.
Its value must be JSON: when it returns nothing the state fails with
``States.QueryEvaluationError``, and so it does for a function value or a JSONata error, with
AWS's sentences (see :class:`JsonataExpression`). Whole numbers come back as ``int`` (JSONata
numbers are doubles; AWS writes ``7``, not ``7.0``), non-finite numbers as the strings AWS writes
for them (``"Infinity"``, ``"NaN"``).

Templates (``Arguments``, ``Output``, ``Assign``, ``ItemSelector``, ...) are JSON values whose
strings may be expressions; :func:`compile_template` compiles every expression once and names
each one by its place: ``Output``, ``Output/result``, ``Arguments/a/b``, ``Items[1]``.

Thread safety: a compiled expression may be evaluated from any number of threads at once.
jsonata-python keeps evaluation state (current input, environment, ``$now()``'s timestamp) on
the ``Jsonata`` object it finds in a thread-local slot, so each thread evaluates through its own
shallow copy of the parsed expression (sharing the read-only syntax tree) and points that slot at
it before every evaluation. No lock is taken.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from jsonata.jexception import JException
from jsonata.jsonata import Jsonata
from jsonata.utils import Utils

from stepflow.asl.json_text import dumps
from stepflow.asl.jsonata_functions import AWS_FRAME, describe_error, has_code
from stepflow.errors import QUERY_EVALUATION_ERROR, StatesError

__all__ = [
    "EVALUATION_TIMEOUT_SECONDS",
    "JsonataExpression",
    "JsonataSyntaxError",
    "Template",
    "compile_assign",
    "compile_expression",
    "compile_template",
    "expect_type",
    "expression_text",
    "is_jsonata_string",
    "json_type",
]

#: How long one evaluation may run before it fails (a runaway loop must not hang a worker).
EVALUATION_TIMEOUT_SECONDS = 10.0

#: A compiled JSONata-mode field: ``template(states, variables) -> JSON value``.
Template = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]

_NULL = Utils.NULL_VALUE
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_TIMEOUT_MESSAGE = "Expression evaluation timeout: Check for infinite loop"
_STACK_MESSAGE = (
    "Stack overflow error: Check for non-terminating recursive function. "
    " Consider rewriting as tail-recursive."
)


def is_jsonata_string(value: Any) -> bool:
    """Whether ``value`` is a string that is exactly one ``{% ... %}`` expression."""
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


def expression_text(value: str) -> str:
    """The expression inside ``{% ... %}``, without surrounding blanks."""
    return value[2:-2].strip()


class JsonataSyntaxError(ValueError):
    """An expression JSONata cannot parse; ``detail`` is JSONata's message (``S0207: ...``)."""

    def __init__(self, expression: str, field: str, detail: str):
        super().__init__(f"Invalid JSONata expression '{expression}' in field '{field}': {detail}")
        self.expression = expression
        self.field = field
        self.detail = detail


def compile_expression(
    text: str, field: str, *, timeout_seconds: float = EVALUATION_TIMEOUT_SECONDS
) -> "JsonataExpression":
    """Parse ``text`` (the inside of ``{% %}``) once; ``field`` names it in error messages.

    Raises :class:`JsonataSyntaxError` (a ``ValueError``) when ``text`` is not JSONata.
    """
    expression = text.strip()
    try:
        engine = Jsonata(expression)
    except JException as exc:
        raise JsonataSyntaxError(expression, field, describe_error(exc)) from exc
    except Exception as exc:  # jsonata-python's parser fails on some inputs with plain errors
        raise JsonataSyntaxError(expression, field, str(exc) or type(exc).__name__) from exc
    if engine.ast is None:
        raise JsonataSyntaxError(expression, field, "S0207: Unexpected end of expression")
    engine.environment = AWS_FRAME
    engine.set_validate_input(False)
    engine.set_output_convert_nulls(False)
    return JsonataExpression(expression, field, engine, timeout_seconds)


class _UnsupportedResult(Exception):
    """The expression produced a value JSON cannot hold (a function, a regex)."""


class JsonataExpression:
    """One parsed expression, bound to the field it was written in.

    :meth:`evaluate` fails with ``States.QueryEvaluationError`` and AWS's cause:

    - nothing returned: ``The JSONata expression '<expr>' specified for the field '<field>'
      returned nothing (undefined).``
    - a function returned: ``... returned an unsupported result type.``
    - a JSONata error: ``... threw an error during evaluation. T1006: Attempted to invoke a
      non-function`` (``: <message>`` instead of ``. `` for an error without a code).
    """

    __slots__ = ("text", "field", "_base", "_local", "_timeout")

    def __init__(self, text: str, field: str, engine: Jsonata, timeout_seconds: float):
        self.text = text
        self.field = field
        self._base = engine
        self._local = threading.local()
        self._timeout = timeout_seconds

    def __repr__(self) -> str:
        return f"JsonataExpression({self.text!r}, field={self.field!r})"

    def evaluate(self, states: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
        """The JSON value of the expression with ``$states`` and every variable bound."""
        raw = self._run(states, variables)
        if raw is None:
            raise self._failure("returned nothing (undefined).")
        try:
            return _plain(raw)
        except _UnsupportedResult:
            raise self._failure("returned an unsupported result type.") from None

    def evaluate_as(
        self, states: Mapping[str, Any], variables: Mapping[str, Any], expected: str
    ) -> Any:
        """:meth:`evaluate`, then :func:`expect_type` with ``expected``."""
        return expect_type(self.evaluate(states, variables), expected, self.text, self.field)

    def _engine(self) -> Jsonata:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = copy.copy(self._base)
        Jsonata.CURRENT.jsonata = engine  # where jsonata-python looks for evaluation state
        return engine

    def _bindings(self, states: Mapping[str, Any], variables: Mapping[str, Any]) -> dict:
        # A variable holding JSON null must read as null, not as an unbound (undefined) name.
        bindings = {name: _NULL if value is None else value for name, value in variables.items()}
        bindings["states"] = states if isinstance(states, dict) else dict(states)
        bindings["__evaluate_entry"] = _deadline(time.monotonic() + self._timeout)
        return bindings

    def _run(self, states: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
        engine = self._engine()
        try:
            return engine.evaluate(None, self._bindings(states, variables))
        except JException as exc:
            raise self._threw(describe_error(exc)) from exc
        except RecursionError as exc:
            raise self._threw(_STACK_MESSAGE) from exc
        except ZeroDivisionError as exc:  # jsonata-python raises where JavaScript has Infinity
            raise self._threw('D1001: Number out of range: "Infinity"') from exc
        except Exception as exc:  # a jsonata-python defect; AWS words its own the same way
            raise self._failure("threw an internal error during evaluation.") from exc

    def _failure(self, what: str) -> StatesError:
        return StatesError(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{self.text}' specified for the field '{self.field}' {what}",
        )

    def _threw(self, detail: str) -> StatesError:
        separator = ". " if has_code(detail) else ": "
        return self._failure(f"threw an error during evaluation{separator}{detail}")


def _deadline(deadline: float) -> Callable[..., None]:
    """An evaluate-entry callback failing the evaluation once ``deadline`` has passed."""
    clock = time.monotonic

    def check(expr: Any, input: Any, environment: Any) -> None:
        if clock() > deadline:
            raise JException(_TIMEOUT_MESSAGE, -1)

    return check


def _plain(value: Any) -> Any:
    """A JSONata result as plain JSON: lists, dicts, int for whole numbers, None for null."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return value if _LONG_MIN <= value <= _LONG_MAX else float(value)
    if kind is float:
        return _number(value)
    if value is _NULL:
        return None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    raise _UnsupportedResult(kind.__name__)


def _number(value: float) -> int | float | str:
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value.is_integer() and _LONG_MIN <= value <= _LONG_MAX:
        return int(value)
    return value


def json_type(value: Any) -> str:
    """The JSON type name AWS uses in messages: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def expect_type(value: Any, expected: str, expr: str, field: str) -> Any:
    """``value`` when it has the JSON type ``expected`` (or ``"integer"``); else AWS's failure.

    ``The JSONata expression 'true' specified for the field 'Items' returned an unexpected
    result type. Expected 'array', but was 'boolean' for value: true``
    """
    actual = json_type(value)
    if actual == expected or (expected == "integer" and _is_integer(value)):
        return value
    raise StatesError(
        QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{expr}' specified for the field '{field}' returned an "
        f"unexpected result type. Expected '{expected}', but was '{actual}' for value: "
        f"{dumps(value)}",
    )


def _is_integer(value: Any) -> bool:
    return json_type(value) == "number" and float(value).is_integer()


# --- templates -----------------------------------------------------------------------------


def compile_template(value: Any, field: str) -> Template:
    """Compile a JSONata-mode JSON value: whole-string expressions are evaluated, the rest kept.

    ``field`` is the field's name (``Output``, ``Arguments``); nested expressions are named
    ``<field>/<key>`` inside objects and ``<field>[<index>]`` inside arrays.
    """
    if is_jsonata_string(value):
        return compile_expression(expression_text(value), field).evaluate
    if not _has_expression(value):
        return _literal(value)
    if isinstance(value, dict):
        return _object_template(value, field)
    return _array_template(value, field)


def compile_assign(value: Mapping[str, Any], field: str = "Assign") -> Template:
    """Compile an ``Assign`` object: each key is a variable name, each value a template.

    Evaluate it with the variables as they were before the state assigns (AWS evaluates every
    value of an ``Assign`` against the old variables); it returns the new values by name.
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"The field '{field}' must be a JSON object")
    return _object_template(value, field)


def _object_template(value: Mapping[str, Any], field: str) -> Template:
    parts = [(key, compile_template(item, f"{field}/{key}")) for key, item in value.items()]

    def build(states: Mapping[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
        return {key: part(states, variables) for key, part in parts}

    return build


def _array_template(value: list, field: str) -> Template:
    parts = [compile_template(item, f"{field}[{index}]") for index, item in enumerate(value)]

    def build(states: Mapping[str, Any], variables: Mapping[str, Any]) -> list[Any]:
        return [part(states, variables) for part in parts]

    return build


def _has_expression(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_expression(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_expression(item) for item in value)
    return is_jsonata_string(value)


def _literal(value: Any) -> Template:
    """A constant; containers are copied on every use so callers may modify what they get."""
    if isinstance(value, (dict, list)):
        return lambda states, variables: _copy_json(value)
    return lambda states, variables: value


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value

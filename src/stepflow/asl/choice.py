"""Choice Rules in JSONPath mode, evaluated as AWS Step Functions evaluates them.

``compile_choice_rule(rule)`` turns one Choice Rule (an element of ``Choices``, or a rule nested
in ``And``/``Or``/``Not``) into a predicate ``Env -> bool``. Everything that can be decided from
the definition alone (operator, literal operand, StringMatches pattern, the paths) is decided
once, at compile time; evaluating a rule is a few closure calls.

AWS semantics (States Language spec, "Choice State"; Step Functions developer guide):

* A ``Variable`` (or a ``...Path`` operand) that selects nothing fails the state with
  ``States.Runtime`` and the cause :func:`invalid_path_cause` — except under ``IsPresent``,
  which then answers ``False``.
* If the two values are not both of the operator's type, the comparison is ``False``, never an
  error: ``NumericEquals`` against ``"1"``, ``true`` or ``null``; ``BooleanEquals`` against
  ``0``; a ``Timestamp*`` comparison with a string that is not a valid timestamp.
* Numbers are JSON numbers: ints and floats compare by value (``0 == 0.0``); booleans are not
  numbers.
* Strings compare as Java's ``String.compareTo`` (the developer guide points to it): by UTF-16
  code unit, with no case folding or normalisation. That is code-point order except between a
  BMP character at or above U+E000 and a supplementary character.
* Timestamps are RFC 3339 date-times with an uppercase ``T`` and an uppercase ``Z`` or a
  numeric ``±HH:MM`` offset; they compare as instants, so offsets are taken into account.
* ``Is*`` operators take a boolean: ``{"IsString": false}`` is true for any non-string.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from stepflow.asl.jsonpath import PathNotFound, compile_path
from stepflow.errors import RUNTIME, StatesError

if TYPE_CHECKING:  # only read through .input / .context / .variables
    from stepflow.asl.env import Env

__all__ = [
    "CHOICE_OPERATORS",
    "Predicate",
    "compile_choice_rule",
    "invalid_path_cause",
    "parse_timestamp",
]

Predicate = Callable[["Env"], bool]
Test = Callable[[Any], bool]
Compare = Callable[[Any, Any], bool]

# ---------------------------------------------------------------------------------------------
# Value tests: small pure functions over JSON values.
# ---------------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    """A JSON number: int or float, and not a bool (a Python bool is an int)."""
    return isinstance(value, (int, float)) and value.__class__ is not bool


def _is_boolean(value: Any) -> bool:
    return value is True or value is False


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


# RFC 3339 date-time with the States Language's extra rules (uppercase "T" and "Z").
# Hand-written: datetime.fromisoformat accepts far more than AWS does (a space separator,
# lowercase letters, no offset, "+0100"), and no installed library checks exactly this profile.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:Z|([+-])(\d\d):(\d\d))",
    re.ASCII,
)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> tuple[int, int] | None:
    """The instant a States Language timestamp names, as ``(epoch_seconds, nanoseconds)``.

    ``None`` when ``text`` is not a valid timestamp: wrong shape, no offset, an impossible date
    or time (``2016-13-05``, ``25:00``). The tuples order as the instants do.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    offset = _offset_seconds(sign, off_h, off_m)
    clock = _clock_seconds(hour, minute, second)
    days = _epoch_days(year, month, day)
    if offset is None or clock is None or days is None:
        return None
    return days * 86400 + clock - offset, int((fraction or "0").ljust(9, "0"))


def _epoch_days(year: str, month: str, day: str) -> int | None:
    try:
        return date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


def _clock_seconds(hour: str, minute: str, second: str) -> int | None:
    h, m, s = int(hour), int(minute), int(second)
    return None if h > 23 or m > 59 or s > 59 else h * 3600 + m * 60 + s


def _offset_seconds(sign: str | None, hours: str | None, minutes: str | None) -> int | None:
    """The offset east of UTC in seconds; None when out of range (Java allows ±18:00)."""
    if sign is None:
        return 0  # "Z"
    total = int(hours) * 3600 + int(minutes) * 60
    if int(minutes) > 59 or total > 18 * 3600:
        return None
    return -total if sign == "-" else total


def _is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and parse_timestamp(value) is not None


# ---------------------------------------------------------------------------------------------
# Operator tables.
# ---------------------------------------------------------------------------------------------

_RELATIONS: dict[str, Compare] = {
    "Equals": operator.eq,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
}

_TYPE_TESTS: dict[str, Test] = {
    "IsBoolean": _is_boolean,
    "IsNull": lambda value: value is None,
    "IsNumeric": _is_number,
    "IsString": _is_string,
    "IsTimestamp": _is_timestamp,
}


def _numeric(relation: Compare) -> Compare:
    """Compare two JSON numbers; False unless both are numbers."""
    return lambda a, b: _is_number(a) and _is_number(b) and relation(a, b)


def _string(relation: Compare) -> Compare:
    """Compare two strings as Java's compareTo does; False unless both are strings."""

    def compare(a: Any, b: Any) -> bool:
        if not (isinstance(a, str) and isinstance(b, str)):
            return False
        if a.isascii() and b.isascii():  # O(1) in CPython; UTF-16 order is then str order
            return relation(a, b)
        return relation(a.encode("utf-16-be"), b.encode("utf-16-be"))

    return compare


def _timestamp(relation: Compare) -> Compare:
    """Compare two timestamps as instants; False unless both are valid timestamps."""

    def compare(a: Any, b: Any) -> bool:
        if not (isinstance(a, str) and isinstance(b, str)):
            return False
        left, right = parse_timestamp(a), parse_timestamp(b)
        return left is not None and right is not None and relation(left, right)

    return compare


def _boolean_equals(a: Any, b: Any) -> bool:
    return _is_boolean(a) and a is b


def _comparisons() -> dict[str, tuple[Compare, Test]]:
    """Every two-operand operator: its comparison and the check its literal operand must pass."""
    table: dict[str, tuple[Compare, Test]] = {"BooleanEquals": (_boolean_equals, _is_boolean)}
    for suffix, relation in _RELATIONS.items():
        table["Numeric" + suffix] = (_numeric(relation), _is_number)
        table["String" + suffix] = (_string(relation), _is_string)
        table["Timestamp" + suffix] = (_timestamp(relation), _is_timestamp)
    return table


_COMPARISONS = _comparisons()

CHOICE_OPERATORS: frozenset[str] = frozenset(
    {*_COMPARISONS, *(name + "Path" for name in _COMPARISONS), *_TYPE_TESTS}
    | {"IsPresent", "StringMatches"}
)
"""Every comparison operator of a JSONPath Choice Rule (And, Or and Not are not among them)."""

_BOOLEAN_OPERATORS = ("And", "Or", "Not")

# ---------------------------------------------------------------------------------------------
# StringMatches.
# ---------------------------------------------------------------------------------------------


def _matcher(pattern: str) -> Test | None:
    """The StringMatches test for ``pattern``; None if it ends in an open escape backslash.

    ``*`` matches any run of characters, also none; ``\\*`` is a literal ``*``, ``\\\\`` a
    literal backslash, and a backslash before any other character makes that character
    literal. Nothing else is special. A pattern without a wildcard is an equality test.
    """
    pieces, literal = [], []
    chars = iter(pattern)
    for char in chars:
        if char == "*":
            pieces.append("".join(literal))
            literal = []
            continue
        if char == "\\":
            char = next(chars, None)
            if char is None:
                return None
        literal.append(char)
    pieces.append("".join(literal))
    if len(pieces) == 1:
        return lambda value: isinstance(value, str) and value == pieces[0]
    match = re.compile(".*".join(map(re.escape, pieces)), re.DOTALL).fullmatch
    return lambda value: isinstance(value, str) and match(value) is not None


def _open_escape(pattern: str) -> Test:
    """The test for a pattern ending in an open escape: the spec makes it a runtime error."""

    def fail(_value: Any) -> bool:
        cause = f"The StringMatches pattern '{pattern}' ends with an open escape character."
        raise StatesError(RUNTIME, cause)

    return fail


# ---------------------------------------------------------------------------------------------
# Compilation.
# ---------------------------------------------------------------------------------------------


def invalid_path_cause(path: str) -> str:
    """AWS's cause when a Choice Rule's path selects nothing (the engine adds its prefix)."""
    return f"Invalid path '{path}': The choice state's condition path references an invalid value."


def compile_choice_rule(rule: Mapping[str, Any]) -> Predicate:
    """Compile one JSONPath Choice Rule into a predicate over an :class:`Env`.

    ``Next``, ``Comment`` and ``Assign`` are ignored (the engine reads them). Raises
    ``ValueError`` for a rule that is not well formed (no operator or several, a literal operand
    of the wrong type); the validator reports those in AWS's words before this is called.
    The predicate raises ``StatesError("States.Runtime", ...)`` when a path selects nothing.
    """
    if not isinstance(rule, Mapping):
        raise ValueError(f"a Choice Rule must be an object, not {type(rule).__name__}")
    present = [name for name in _BOOLEAN_OPERATORS if name in rule]
    if not present:
        return _compile_data_test(rule)
    if len(present) > 1 or any(name in CHOICE_OPERATORS for name in rule):
        raise ValueError("a Choice Rule must have exactly one operator")
    return _compile_boolean(present[0], rule[present[0]])


def _compile_boolean(name: str, operand: Any) -> Predicate:
    """And / Or over a non-empty list of rules, Not over one rule; both short-circuit."""
    if name == "Not":
        inner = compile_choice_rule(operand)
        return lambda env: not inner(env)
    if not isinstance(operand, list) or not operand:
        raise ValueError(f"{name} needs a non-empty array of Choice Rules")
    rules = tuple(compile_choice_rule(item) for item in operand)
    if len(rules) == 1:
        return rules[0]
    return _all_of(rules) if name == "And" else _any_of(rules)


def _all_of(rules: tuple[Predicate, ...]) -> Predicate:
    def all_of(env: Env) -> bool:
        for rule in rules:
            if not rule(env):
                return False
        return True

    return all_of


def _any_of(rules: tuple[Predicate, ...]) -> Predicate:
    def any_of(env: Env) -> bool:
        for rule in rules:
            if rule(env):
                return True
        return False

    return any_of


def _compile_data_test(rule: Mapping[str, Any]) -> Predicate:
    """A rule with a ``Variable`` and exactly one comparison operator."""
    operators = [name for name in rule if name in CHOICE_OPERATORS]
    if len(operators) != 1:
        raise ValueError(f"a Choice Rule needs exactly one comparison operator, has {operators}")
    name = operators[0]
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise ValueError(f"{name} needs a Variable that is a path")
    operand = rule[name]
    if name == "IsPresent":
        exists, expected = compile_path(variable).exists, _check_bool(name, operand)
        return lambda env: bool(exists(env)) is expected
    if name.endswith("Path"):
        return _path_comparison(variable, name, operand)
    return _tested(variable, _literal_test(name, operand))


def _check_bool(name: str, operand: Any) -> bool:
    if not _is_boolean(operand):
        raise ValueError(f"{name} needs a boolean, not {operand!r}")
    return operand


def _literal_test(name: str, operand: Any) -> Test:
    """The test a literal-operand operator applies to the Variable's value."""
    if name in _TYPE_TESTS:
        is_type, expected = _TYPE_TESTS[name], _check_bool(name, operand)
        return lambda value: is_type(value) is expected
    if name == "StringMatches":
        if not isinstance(operand, str):
            raise ValueError(f"StringMatches needs a string, not {operand!r}")
        return _matcher(operand) or _open_escape(operand)
    compare, accepts = _COMPARISONS[name]
    if not accepts(operand):
        raise ValueError(f"{name} cannot compare with {operand!r}")
    if name.startswith("Numeric"):
        return _numeric_test(_RELATIONS[name[len("Numeric"):]], operand)
    return lambda value: compare(value, operand)


def _numeric_test(relation: Compare, operand: Any) -> Test:
    """``value <relation> operand`` for a literal number: ``_numeric`` in one call (the operand is
    known to be a number; this runs on every transition through a numeric Choice)."""
    return lambda value: isinstance(value, (int, float)) and value.__class__ is not bool and relation(value, operand)


def _path_comparison(variable: str, name: str, operand: Any) -> Predicate:
    """A ``...Path`` operator: both sides are read from the data, the Variable first."""
    if not isinstance(operand, str):
        raise ValueError(f"{name} needs a path, not {operand!r}")
    compare = _COMPARISONS[name[: -len("Path")]][0]
    left, right = _resolver(variable), _resolver(operand)
    return lambda env: compare(left(env), right(env))


def _tested(variable: str, test: Test) -> Predicate:
    """Apply ``test`` to the Variable's value (resolution inlined: this is the hot path)."""
    get = compile_path(variable).reader()
    cause = invalid_path_cause(variable)

    def predicate(env: Env) -> bool:
        try:
            value = get(env)
        except PathNotFound:
            raise StatesError(RUNTIME, cause) from None
        return test(value)

    return predicate


def _resolver(text: str) -> Callable[[Env], Any]:
    """``env -> value`` for a path that must select something, else States.Runtime."""
    get = compile_path(text).reader()
    cause = invalid_path_cause(text)

    def resolve(env: Env) -> Any:
        try:
            return get(env)
        except PathNotFound:
            raise StatesError(RUNTIME, cause) from None

    return resolve

"""Field-level building blocks of definition validation.

A *kind* is a small function ``kind(report, value, at, name)`` that checks one field value and
adds diagnostics to the :class:`Report`; a :class:`Spec` is a table of the kinds an object may
hold. The state tables in :mod:`stepflow.asl.validate_states` are written with these.

Messages follow the wording AWS returns where it is known (``The field 'X' is required but was
missing``, ``Field 'X' is not supported``, ``Expected value of type [STRING]``, ``Value should
be one of the following: [...]``, ``The value for the field 'X.$' must be a valid JSONPath or a
valid intrinsic function call``, ``String does not match RFC3339 timestamp``). Locations are
AWS's: a slash path from the definition root with ``[i]`` for array items
(``/States/C/Choices[0]/Next``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Mapping

from stepflow.errors import Diagnostic

from . import intrinsics
from . import validate_jsonata as jsonata_check
from .jsonpath import is_reference_path as _is_reference_path
from .jsonpath import is_valid_path

SCHEMA = "SCHEMA_VALIDATION_FAILED"
MAX_SECONDS = 99_999_999

# Fields that exist only in one query language (AWS: "The QueryLanguage is set to ...").
JSONATA_ONLY = frozenset({"Arguments", "Output", "Items", "Condition"})
CHOICE_OPERATORS = frozenset(
    f"{family}{op}{suffix}"
    for family in ("String", "Numeric", "Timestamp")
    for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    for suffix in ("", "Path")
) | {"BooleanEquals", "BooleanEqualsPath", "StringMatches"} | {
    f"Is{t}" for t in ("Null", "Present", "Numeric", "String", "Boolean", "Timestamp")
}
JSONPATH_ONLY = frozenset({
    "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "Result",
    "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath",
    "ErrorPath", "CausePath", "MaxConcurrencyPath", "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath", "MaxItemsPath", "MaxItemsPerBatchPath",
    "MaxInputBytesPerBatchPath", "RoleArn.$", "Variable", "And", "Or", "Not",
}) | CHOICE_OPERATORS


@dataclass
class Report:
    """Collects every diagnostic of one validation run."""

    machine_type: str = "STANDARD"
    machine_jsonata: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, location: str, code: str = SCHEMA) -> None:
        """Add an ERROR diagnostic."""
        self.diagnostics.append(Diagnostic(code, message, location))

    def warn(self, code: str, message: str, location: str) -> None:
        """Add a WARNING diagnostic (reported by ValidateStateMachineDefinition only)."""
        self.diagnostics.append(Diagnostic(code, message, location, "WARNING"))


@dataclass(frozen=True)
class Where:
    """Where a value sits: its location and the query language in force there."""

    loc: str
    jsonata: bool = False
    in_catch_output: bool = False  # inside Catch[].Output/Assign: $states.errorOutput exists

    def key(self, name: str) -> Where:
        """The location of a member of this object."""
        return replace(self, loc=f"{self.loc}/{name}")

    def index(self, i: int) -> Where:
        """The location of an item of this array."""
        return replace(self, loc=f"{self.loc}[{i}]")


Kind = Callable[[Report, Any, Where, str], None]


@dataclass(frozen=True)
class Spec:
    """The fields an object may hold (name -> kind) and the ones it must hold."""

    fields: Mapping[str, Kind]
    required: tuple[str, ...] = ()


# ---------------------------------------------------------------- objects


def check_object(rep: Report, value: Any, at: Where, spec: Spec, *, language: bool = True) -> bool:
    """Check an object against a spec; False when it is not an object at all."""
    if not isinstance(value, dict):
        rep.error("Expected value of type [OBJECT]", at.loc)
        return False
    for name, member in value.items():
        if name not in spec.fields:
            rep.error(f"Field '{name}' is not supported", at.loc)
        elif not (language and _wrong_language(rep, name, at)):
            spec.fields[name](rep, member, at.key(name), name)
    for name in spec.required:
        if name not in value:
            rep.error(f"The field '{name}' is required but was missing", at.loc)
    return True


def _wrong_language(rep: Report, name: str, at: Where) -> bool:
    """Report a field of the other query language; AWS locates this at the owning object."""
    if at.jsonata and name in JSONPATH_ONLY:
        rep.error(_language_message("JSONata", name, "JSONPath"), at.loc)
        return True
    if not at.jsonata and name in JSONATA_ONLY:
        rep.error(_language_message("JSONPath", name, "JSONata"), at.loc)
        return True
    return False


def _language_message(language: str, name: str, other: str) -> str:
    return (f"The QueryLanguage is set to '{language}', but field '{name}' "
            f"is only supported for the '{other}' QueryLanguage")


def exclusive(rep: Report, obj: dict, at: Where, first: str, second: str) -> None:
    """Two fields that may not appear together."""
    if first in obj and second in obj:
        rep.error(f"The fields '{first}' and '{second}' are mutually exclusive", at.key(first).loc)


def obj(spec: Spec) -> Kind:
    """Kind: a nested object with its own spec."""
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        check_object(rep, value, at, spec)
    return check


def array_of(item: Kind, min_items: int = 0) -> Kind:
    """Kind: an array whose items are all of one kind."""
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        if not isinstance(value, list):
            rep.error("Expected value of type [ARRAY]", at.loc)
            return
        if len(value) < min_items:
            rep.error(f"The field '{name}' should have at least {min_items} item(s)", at.loc)
        for i, member in enumerate(value):
            item(rep, member, at.index(i), name)
    return check


# ---------------------------------------------------------------- scalars


def any_json(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: any JSON value, taken literally."""


def string(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a string."""
    if not isinstance(value, str):
        rep.error("Expected value of type [STRING]", at.loc)


def boolean(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: true or false."""
    if not isinstance(value, bool):
        rep.error("Expected value of type [BOOLEAN]", at.loc)


def enum(*allowed: str) -> Kind:
    """Kind: one string of a fixed set."""
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        if not isinstance(value, str):
            rep.error("Expected value of type [STRING]", at.loc)
        elif value not in allowed:
            rep.error(f"Value should be one of the following: [{', '.join(allowed)}]", at.loc)
    return check


def integer(low: int, high: int | None = MAX_SECONDS) -> Kind:
    """Kind: a JSON integer (not 1.0, not true) in [low, high]."""
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            rep.error("Expected value of type [INTEGER]", at.loc)
        else:
            _in_range(rep, value, at, low, high)
    return check


def number(low: float, high: float | None = None) -> Kind:
    """Kind: a JSON number in [low, high]."""
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            rep.error("Expected value of type [NUMBER]", at.loc)
        else:
            _in_range(rep, value, at, low, high)
    return check


def _in_range(rep: Report, value: float, at: Where, low: float, high: float | None) -> None:
    if value < low:
        rep.error(f"Value should be greater than or equal to {low}", at.loc)
    elif high is not None and value > high:
        rep.error(f"Value should be less than or equal to {high}", at.loc)


# RFC 3339 profile of the States Language: uppercase T, and Z or a numeric offset.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))")


def is_timestamp(text: str) -> bool:
    """True when the string is an RFC 3339 timestamp as the States Language requires."""
    match = _RFC3339.fullmatch(text)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    offset_ok = match.group(9) is None or (int(match.group(9)) < 24 and int(match.group(10)) < 60)
    return second <= 60 and offset_ok


def timestamp(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: an RFC 3339 timestamp string."""
    if not isinstance(value, str):
        rep.error("Expected value of type [STRING]", at.loc)
    elif not is_timestamp(value):
        rep.error("String does not match RFC3339 timestamp", at.loc)


def expr_or(kind: Kind) -> Kind:
    """Kind: in a JSONata state, a ``{% %}`` expression; otherwise (or else) ``kind``."""
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        if at.jsonata and jsonata_check.is_expression(value):
            jsonata_check.check(rep, value, at)
        else:
            kind(rep, value, at, name)
    return check


# ---------------------------------------------------------------- paths


def is_reference_path(path: str, *, allow_context: bool = True) -> bool:
    """A path to one node; with ``allow_context`` it may start at ``$$`` or ``$name``."""
    return _is_reference_path(path, allow_context_and_variables=allow_context)


def is_intrinsic(text: str) -> bool:
    """A syntactically valid call of a known intrinsic (arity is checked at run time, as AWS)."""
    if not intrinsics.is_intrinsic(text):  # a call at all? (the compiler expects one)
        return False
    try:
        intrinsics.compile_intrinsic(text)
    except ValueError:
        return False
    return True


def _path_kind(test: Callable[[str], bool], what: str, nullable: bool) -> Kind:
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str) or not test(value):
            rep.error(f"The value for the field '{name}' must be a valid {what}", at.loc)
    return check


path_or_null = _path_kind(is_valid_path, "JSONPath", nullable=True)
result_path = _path_kind(lambda p: is_reference_path(p, allow_context=False), "ReferencePath", True)
reference_path = _path_kind(is_reference_path, "ReferencePath", nullable=False)
path_or_intrinsic = _path_kind(
    lambda p: is_reference_path(p) or is_intrinsic(p), "ReferencePath or intrinsic function", False)


def looks_like_path(value: Any) -> bool:
    """A literal string that was probably meant to be evaluated (for NO_DOLLAR / NO_PATH)."""
    if not isinstance(value, str):
        return False
    return value.startswith(("$.", "$$.", "$[")) or (value.startswith("States.") and "(" in value)


# ---------------------------------------------------------------- payloads


def template(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a JSONPath payload template (Parameters, ResultSelector, ItemSelector, ...)."""
    if isinstance(value, dict):
        for key, member in value.items():
            _template_member(rep, key, member, at)
    elif isinstance(value, list):
        for i, member in enumerate(value):
            template(rep, member, at.index(i), name)


def _template_member(rep: Report, key: str, member: Any, at: Where) -> None:
    if key.endswith(".$"):
        if not (isinstance(member, str) and (is_valid_path(member) or is_intrinsic(member))):
            rep.error(f"The value for the field '{key}' must be a valid JSONPath "
                      "or a valid intrinsic function call", at.loc)
    elif looks_like_path(member):
        rep.warn("NO_DOLLAR", f"The value for the field '{key}' looks like a JSONPath or an "
                 "intrinsic function call, but the field name does not end with '.$'",
                 at.key(key).loc)
    else:
        template(rep, member, at.key(key), key)


def payload(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a JSONata payload (Arguments, Output, ...): every ``{% %}`` string is parsed."""
    if isinstance(value, dict):
        for key, member in value.items():
            payload(rep, member, at.key(key), key)
    elif isinstance(value, list):
        for i, member in enumerate(value):
            payload(rep, member, at.index(i), name)
    elif jsonata_check.is_expression(value):
        jsonata_check.check(rep, value, at)


def template_or_payload(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a payload template in a JSONPath state, a JSONata payload in a JSONata state."""
    (payload if at.jsonata else template)(rep, value, at, name)


def object_template(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a payload that must be an object (or, in JSONata, an expression)."""
    if isinstance(value, dict) or (at.jsonata and jsonata_check.is_expression(value)):
        template_or_payload(rep, value, at, name)
    else:
        rep.error("Expected value of type [OBJECT]", at.loc)

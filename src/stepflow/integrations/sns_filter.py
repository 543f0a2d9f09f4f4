"""SNS subscription filter policies (Amazon SNS developer guide, "Amazon SNS message filtering").

A policy maps property names to lists of conditions: every name must match (AND), one condition
of its list is enough (OR); ``"$or": [policy, ...]`` combines policies. Conditions: a string or
number (exact match), ``{"prefix"}``, ``{"suffix"}``, ``{"equals-ignore-case"}``,
``{"anything-but": value | [values] | {"prefix"|"suffix": ...}}``, ``{"numeric": [op, n, ...]}``
and ``{"exists": bool}``. With FilterPolicyScope ``MessageAttributes`` the properties are the
message attributes (a ``String.Array`` matches when one of its items does); with
``MessageBody`` the JSON message body, whose nested objects the policy mirrors. Hand-written:
no library implements SNS's matching rules.
"""

from __future__ import annotations

import json
import operator
from typing import Any

MISSING = object()
NUMERIC_OPS = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def accepts(policy: dict | None, scope: str, message: str, attributes: dict) -> bool:
    """Does a subscription with this filter policy receive the message?"""
    if not policy:
        return True
    if scope == "MessageBody":
        try:
            body = json.loads(message)
        except ValueError:
            return False
        return _matches_object(policy, body if isinstance(body, dict) else {})
    return _matches_object(policy, {name: _attribute_value(a) for name, a in (attributes or {}).items()})


def _attribute_value(attribute: dict) -> Any:
    data_type = attribute.get("DataType", "String")
    value = attribute.get("StringValue")
    if data_type.startswith("Number"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if data_type == "String.Array":
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return value
    return MISSING if data_type == "Binary" else value


def _matches_object(policy: dict, values: dict) -> bool:
    for key, conditions in policy.items():
        if key == "$or":
            if not any(_matches_object(alternative, values) for alternative in conditions):
                return False
            continue
        value = values.get(key, MISSING) if isinstance(values, dict) else MISSING
        if isinstance(conditions, dict):  # a nested body property
            if not (isinstance(value, dict) and _matches_object(conditions, value)):
                return False
        elif not _matches_value(conditions if isinstance(conditions, list) else [conditions], value):
            return False
    return True


def _matches_value(conditions: list, value: Any) -> bool:
    candidates = value if isinstance(value, list) else [value]
    return any(_condition(c, v) for c in conditions for v in candidates) or (
        value is MISSING and any(isinstance(c, dict) and c.get("exists") is False for c in conditions))


def _condition(condition: Any, value: Any) -> bool:
    if value is MISSING:
        return False
    if not isinstance(condition, dict):
        if isinstance(condition, (int, float)) and not isinstance(condition, bool):
            return _number(value) == condition
        return condition == value
    (kind, argument), = condition.items()
    return _OPERATORS.get(kind, lambda a, v: False)(argument, value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _numeric(spec: list, value: Any) -> bool:
    number = _number(value)
    if number is None:
        return False
    return all(NUMERIC_OPS[spec[i]](number, spec[i + 1]) for i in range(0, len(spec) - 1, 2))


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, dict):
        return not _condition(argument, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_condition(e, value) for e in excluded)


_OPERATORS = {
    "prefix": lambda a, v: isinstance(v, str) and v.startswith(a),
    "suffix": lambda a, v: isinstance(v, str) and v.endswith(a),
    "equals-ignore-case": lambda a, v: isinstance(v, str) and v.lower() == str(a).lower(),
    "anything-but": _anything_but,
    "numeric": _numeric,
    "exists": lambda a, v: bool(a),
}

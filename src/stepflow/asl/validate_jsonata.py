"""JSONata expressions of a definition, checked as AWS checks them at CreateStateMachine.

A string is an expression only when the whole string is ``{% ... %}``; anything else (even
``" {% x %} "``) is a literal. Every expression must parse (INVALID_JSONATA_EXPRESSION, with
the parser's message) and may not read the top-level context: a path must start from
``$states`` or a variable (UNSUPPORTED_JSONATA_EXPRESSION, "Reference to 'x' at the top level
is not supported."). ``$states.errorOutput`` exists only in a catcher's Output and Assign.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterator

import jsonata
from jsonata.jexception import JException

if TYPE_CHECKING:  # pragma: no cover
    from .validate_fields import Report, Where

INVALID = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED = "UNSUPPORTED_JSONATA_EXPRESSION"
ERROR_OUTPUT = "$states.errorOutput"

# AST members evaluated in the same context as their parent (path steps after the first,
# predicates, groups and lambda bodies read other contexts and are not walked).
_SAME_CONTEXT = ("lhs", "rhs", "expression", "expressions", "condition", "then", "_else",
                 "arguments", "procedure", "lhs_object")


def is_expression(value: Any) -> bool:
    """True for a string that is wholly one ``{% %}`` JSONata expression."""
    return (isinstance(value, str) and len(value) >= 4
            and value.startswith("{%") and value.endswith("%}"))


def check(rep: Report, value: str, at: Where) -> None:
    """Report a parse error or unsupported references of one ``{% %}`` expression."""
    ast, error = _parse(value[2:-2])
    if error is not None:
        rep.error(error, at.loc, INVALID)
        return
    for reference in dict.fromkeys(top_level_references(ast)):
        if reference == ERROR_OUTPUT:
            if not at.in_catch_output:
                rep.error(f"Field '{ERROR_OUTPUT}' does not exist.", at.loc, UNSUPPORTED)
        elif reference == "$$":
            rep.error("Reference to '$$' is not supported.", at.loc, UNSUPPORTED)
        else:
            rep.error(f"Reference to '{reference}' at the top level is not supported.",
                      at.loc, UNSUPPORTED)


@lru_cache(maxsize=4096)
def _parse(body: str) -> tuple[Any, str | None]:
    """(ast, None) or (None, AWS-style parser message)."""
    try:
        return jsonata.Jsonata(body).ast, None
    except JException as exc:
        return None, _message(exc)
    except Exception as exc:  # noqa: BLE001 - the parser's own bugs count as invalid input
        return None, str(exc)


def _message(exc: JException) -> str:
    """The parser message as JSONata-js words it: ``{{x}}`` tokens JSON-quoted, no code."""
    template = JException.error_codes.get(exc.error)
    placeholders = re.findall(r"\{\{\{?\w+\}\}\}?", template or "")
    args = [exc.current, exc.expected][:len(placeholders)]
    if template is None or None in args or len(placeholders) > 2:
        return str(exc)
    for placeholder, arg in zip(placeholders, args, strict=True):
        text = str(arg) if placeholder.startswith("{{{") else json.dumps(arg)
        template = template.replace(placeholder, text, 1)
    return template


def top_level_references(node: Any) -> Iterator[str]:
    """Names (and ``$$`` / ``$states.errorOutput``) read from the top-level context."""
    if isinstance(node, list):
        for item in node:
            yield from top_level_references(item)
        return
    kind = getattr(node, "type", None)
    if kind == "path":
        yield from _path_references(node.steps)
    elif kind == "name":
        yield node.value
    elif kind == "variable" and node.value == "$":
        yield "$$"
    elif kind is not None and kind != "lambda":
        for attr in _SAME_CONTEXT:
            yield from top_level_references(getattr(node, attr, None))


def _path_references(steps: list) -> Iterator[str]:
    """Only a path's first step reads the context it is evaluated in."""
    first = steps[0]
    is_states = getattr(first, "type", None) == "variable" and first.value == "states"
    if is_states and len(steps) > 1 and getattr(steps[1], "value", None) == "errorOutput":
        yield ERROR_OUTPUT
    yield from top_level_references(first)

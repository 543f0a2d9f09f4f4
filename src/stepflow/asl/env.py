"""What a JSONPath-mode expression can read while a state runs.

``$`` is the state's input (or whatever document the field is evaluated against), ``$$`` the
context object, ``$name`` a variable visible in the current scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

EMPTY_VARIABLES: Mapping[str, Any] = MappingProxyType({})


class Env:
    """The three roots a JSONPath expression may start from."""

    __slots__ = ("input", "context", "variables")

    def __init__(self, input: Any, context: Any = None, variables: Mapping[str, Any] = EMPTY_VARIABLES):
        self.input = input
        self.context = context
        self.variables = variables

    def with_input(self, value: Any) -> "Env":
        """The same context and variables, another ``$`` document."""
        return Env(value, self.context, self.variables)

    def __repr__(self) -> str:
        return f"Env(input={self.input!r}, context={self.context!r}, variables={dict(self.variables)!r})"

"""What a JSONPath-mode expression can read while a state runs.

``$`` is the state's input (or whatever document the field is evaluated against), ``$$`` the
context object, ``$name`` a variable visible in the current scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EMPTY_VARIABLES: Mapping[str, Any] = {}


@dataclass(slots=True)
class Env:
    """The three roots a JSONPath expression may start from."""

    input: Any
    context: Any = None
    variables: Mapping[str, Any] = EMPTY_VARIABLES

    def with_input(self, value: Any) -> "Env":
        """The same context and variables, another ``$`` document."""
        return Env(value, self.context, self.variables)

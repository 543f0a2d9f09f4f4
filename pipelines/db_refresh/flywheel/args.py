"""Glue-style job arguments: ``get_resolved_options(argv, required, defaults)``.

Mirrors ``awsglue.utils.getResolvedOptions`` (arguments written ``--NAME value`` and looked up
without the dashes), with what the Glue runtime's own parser leaves to each job:

* ``--NAME=value`` is accepted as well as ``--NAME value``;
* unknown arguments are ignored (Glue injects ``--JOB_ID``, ``--TempDir``, ``--enable-metrics``,
  stepflow ``--job-bookmark-option`` ...);
* every missing required name is reported at once;
* ``_NONE_`` and ``''`` mean "not given" (the original workflow passes ``--SNAPSHOT_DT _NONE_``),
  so an optional argument falls back to its default and a required one counts as missing;
* values stay strings; the typed getters of :class:`ResolvedOptions` convert them explicitly and
  name the argument when a value does not convert.

Hand-written rather than argparse: argparse rejects unknown arguments unless told otherwise,
treats ``--a=b`` and prefixes specially (``--SNAP`` would match ``--SNAPSHOT_DT``), and stops at
the first missing argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from flywheel.errors import ArgumentError

NOT_GIVEN = ("_NONE_", "")
TRUE_WORDS = ("true", "1", "yes", "y")
FALSE_WORDS = ("false", "0", "no", "n")


def parse_argv(argv: Sequence[str]) -> dict[str, str]:
    """Every ``--NAME value`` / ``--NAME=value`` pair of ``argv`` (the last one of a name wins).
    A ``--NAME`` followed by another ``--X`` or by nothing has the value ``''``; tokens that are
    not the value of a name are ignored (the script path, stray words)."""
    out: dict[str, str] = {}
    tokens = list(argv)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--") or len(token) == 2:
            continue
        name, eq, value = token[2:].partition("=")
        if not eq:
            has_value = i < len(tokens) and not tokens[i].startswith("--")
            value = tokens[i] if has_value else ""
            i += 1 if has_value else 0
        out[name] = value
    return out


def get_resolved_options(argv: Sequence[str], required: Iterable[str],
                         defaults: Mapping[str, str | None] | None = None) -> "ResolvedOptions":
    """The ``required`` names and those of ``defaults`` resolved from ``argv``.

    Raises :class:`ArgumentError` naming every required argument that is missing (absent,
    ``''`` or ``_NONE_``). An optional argument given as ``''``/``_NONE_`` takes its default; a
    default of ``None`` (or ``_NONE_``) resolves to ``None``."""
    given = {k: v for k, v in parse_argv(argv).items() if v not in NOT_GIVEN}
    required = list(required)
    missing = [name for name in required if name not in given]
    if missing:
        raise ArgumentError("missing required argument(s): " + ", ".join(f"--{n}" for n in missing))
    resolved = {name: given[name] for name in required}
    for name, default in (defaults or {}).items():
        value = given.get(name, default)
        resolved[name] = None if value in NOT_GIVEN or value is None else str(value)
    return ResolvedOptions(resolved)


class ResolvedOptions(dict):
    """The resolved arguments (strings or ``None``) with explicit typed getters."""

    def text(self, name: str) -> str | None:
        return self[name]

    def integer(self, name: str, minimum: int | None = None) -> int:
        value = self._given(name)
        try:
            number = int(value)
        except ValueError:
            raise ArgumentError(f"--{name} must be an integer, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ArgumentError(f"--{name} must be at least {minimum}, got {number}")
        return number

    def number(self, name: str) -> float:
        value = self._given(name)
        try:
            return float(value)
        except ValueError:
            raise ArgumentError(f"--{name} must be a number, got {value!r}") from None

    def flag(self, name: str) -> bool:
        value = self._given(name).strip().lower()
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise ArgumentError(f"--{name} must be true or false, got {self[name]!r}")

    def date(self, name: str) -> dt.date | None:
        value = self[name]
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else dt.date.fromisoformat(value)
        except ValueError:
            raise ArgumentError(f"--{name} must be a date YYYY-MM-DD, got {value!r}") from None

    def _given(self, name: str) -> str:
        value = self[name]
        if value is None:
            raise ArgumentError(f"--{name} is required here")
        return value

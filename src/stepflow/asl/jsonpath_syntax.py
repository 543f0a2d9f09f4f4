"""The syntax half of stepflow's JSONPath: Jayway's path grammar, selectors and tail functions.

:mod:`stepflow.asl.jsonpath` compiles and evaluates paths with these pieces; see its docstring
for why the walker is hand-written and where jsonpath-ng is used (filter predicates).
Selectors signal "no match where one was required" with ``LookupError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from jsonpath_ng.ext import parse as _ng_parse

INPUT, CONTEXT, VARIABLE = "input", "context", "variable"
_NAME_STOP = frozenset(".[]() \t\r\n")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT = re.compile(r"\s*-?\d+\s*")


# --------------------------------------------------------------------------- segments


class Name:
    """``.a`` / ``['a']``: one object member."""

    definite = True

    def __init__(self, key: str):
        self.key = key

    def apply(self, node: Any, out: list, strict: bool) -> None:
        if isinstance(node, dict) and self.key in node:
            out.append(node[self.key])
        elif strict:
            raise LookupError(self.key)

    def norm(self) -> str:
        return f"['{self.key}']"


class Index:
    """``[3]`` / ``[-1]``: one array element."""

    definite = True

    def __init__(self, index: int):
        self.key = index

    def apply(self, node: Any, out: list, strict: bool) -> None:
        if isinstance(node, list) and -len(node) <= self.key < len(node):
            out.append(node[self.key])
        elif strict:
            raise LookupError(self.key)

    def norm(self) -> str:
        return f"[{self.key}]"


class Names:
    """``['a','b']``: a merged object when it is the last segment (Jayway), else a union."""

    def __init__(self, keys: tuple[str, ...]):
        self.keys = keys
        self.definite = False  # set to True by the parser when it is the leaf

    def apply(self, node: Any, out: list, strict: bool) -> None:
        if not isinstance(node, dict):
            if strict:
                raise LookupError(self.keys)
            return
        present = [k for k in self.keys if k in node]
        if self.definite:
            out.append({k: node[k] for k in present})
        else:
            out.extend(node[k] for k in present)

    def norm(self) -> str:
        return "[" + ",".join(f"'{k}'" for k in self.keys) + "]"


class Indices:
    """``[0,2]``: a union of array elements."""

    definite = False

    def __init__(self, indices: tuple[int, ...]):
        self.indices = indices

    def apply(self, node: Any, out: list, strict: bool) -> None:
        if isinstance(node, list):
            n = len(node)
            out.extend(node[i] for i in self.indices if -n <= i < n)

    def norm(self) -> str:
        return "[" + ",".join(map(str, self.indices)) + "]"


class Slice:
    """``[a:b]``: Jayway ignores a step, so do we."""

    definite = False

    def __init__(self, start: int | None, end: int | None):
        self.start, self.end = start, end

    def apply(self, node: Any, out: list, strict: bool) -> None:
        if isinstance(node, list):
            out.extend(node[self.start : self.end])

    def norm(self) -> str:
        a = "" if self.start is None else str(self.start)
        b = "" if self.end is None else str(self.end)
        return f"[{a}:{b}]"


class Wildcard:
    """``.*`` / ``[*]``: every member value or element."""

    definite = False

    def apply(self, node: Any, out: list, strict: bool) -> None:
        if isinstance(node, dict):
            out.extend(node.values())
        elif isinstance(node, list):
            out.extend(node)

    def norm(self) -> str:
        return "[*]"


class Filter:
    """``[?(expr)]``: the predicate is evaluated by jsonpath-ng's extended parser."""

    definite = False

    def __init__(self, expr: str):
        try:
            self.compiled = _ng_parse(f"$[?({expr})]")
        except Exception as exc:  # jsonpath-ng raises several unrelated types
            raise ValueError(f"invalid filter expression '{expr}': {exc}") from None

    def apply(self, node: Any, out: list, strict: bool) -> None:
        if isinstance(node, list):
            out.extend(m.value for m in self.compiled.find(node))
        elif isinstance(node, dict) and self.compiled.find([node]):
            out.append(node)  # Jayway applies a filter to a single object too

    def norm(self) -> str:
        return "[?]"


class Deep:
    """``..x``: apply the inner selector to every container, in document pre-order."""

    definite = False

    def __init__(self, inner: Any):
        self.inner = inner

    def apply(self, node: Any, out: list, strict: bool) -> None:
        for container in _containers(node):
            self.inner.apply(container, out, False)

    def norm(self) -> str:
        return ".." + self.inner.norm()


def _containers(node: Any) -> list:
    """Every object and array under ``node`` (itself first), depth-first in document order."""
    stack, found = [node], []
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            found.append(current)
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            found.append(current)
            stack.extend(reversed(current))
    return found


# --------------------------------------------------------------------------- functions


def _numbers(value: Any) -> list:
    """The numeric elements Jayway's aggregation functions read."""
    if not isinstance(value, list):
        raise LookupError("aggregation on a non-array")
    nums = [float(v) for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums:
        raise LookupError("Aggregation function attempted to calculate value using empty array")
    return nums


def _length(value: Any) -> Any:
    return len(value) if isinstance(value, (list, dict, str)) else None


def _stddev(value: Any) -> float:
    nums = _numbers(value)
    mean = sum(nums) / len(nums)
    return math.sqrt(sum(x * x for x in nums) / len(nums) - mean * mean)


def _first_last(index: int) -> Callable[[Any], Any]:
    def pick(value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise LookupError("first()/last() need a non-empty array")
        return value[index]

    return pick


def _keys(value: Any) -> list:
    if not isinstance(value, dict):
        raise LookupError("keys() needs an object")
    return list(value)


FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "length": _length,
    "size": _length,
    "min": lambda v: min(_numbers(v)),
    "max": lambda v: max(_numbers(v)),
    "sum": lambda v: float(sum(_numbers(v))),
    "avg": lambda v: sum(_numbers(v)) / len(_numbers(v)),
    "stddev": _stddev,
    "keys": _keys,
    "first": _first_last(0),
    "last": _first_last(-1),
}


# --------------------------------------------------------------------------- parser


class PathParser:
    """Reads Jayway path syntax into a root and a list of segments."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.segments: list = []
        self.function: str | None = None

    def fail(self, why: str) -> ValueError:
        return ValueError(f"Invalid JSONPath '{self.text}': {why} at position {self.pos}")

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def root(self) -> tuple[str, str | None]:
        if not self.text.startswith("$"):
            raise self.fail("a path must start with '$'")
        if self.text.startswith("$$"):
            self.pos = 2
            return CONTEXT, None
        match = _VAR_NAME.match(self.text, 1)
        if match:
            self.pos = match.end()
            return VARIABLE, match.group()
        self.pos = 1
        return INPUT, None

    def parse(self) -> None:
        while self.pos < len(self.text):
            if self.function is not None:
                raise self.fail("a function must be the last part of a path")
            self.segment()
        if self.segments and isinstance(self.segments[-1], Names):
            self.segments[-1].definite = True

    def segment(self) -> None:
        c = self.peek()
        if c == "." and self.peek(1) == ".":
            self.pos += 2
            self.segments.append(Deep(self.deep_selector()))
        elif c == ".":
            self.pos += 1
            self.dot_selector()
        elif c == "[":
            self.segments.append(self.bracket())
        else:
            raise self.fail(f"unexpected character {c!r}")

    def deep_selector(self) -> Any:
        if self.peek() == "[":
            return self.bracket()
        if self.peek() == "*":
            self.pos += 1
            return Wildcard()
        name = self.name()
        if self.peek() == "(":
            raise self.fail("a function cannot follow '..'")
        return Name(name)

    def dot_selector(self) -> None:
        if self.peek() == "*":
            self.pos += 1
            self.segments.append(Wildcard())
            return
        name = self.name()
        if self.peek() != "(":
            self.segments.append(Name(name))
            return
        if not self.text.startswith("()", self.pos) or name not in FUNCTIONS:
            raise self.fail(f"unsupported function '{name}'")
        self.pos += 2
        self.function = name

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _NAME_STOP:
            self.pos += 1
        if self.pos == start:
            raise self.fail("a path must not end with '.' or contain an empty name")
        if self.peek() in ("]", ")") or self.peek().isspace():
            raise self.fail(f"unexpected character {self.peek()!r}")
        return self.text[start : self.pos]

    def bracket(self) -> Any:
        self.pos += 1  # '['
        self.skip_space()
        c = self.peek()
        if c == "*":
            self.pos += 1
            seg: Any = Wildcard()
        elif c == "?":
            seg = Filter(self.filter_expression())
        elif c in ("'", '"'):
            seg = self.quoted_names()
        else:
            seg = self.numeric()
        self.skip_space()
        if self.peek() != "]":
            raise self.fail("expected ']'")
        self.pos += 1
        return seg

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def quoted_names(self) -> Any:
        names = [self.quoted()]
        self.skip_space()
        while self.peek() == ",":
            self.pos += 1
            self.skip_space()
            names.append(self.quoted())
            self.skip_space()
        return Name(names[0]) if len(names) == 1 else Names(tuple(names))

    def quoted(self) -> str:
        """A quoted name; a backslash protects the next character but is kept (as AWS does)."""
        quote = self.peek()
        if quote not in ("'", '"'):
            raise self.fail("expected a quoted name")
        i = self.pos + 1
        while i < len(self.text) and self.text[i] != quote:
            i += 2 if self.text[i] == "\\" else 1
        if i >= len(self.text):
            raise self.fail("unterminated quoted name")
        name, self.pos = self.text[self.pos + 1 : i], i + 1
        return name

    def numeric(self) -> Any:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.fail("expected ']'")
        body, self.pos = self.text[self.pos : end], end
        if ":" in body:
            return self.slice(body)
        parts = body.split(",")
        if not all(_INT.fullmatch(p) for p in parts):
            raise self.fail(f"invalid array index '{body}'")
        if len(parts) == 1:
            return Index(int(parts[0]))
        return Indices(tuple(int(p) for p in parts))

    def slice(self, body: str) -> Slice:
        bounds = body.split(":")
        if len(bounds) > 3 or not all(not b.strip() or _INT.fullmatch(b) for b in bounds):
            raise self.fail(f"invalid array slice '{body}'")
        start, end = (int(b) if b.strip() else None for b in bounds[:2])
        return Slice(start, end)

    def filter_expression(self) -> str:
        self.pos += 1  # '?'
        if self.peek() != "(":
            raise self.fail("expected '(' after '?'")
        start, end = self.pos + 1, _closing_paren(self.text, self.pos)
        if end < 0:
            raise self.fail("unterminated filter expression")
        self.pos = end + 1
        return self.text[start:end]


def _closing_paren(text: str, open_at: int) -> int:
    """Index of the ')' matching the '(' at ``open_at``, skipping quoted strings; -1 if none."""
    depth, quote, i = 0, "", open_at
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in ("'", '"'):
            quote = c
        elif c in "()":
            depth += 1 if c == "(" else -1
            if depth == 0:
                return i
        i += 1
    return -1

"""Intrinsic function calls of JSONPath states (``States.Format(...)`` and friends).

This module parses and compiles a call; the 18 functions live in
:mod:`stepflow.asl.intrinsic_functions`.

The parser is hand-written: the grammar is tiny and AWS-specific (single-quoted strings whose only
escapes are ``\\'`` ``\\{`` ``\\}`` ``\\\\``, numbers, ``null``/``true``/``false``, JSONPath
arguments rooted at ``$``, ``$$`` or ``$var``, nested calls), and no library parses it.

Behaviour follows AWS as observed, where it differs from the documentation:

* a runtime failure (bad argument type or range, wrong argument count, an out-of-range index)
  is ``States.Runtime`` with the cause ``Invalid arguments in States.<Name>`` — AWS accepts such
  definitions and fails the execution; ``compile_intrinsic(text, strict=True)`` reports arity
  problems at compile time instead, for linting;
* integer arguments are truncated toward zero (ArrayRange, ArrayGetItem, MathRandom, ...) except
  in States.MathAdd, which rounds half up like Java's ``Math.round``;
* values are turned into text the way Java's ``toString`` does (``{a=1, b=[1, 2]}``) in
  States.Format, States.Hash and States.ArrayContains's comparison.

A JSONPath argument that matches nothing raises :class:`~stepflow.asl.jsonpath.PathNotFound`;
the payload template turns it into AWS's "could not be found in the input" error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepflow.asl.intrinsic_functions import (
    FUNCTIONS,
    INTRINSIC_ERROR,
    Spec,
    f_format,
    invalid_arguments,
    java_str,
)
from stepflow.asl.jsonpath import JsonPath, compile_path

if TYPE_CHECKING:
    from stepflow.asl.env import Env

__all__ = ["FUNCTIONS", "INTRINSIC_ERROR", "compile_intrinsic", "is_intrinsic", "java_str"]

MAX_NESTING = 10
_CALL_START = re.compile(r"\s*States\.[A-Za-z0-9]+\s*\(")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_ESCAPABLE = "'{}\\"


def is_intrinsic(text: Any) -> bool:
    """Whether a ``.$`` value is an intrinsic call (rather than a path)."""
    return isinstance(text, str) and _CALL_START.match(text) is not None


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class _Literal:
    value: Any
    raw: str | None = None  # a string literal's text between the quotes, escapes intact


@dataclass(frozen=True, slots=True)
class _Path:
    path: JsonPath


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple


class _Parser:
    """Recursive descent over the intrinsic grammar."""

    def __init__(self, text: str):
        self.text, self.pos, self.depth = text, 0, 0

    def fail(self, why: str) -> ValueError:
        return ValueError(f"Invalid intrinsic function '{self.text}': {why} at position {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def parse(self) -> _Call:
        self.skip_space()
        call = self.call()
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the call")
        return call

    def call(self) -> _Call:
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() in "._"):
            self.pos += 1
        name = self.text[start : self.pos]
        if name not in FUNCTIONS:
            raise self.fail(f"unknown function '{name}'")
        self.skip_space()
        if self.peek() != "(":
            raise self.fail("expected '('")
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"more than {MAX_NESTING} nested intrinsic functions")
        args = self.arguments()
        self.depth -= 1
        return _Call(name, tuple(args))

    def arguments(self) -> list:
        self.pos += 1  # '('
        self.skip_space()
        args: list = []
        if self.peek() == ")":
            self.pos += 1
            return args
        while True:
            args.append(self.argument())
            self.skip_space()
            c = self.peek()
            self.pos += 1
            if c == ")":
                return args
            if c != ",":
                self.pos -= 1
                raise self.fail("expected ',' or ')'")
            self.skip_space()

    def argument(self) -> Any:
        c = self.peek()
        if c == "'":
            return self.string()
        if c == "$":
            return _Path(self.path())
        if c == "-" or c.isdigit():
            return self.number()
        for word, value in (("null", None), ("true", True), ("false", False)):
            if self.text.startswith(word, self.pos) and not self._ident_char(len(word)):
                self.pos += len(word)
                return _Literal(value)
        if self.text.startswith("States.", self.pos):
            return self.call()
        raise self.fail("expected an argument")

    def _ident_char(self, offset: int) -> bool:
        i = self.pos + offset
        return i < len(self.text) and (self.text[i].isalnum() or self.text[i] == "_")

    def string(self) -> _Literal:
        self.pos += 1  # opening quote
        start, chars = self.pos, []
        while self.peek() != "'":
            c = self.peek()
            if not c:
                raise self.fail("unterminated string literal")
            if c == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if not escaped or escaped not in _ESCAPABLE:
                    raise self.fail(f"invalid escape sequence '\\{escaped}'")
                c = escaped
                self.pos += 1
            chars.append(c)
            self.pos += 1
        raw = self.text[start : self.pos]
        self.pos += 1  # closing quote
        return _Literal("".join(chars), raw)

    def number(self) -> _Literal:
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            raise self.fail("invalid number")
        self.pos = match.end()
        token = match.group()
        return _Literal(int(token) if match.group(1) is None and match.group(2) is None
                        else float(token))

    def path(self) -> JsonPath:
        """A path runs to the next top-level ',' or ')' (brackets and quotes may hold them)."""
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if quote:
                quote = "" if c == quote else quote
            elif c in "'\"":
                quote = c
            elif c in "[(":
                depth += 1
            elif c in "])":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (c == "," or c.isspace()):
                break
            self.pos += 1
        try:
            return compile_path(self.text[start : self.pos])
        except ValueError as exc:
            raise self.fail(str(exc)) from None


# --------------------------------------------------------------------------- compiler


def _compile_node(node: Any, strict: bool) -> Callable[[Env], Any]:
    if isinstance(node, _Literal):
        value = node.value
        return lambda env: value
    if isinstance(node, _Path):
        return node.path.get
    return _compile_call(node, strict)


def _compile_call(call: _Call, strict: bool) -> Callable[[Env], Any]:
    spec, name, n = FUNCTIONS[call.name], call.name, len(call.args)
    if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
        if strict:
            raise ValueError(f"{name} takes {_arity_text(spec)} argument(s), got {n}")
        return _always_invalid(name)
    args = tuple(_compile_node(a, strict) for a in call.args)
    impl = spec.impl
    first = call.args[0] if call.args else None
    if impl is f_format and isinstance(first, _Literal) and first.raw is not None:
        raw = first.raw
        return lambda env: f_format([a(env) for a in args], name, raw)
    return lambda env: impl([a(env) for a in args], name)


def _arity_text(spec: Spec) -> str:
    if spec.max_args is None:
        return f"at least {spec.min_args}"
    if spec.min_args == spec.max_args:
        return str(spec.min_args)
    return f"{spec.min_args} to {spec.max_args}"


def _always_invalid(name: str) -> Callable[[Env], Any]:
    def fail(env: Env) -> Any:
        raise invalid_arguments(name)

    return fail


@functools.lru_cache(maxsize=4096)
def compile_intrinsic(text: str, *, strict: bool = False) -> Callable[[Env], Any]:
    """Compile an intrinsic call to ``env -> value``.

    ``ValueError`` for syntax errors, unknown functions and nesting deeper than 10; with
    ``strict=True`` also for a wrong number of arguments (AWS itself fails those at run time).
    """
    if not isinstance(text, str):
        raise ValueError("an intrinsic function must be a string")
    return _compile_call(_Parser(text).parse(), strict)

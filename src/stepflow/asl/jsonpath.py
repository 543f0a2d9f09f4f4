"""JSONPath as AWS Step Functions evaluates it (Jayway JsonPath semantics).

Roots: ``$`` is ``env.input``, ``$$`` the context object, ``$name`` the variable ``name``.

Why the walker is hand-written (jsonpath-ng is used only for filter predicates):
jsonpath-ng cannot express several behaviours AWS inherits from Jayway —
``$$``/``$var`` roots, ``.length()`` and the other tail functions, index selectors that must
*not* match objects (jsonpath-ng treats ``$.obj[0]`` as ``$.obj``), filters applied to a single
object, the merged-object result of a leaf ``['a','b']``, and bracket names whose backslashes are
kept verbatim (AWS matches ``$['a\\"b']`` against the key ``a\\"b``). It is also far too slow for
the reference paths that run on every transition: those are compiled to a tuple of keys and
indices and walked directly. The grammar and the selectors live in
:mod:`stepflow.asl.jsonpath_syntax`.

A *definite* (reference) path — dot/bracket names and integer indices only — returns its single
value or raises :class:`PathNotFound`. Any other path returns the list of matches (possibly
empty), as Jayway does; a path ending in a function (``.length()``) returns the function's value.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any

from stepflow.asl.json_text import dumps
from stepflow.asl.jsonpath_syntax import (
    CONTEXT,
    FUNCTIONS,
    INPUT,
    VARIABLE,
    Index,
    Name,
    PathParser,
)
from stepflow.errors import StatesError

__all__ = [
    "CONTEXT", "INPUT", "RESULT_PATH_ERROR", "VARIABLE", "JsonPath", "PathNotFound",
    "apply_result_path", "compile_path", "is_reference_path", "is_valid_path",
]

if TYPE_CHECKING:  # only annotations: the runtime needs nothing but .input/.context/.variables
    from stepflow.asl.env import Env

# Evidence from real executions ("Unable to apply ReferencePath $.x to input \"input1\"") shows AWS
# reports a ResultPath that cannot be applied as States.ReferencePathConflict, not as the spec's
# States.ResultPathMatchFailure. Kept in one constant so it is a one-line change if proven wrong.
RESULT_PATH_ERROR = "States.ReferencePathConflict"

_MISSING: Any = object()


class PathNotFound(Exception):
    """A definite path with no match; ``document`` is the root it was evaluated against."""

    def __init__(self, path: str, document: Any = None, normalized: str | None = None):
        detail = f" : No results for path: {normalized}" if normalized else ""
        super().__init__(f"Invalid path '{path}'{detail}")
        self.path = path
        self.document = document
        self.normalized = normalized


# --------------------------------------------------------------------------- compiled path


class JsonPath:
    """A compiled path. Use :func:`compile_path`; instances are immutable and shared."""

    __slots__ = ("text", "root", "variable", "is_definite", "_keys", "_segments", "_function",
                 "_single")

    def __init__(self, text: str):
        parser = PathParser(text)
        self.text = text
        self.root, self.variable = parser.root()
        parser.parse()
        self._segments = tuple(parser.segments)
        self._function = parser.function
        simple = all(type(s) in (Name, Index) for s in self._segments)
        self.is_definite = simple and self._function is None
        self._keys = tuple(s.key for s in self._segments) if simple else ()
        self._single = all(s.definite for s in self._segments)

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"

    def root_document(self, env: Env) -> Any:
        """The document this path starts from (``$``, ``$$`` or a variable's value)."""
        if self.root is INPUT:
            return env.input
        if self.root is CONTEXT:
            return env.context
        try:
            return env.variables[self.variable]
        except KeyError:
            raise PathNotFound(self.text, env.input, self.normalized()) from None

    def get(self, env: Env) -> Any:
        """The value (definite path) or list of matches (indefinite path)."""
        doc = self.root_document(env)
        if self.is_definite:
            return self._walk(doc)
        return self._evaluate(doc)

    def reader(self):
        """``self.get`` as the cheapest equivalent callable, for paths read on every transition
        (Choice rules): ``$`` is a C attribute getter, a reference path under ``$`` skips the
        root lookup."""
        if self.root is not INPUT or not self.is_definite:
            return self.get
        if not self._keys:
            return operator.attrgetter("input")
        walk = self._walk
        return lambda env: walk(env.input)

    def _walk(self, doc: Any) -> Any:
        """The fast path: a reference path is a tuple of keys and indices."""
        node = doc
        for key in self._keys:
            if key.__class__ is int:
                if not isinstance(node, list) or not -len(node) <= key < len(node):
                    raise PathNotFound(self.text, doc, self.normalized())
                node = node[key]
            else:
                if not isinstance(node, dict) or key not in node:
                    raise PathNotFound(self.text, doc, self.normalized())
                node = node[key]
        return node

    def _evaluate(self, doc: Any) -> Any:
        """The general evaluator: a list of nodes flows through each segment."""
        nodes = [doc]
        try:
            for segment in self._segments:
                out: list = []
                for node in nodes:
                    # Jayway: an indefinite path with no match yields [], whatever is missing.
                    segment.apply(node, out, False)
                nodes = out
            result = nodes[0] if self._single else nodes
            if self._function is not None:
                result = FUNCTIONS[self._function](result)
        except LookupError:
            raise PathNotFound(self.text, doc, self.normalized()) from None
        return result

    def exists(self, env: Env) -> bool:
        """Whether the path matches anything (an indefinite path: at least one match)."""
        try:
            value = self.get(env)
        except PathNotFound:
            return False
        return self._single or self._function is not None or bool(value)

    def normalized(self) -> str:
        """Jayway's bracket form, e.g. ``$['a']['b'][0]``, as AWS prints it in messages."""
        tail = f".{self._function}()" if self._function else ""
        return "$" + "".join(s.norm() for s in self._segments) + tail


@functools.lru_cache(maxsize=8192)
def compile_path(text: str) -> JsonPath:
    """Compile (once, cached) a JSONPath; ``ValueError`` with a clear message on bad syntax."""
    if not isinstance(text, str):
        raise ValueError(f"a JSONPath must be a string, not {type(text).__name__}")
    return JsonPath(text.strip())


def is_valid_path(text: str) -> bool:
    """Whether ``text`` is a JSONPath stepflow (and AWS) accepts."""
    try:
        compile_path(text)
    except ValueError:
        return False
    return True


def is_reference_path(text: str, *, allow_context_and_variables: bool = False) -> bool:
    """A reference path identifies one node: names and integer indices only.

    By default only ``$``-rooted paths qualify (ResultPath); pass
    ``allow_context_and_variables=True`` for fields that may read ``$$`` or ``$var``.
    """
    try:
        path = compile_path(text)
    except ValueError:
        return False
    return path.is_definite and (allow_context_and_variables or path.root is INPUT)


# --------------------------------------------------------------------------- ResultPath


def apply_result_path(raw_input: Any, path: JsonPath | None, result: Any) -> Any:
    """ResultPath: ``$`` replaces the input, ``None`` keeps it, ``$.a.b`` sets a.b in a copy.

    Only the containers along the path are copied; the caller's value is never mutated.
    """
    if path is None:
        return raw_input
    if path.root is not INPUT or not path.is_definite:
        raise ValueError(f"ResultPath must be a reference path rooted at '$': '{path.text}'")
    if not path._keys:
        return result
    return _set_at(raw_input, path._keys, 0, result, path, raw_input)


def _set_at(node: Any, keys: tuple, i: int, value: Any, path: JsonPath, whole: Any) -> Any:
    """A copy of ``node`` with ``keys[i:]`` set to ``value``; missing objects are created."""
    key, last = keys[i], i == len(keys) - 1
    if key.__class__ is int:
        if not isinstance(node, list) or not -len(node) <= key < len(node):
            raise _result_path_conflict(path, whole)
        copy: Any = list(node)
        copy[key] = value if last else _set_at(node[key], keys, i + 1, value, path, whole)
        return copy
    if node is _MISSING:
        node = {}
    elif not isinstance(node, dict):
        raise _result_path_conflict(path, whole)
    copy = dict(node)
    copy[key] = value if last else _set_at(node.get(key, _MISSING), keys, i + 1, value, path, whole)
    return copy


def _result_path_conflict(path: JsonPath, raw_input: Any) -> StatesError:
    """AWS's wording for a ResultPath the input cannot hold."""
    return StatesError(
        RESULT_PATH_ERROR,
        f"Unable to apply ReferencePath {path.text} to input {dumps(raw_input)}",
    )

"""The JSONata dialect of AWS Step Functions: its added functions and its error wording.

Step Functions implements JSONata 2.0.6 with every built-in function except ``$eval`` (use
``$parse``), and adds six functions (developer guide, "Transforming data with JSONata",
section "JSONata functions provided by Step Functions"):

==========================  ===========================================================
``$partition(array, n)``    chunks of ``n`` items; the last chunk may be shorter
``$range(start, end, s)``   ``start``, ``start+s``, ... up to and including ``end``
``$hash(value, algorithm)`` hex digest of the UTF-8 text; MD5, SHA-1, SHA-256/384/512
``$random([seed])``         a number in [0, 1); the same seed gives the same number
``$uuid()``                 a version 4 UUID
``$parse(jsonString)``      the JSON value the text holds
==========================  ===========================================================

The docs do not describe edge cases; those below follow behaviour reported from real AWS
(argument numbers truncated toward zero; ``$partition``/``$range`` answer nothing for an empty
result; a seeded ``$random`` draws what ``java.util.Random(seed).nextDouble()`` draws).

Every function is bound in :data:`AWS_FRAME`, the parent frame of every compiled expression;
``eval`` is bound to nothing there, so calling it is JSONata's own "T1006: Attempted to invoke a
non-function", which is what AWS answers.

:func:`describe_error` renders a jsonata-python error as jsonata-js (and so AWS) words it:
jsonata-python's message catalogue says "Object" where jsonata-js says "function" and fills
placeholders positionally without JSON quoting; AWS causes read ``T0410: Argument 1 of function
"each" does not match function signature``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

from jsonata.jexception import JException
from jsonata.jsonata import Jsonata
from jsonata.utils import Utils

HASH_ALGORITHMS: dict[str, str] = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}

#: The most elements ``$range`` builds; AWS fails larger values on its memory limit.
MAX_RANGE_ELEMENTS = 1_000_000

MEMORY_LIMIT_MESSAGE = "Expression evaluation memory limit exceeded"

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _fail(message: str) -> JException:
    """A JSONata dynamic error carrying ``message`` (code D3137, as ``$error()`` raises)."""
    return JException("D3137", -1, message)


def _truncate(number: float | int) -> int:
    """Toward zero, as AWS converts a number argument to an integer."""
    return int(number)


# --- the six functions ---------------------------------------------------------------------


def partition(array: list, size: float | None) -> list | None:
    """``$partition``: consecutive chunks of ``size`` items (one chunk when size is absent)."""
    if size is None:
        return [list(array)] if array else None
    chunk = _truncate(size)
    if chunk < 0:
        raise _fail("Second argument must be zero or greater")
    if chunk == 0 or not array:
        return None
    return [list(array[i : i + chunk]) for i in range(0, len(array), chunk)]


def range_(start: float, end: float, step: float | None) -> list | None:
    """``$range``: an inclusive arithmetic sequence; nothing when it would be empty."""
    if step is None or _truncate(step) == 0:
        return None
    first, last, by = _truncate(start), _truncate(end), _truncate(step)
    count = (last - first) // by + 1
    if count <= 0:
        return None
    if count > MAX_RANGE_ELEMENTS:
        raise JException(MEMORY_LIMIT_MESSAGE, -1)
    # A JSONata sequence, so a single element is answered as that element.
    return Utils.create_sequence_from_iter(first + i * by for i in range(count))


def hash_(value: str | None, algorithm: str | None) -> str | None:
    """``$hash``: lowercase hex digest of the value's UTF-8 bytes."""
    if value is None or algorithm is None:
        return None
    name = HASH_ALGORITHMS.get(algorithm)
    if name is None:
        supported = ", ".join(HASH_ALGORITHMS)
        raise _fail(f"The hash algorithm '{algorithm}' is not supported. Supported: {supported}")
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def random_(seed: float | None) -> float:
    """``$random``: uniform in [0, 1); reproducible for a given seed."""
    if seed is None:
        return random.random()
    return JavaRandom(_truncate(seed)).next_double()


def uuid_() -> str:
    """``$uuid``: a random (version 4) UUID in its canonical text form."""
    return str(uuid.uuid4())


def parse(text: str | None) -> Any:
    """``$parse``: the JSON value of ``text``; strict JSON only (one document, unique keys)."""
    if text is None:
        return None
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _fail("Invalid JSON") from exc
    return _null_marked(value)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def _null_marked(value: Any) -> Any:
    """JSON null as JSONata's null marker at the top (a bare None would read as undefined)."""
    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise _fail("Invalid JSON")
    if isinstance(value, int) and not isinstance(value, bool) and not _LONG_MIN <= value <= _LONG_MAX:
        return float(value)
    return value


# --- java.util.Random, for seeded $random --------------------------------------------------

class JavaRandom:
    """The linear congruential generator specified by ``java.util.Random``'s documentation.

    Hand-written because AWS's seeded ``$random`` answers what this generator answers and no
    Python library reproduces it; the algorithm is four lines of the Java API specification.
    """

    _MULTIPLIER = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int):
        seed = max(_LONG_MIN, min(_LONG_MAX, seed))
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + 0xB) & self._MASK
        return self._seed >> (48 - bits)

    def next_double(self) -> float:
        """``nextDouble()``: 53 random bits scaled into [0, 1)."""
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))


# --- registration --------------------------------------------------------------------------


class _Native(Jsonata.JFunctionCallable):
    """Adapts a Python function to jsonata-python's callable protocol.

    jsonata-python's signature check lets JSON null through as "missing"; none of these
    functions takes null, so it is refused here with jsonata-js's T0410.
    """

    def __init__(self, name: str, function: Callable[..., Any], arity: int):
        self._name = name
        self._function = function
        self._arity = arity

    def call(self, input: Any, args: list | None) -> Any:
        values = list(args or [])[: self._arity]
        for index, value in enumerate(values):
            if value is Utils.NULL_VALUE:
                raise JException("T0410", -1, index + 1, self._name)
        return self._function(*values, *([None] * (self._arity - len(values))))


# name: (implementation, arity, JSONata signature)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, str]] = {
    "partition": (partition, 2, "<an?:a>"),
    "range": (range_, 3, "<nnn?:a<n>>"),
    "hash": (hash_, 2, "<ss?:s>"),
    "random": (random_, 1, "<n?:n>"),
    "uuid": (uuid_, 0, "<:s>"),
    "parse": (parse, 1, "<s-:x>"),
}


def _build_frame() -> Jsonata.Frame:
    frame = Jsonata.Frame(Jsonata.static_frame)
    for name, (function, arity, signature) in _FUNCTIONS.items():
        frame.bind(name, Jsonata.JFunction(_Native(name, function, arity), signature))
    frame.bind("eval", None)  # disabled by AWS: a call is T1006, as on AWS
    return frame


#: The environment every Step Functions expression evaluates under (read-only once built).
AWS_FRAME: Jsonata.Frame = _build_frame()


# --- error wording -------------------------------------------------------------------------

_ARRAY_ELEMENT_TYPES = {
    "a": "arrays",
    "b": "booleans",
    "f": "functions",
    "n": "numbers",
    "o": "objects",
    "s": "strings",
}
_PLACEHOLDER = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")
_CODE_PREFIX = re.compile(r"^[STD]\d{4}: ")


def _template(code: str) -> str | None:
    template = JException.error_codes.get(code)
    return None if template is None else template.replace("Object", "function")


# Messages jsonata-python raises as text instead of by code, mapped back to their code.
_CODE_OF_MESSAGE = {
    text: code
    for code in JException.error_codes
    if (text := _template(code)) and "{{" not in text
}


def _js_stringify(value: Any) -> str:
    """What jsonata-js inserts for a ``{{name}}`` placeholder (``JSON.stringify``)."""
    if value is None:
        return "undefined"
    if value is Utils.NULL_VALUE:
        return "null"
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except ValueError:
        return str(value)


def _fill(template: str, args: list[Any]) -> str:
    values = iter(args)

    def replace(match: re.Match[str]) -> str:
        value = next(values, None)
        return str(value) if match.group(1) else _js_stringify(value)

    return _PLACEHOLDER.sub(replace, template)


def _arguments(exc: JException) -> list[Any]:
    args = [exc.current, exc.expected, exc.extra]
    if exc.error == "T0412":
        args[2] = _ARRAY_ELEMENT_TYPES.get(str(args[2]), args[2])
    elif exc.error == "T0411":
        args = [exc.expected, None]  # jsonata-python passes (context, index)
    return args


def describe_error(exc: JException) -> str:
    """``CODE: message`` as jsonata-js words it, or the bare message when it has no code."""
    template = _template(exc.error)
    if template is None:
        code = _CODE_OF_MESSAGE.get(exc.error)
        return f"{code}: {exc.error}" if code else str(exc.error)
    if template == "{{{message}}}":
        return f"{exc.error}: {exc.current}"
    if exc.error == "T0410" and exc.current is None:  # raised without argument or function
        return "T0410: Argument does not match function signature"
    return f"{exc.error}: {_fill(template, _arguments(exc))}"


def has_code(detail: str) -> bool:
    """Whether a described error starts with a JSONata error code."""
    return bool(_CODE_PREFIX.match(detail))

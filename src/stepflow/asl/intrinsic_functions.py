"""The implementations of the 18 intrinsic functions, as AWS behaves (see :mod:`.intrinsics`).

Each takes the evaluated argument list and the function's name (for AWS's error cause) and
returns the value or raises ``States.Runtime`` "Invalid arguments in States.<Name>".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stepflow.asl.json_text import dumps, size_in_bytes
from stepflow.errors import RUNTIME, StatesError

# AWS reports intrinsic failures as States.Runtime (observed), not the spec's IntrinsicFailure.
INTRINSIC_ERROR = RUNTIME
MAX_RANGE_ITEMS = 1000
MAX_TEXT_CHARS = 10_000  # Hash, Base64Encode, Base64Decode
MAX_PAYLOAD_BYTES = 256 * 1024
INT32 = (-(2**31), 2**31 - 1)
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
           "SHA-512": "sha512"}


def invalid_arguments(name: str) -> StatesError:
    """AWS's cause for any intrinsic argument it rejects."""
    return StatesError(INTRINSIC_ERROR, f"Invalid arguments in {name}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _truncated(value: Any, name: str) -> int:
    """An integer argument: AWS truncates a fractional number toward zero."""
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise invalid_arguments(name)
    return int(value)


def _rounded(value: Any, name: str) -> int:
    """Java's ``Math.round``: half rounds up (toward positive infinity)."""
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise invalid_arguments(name)
    return math.floor(value + 0.5) if isinstance(value, float) else value


def _array(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise invalid_arguments(name)
    return value


def _text(value: Any, name: str, limit: int | None = None) -> str:
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        raise invalid_arguments(name)
    return value


def java_str(value: Any) -> str:
    """The text Java's ``toString`` gives a JSON value: ``{a=1, b=[x, null]}``, ``1.0E20``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    return "{" + ", ".join(f"{k}={java_str(v)}" for k, v in value.items()) + "}"


def _java_double(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, otherwise ``d.dddE±n``."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python's shortest repr is plain (with '.0') in this range
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


# --------------------------------------------------------------------------- functions


def _format_parts(template: str, escapes: bool, name: str) -> list[str | None]:
    """Split a template into literal text and ``None`` for each ``{}`` placeholder."""
    parts: list[str | None] = []
    buf: list[str] = []
    i = 0
    while i < len(template):
        c = template[i]
        if escapes and c == "\\" and i + 1 < len(template):
            buf.append(template[i + 1])
            i += 2
            continue
        if c == "{" and template.startswith("{}", i):
            parts.extend(("".join(buf), None))
            buf, i = [], i + 2
            continue
        if c in "{}":
            raise invalid_arguments(name)
        buf.append(c)
        i += 1
    parts.append("".join(buf))
    return parts


def _fill(parts: list[str | None], values: list, name: str) -> str:
    if parts.count(None) != len(values):
        raise invalid_arguments(name)
    it = iter(values)
    return "".join(java_str(next(it)) if p is None else p for p in parts)


def f_format(args: list, name: str, template_raw: str | None = None) -> str:
    """States.Format(template, ...values): each ``{}`` takes the next value's text."""
    if not args or not isinstance(args[0], str):
        raise invalid_arguments(name)
    if template_raw is not None:
        parts = _format_parts(template_raw, True, name)
    else:
        parts = _format_parts(args[0], False, name)
    return _fill(parts, args[1:], name)


def f_string_to_json(args: list, name: str) -> Any:
    """States.StringToJson(text): parsed JSON; a blank string gives null."""
    text = _text(args[0], name)
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise invalid_arguments(name) from None


def f_json_to_string(args: list, name: str) -> str:
    """States.JsonToString(value): compact JSON text."""
    return dumps(args[0])


def f_array(args: list, name: str) -> list:
    """States.Array(...values): the values as an array."""
    return list(args)


def f_array_partition(args: list, name: str) -> list:
    """States.ArrayPartition(array, size): consecutive chunks of ``size`` items."""
    items, size = _array(args[0], name), _truncated(args[1], name)
    if size <= 0 or size_in_bytes(dumps(items)) > MAX_PAYLOAD_BYTES:
        raise invalid_arguments(name)
    return [items[i : i + size] for i in range(0, len(items), size)]


def f_array_contains(args: list, name: str) -> bool:
    """States.ArrayContains(array, value): AWS compares the values' Java text forms."""
    items, wanted = _array(args[0], name), java_str(args[1])
    return any(java_str(item) == wanted for item in items)


def f_array_range(args: list, name: str) -> list:
    """States.ArrayRange(first, last, step): inclusive, at most 1000 items."""
    first, last, step = (_truncated(a, name) for a in args)
    if step == 0:
        raise invalid_arguments(name)
    values = range(first, last + (1 if step > 0 else -1), step)
    if len(values) > MAX_RANGE_ITEMS:
        raise invalid_arguments(name)
    return list(values)


def f_array_get_item(args: list, name: str) -> Any:
    """States.ArrayGetItem(array, index); AWS answers null for any index of an empty array."""
    items, index = _array(args[0], name), _truncated(args[1], name)
    if not items and index >= 0:
        return None
    if not 0 <= index < len(items):
        raise invalid_arguments(name)
    return items[index]


def f_array_length(args: list, name: str) -> int:
    """States.ArrayLength(array)."""
    return len(_array(args[0], name))


def _json_key(value: Any) -> Any:
    """A hashable key under JSON equality (object member order ignored, 1 is not true)."""
    if isinstance(value, dict):
        return ("o", frozenset((k, _json_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_json_key(v) for v in value))
    return (type(value).__name__, value)


def f_array_unique(args: list, name: str) -> list:
    """States.ArrayUnique(array): first occurrences, in order."""
    seen: set = set()
    unique = []
    for item in _array(args[0], name):
        key = _json_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def f_base64_encode(args: list, name: str) -> str:
    """States.Base64Encode(text): base64 of the UTF-8 bytes (at most 10,000 characters in)."""
    text = _text(args[0], name, MAX_TEXT_CHARS)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")


def f_base64_decode(args: list, name: str) -> str:
    """States.Base64Decode(text): lenient like AWS (skips foreign characters, stops at '=')."""
    text = _text(args[0], name, MAX_TEXT_CHARS)
    body = "".join(c for c in text.split("=", 1)[0] if c in _B64_ALPHABET)
    body = body.replace("-", "+").replace("_", "/")
    body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise invalid_arguments(name) from None
    return raw.decode("utf-8", errors="replace")


def f_hash(args: list, name: str) -> str:
    """States.Hash(data, algorithm): lowercase hex digest; non-strings are hashed as text."""
    data, algorithm = java_str(args[0]), args[1]
    if len(data) > MAX_TEXT_CHARS or not isinstance(algorithm, str) or algorithm not in _HASHES:
        raise invalid_arguments(name)
    return hashlib.new(_HASHES[algorithm], data.encode("utf-8")).hexdigest()


def f_json_merge(args: list, name: str) -> dict:
    """States.JsonMerge(a, b, false): shallow merge, b's keys win; deep merge is unsupported."""
    left, right, deep = args
    if not isinstance(left, dict) or not isinstance(right, dict) or deep is not False:
        raise invalid_arguments(name)
    return {**left, **right}


def f_math_random(args: list, name: str) -> int:
    """States.MathRandom(start, end[, seed]): an integer in [start, end)."""
    start, end = _truncated(args[0], name), _truncated(args[1], name)
    if start >= end or end - start > INT32[1]:
        raise invalid_arguments(name)
    if len(args) == 2:
        return random.randrange(start, end)
    return start + _JavaRandom(_truncated(args[2], name)).next_int(end - start)


class _JavaRandom:
    """``java.util.Random``'s generator, so a seed gives the same number every time."""

    _MULT, _MASK = 0x5DEECE66D, (1 << 48) - 1

    def __init__(self, seed: int):
        self.seed = (seed ^ self._MULT) & self._MASK

    def _next31(self) -> int:
        self.seed = (self.seed * self._MULT + 0xB) & self._MASK
        return self.seed >> 17

    def next_int(self, bound: int) -> int:
        if bound & -bound == bound:
            return (bound * self._next31()) >> 31
        while True:
            bits = self._next31()
            value = bits % bound
            if bits - value + (bound - 1) < 2**31:
                return value


def f_math_add(args: list, name: str) -> int:
    """States.MathAdd(a, b): the sum of two (rounded) 32-bit integers."""
    a, b = _rounded(args[0], name), _rounded(args[1], name)
    if not all(INT32[0] <= v <= INT32[1] for v in (a, b)):
        raise invalid_arguments(name)
    return a + b


def f_string_split(args: list, name: str) -> list[str]:
    """States.StringSplit(text, delimiters): split on any delimiter character, drop empties."""
    text, delimiters = _text(args[0], name), _text(args[1], name)
    if not delimiters:
        return [text] if text else []
    pattern = "[" + re.escape(delimiters) + "]"
    return [part for part in re.split(pattern, text) if part]


def f_uuid(args: list, name: str) -> str:
    """States.UUID(): a random version 4 UUID."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class Spec:
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: no upper bound


FUNCTIONS: dict[str, Spec] = {
    "States.Format": Spec(f_format, 1, None),
    "States.StringToJson": Spec(f_string_to_json, 1, 1),
    "States.JsonToString": Spec(f_json_to_string, 1, 1),
    "States.Array": Spec(f_array, 0, None),
    "States.ArrayPartition": Spec(f_array_partition, 2, 2),
    "States.ArrayContains": Spec(f_array_contains, 2, 2),
    "States.ArrayRange": Spec(f_array_range, 3, 3),
    "States.ArrayGetItem": Spec(f_array_get_item, 2, 2),
    "States.ArrayLength": Spec(f_array_length, 1, 1),
    "States.ArrayUnique": Spec(f_array_unique, 1, 1),
    "States.Base64Encode": Spec(f_base64_encode, 1, 1),
    "States.Base64Decode": Spec(f_base64_decode, 1, 1),
    "States.Hash": Spec(f_hash, 2, 2),
    "States.JsonMerge": Spec(f_json_merge, 3, 3),
    "States.MathRandom": Spec(f_math_random, 2, 3),
    "States.MathAdd": Spec(f_math_add, 2, 2),
    "States.StringSplit": Spec(f_string_split, 2, 2),
    "States.UUID": Spec(f_uuid, 0, 0),
}

"""JSON text as AWS writes it: compact, UTF-8, keys in insertion order."""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

# JSONEncoder.encode builds a new C encoder on every call; building it once saves about a third
# of the cost of small payloads (profiled on the Pass-chain benchmark). Same output: the same
# C encoder with the same settings. Falls back to the public API where CPython lacks it.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_ITERENCODE = (
    _c_make_encoder(
        {}, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    if _c_make_encoder is not None
    else None
)


def dumps(value: Any) -> str:
    """Compact JSON text of a JSON value, as Step Functions prints payloads."""
    if _ITERENCODE is None:
        return _ENCODER.encode(value)
    try:
        return "".join(_ITERENCODE(value, 0))
    except ValueError:  # NaN/Infinity and circular references: the public API says it right
        return _ENCODER.encode(value)


def size_in_bytes(text: str) -> int:
    """The UTF-8 size AWS counts against its payload limits."""
    return len(text.encode("utf-8"))

"""JSON text as AWS writes it: compact, UTF-8, keys in insertion order."""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> str:
    """Compact JSON text of a JSON value, as Step Functions prints payloads."""
    return _ENCODER.encode(value)


def size_in_bytes(text: str) -> int:
    """The UTF-8 size AWS counts against its payload limits."""
    return len(text.encode("utf-8"))

"""Snapshots as JSON text for the SQL stores (the memory store keeps objects).

Encoding is on the hot path of every commit, so it uses orjson when it is installed (several
times faster than the json module) and falls back to the json module whenever orjson would not
give the exact same value back: integers beyond 64 bits, non-string keys, other types.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from operator import attrgetter

from stepflow.engine.snapshot import Execution, Frame
from stepflow.store.records import StateMachineRecord

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; stay correct without it
    orjson = None

_FRAME_FIELDS = tuple(f.name for f in fields(Frame) if f.name != "input_text")
_EXECUTION_FIELDS = tuple(f.name for f in fields(Execution) if f.name not in ("frames", "events", "ready", "inflight"))
_RECORD_FIELDS = tuple(f.name for f in fields(StateMachineRecord))
_frame_values = attrgetter(*_FRAME_FIELDS)  # one C call instead of a getattr per field
_execution_values = attrgetter(*_EXECUTION_FIELDS)

_std_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# orjson reads integers of 19+ digits as floats; texts holding such numbers go to the json module.
_LONG_NUMBER = re.compile(r"\d{19}")


def dumps(value) -> str:
    """Compact JSON text of a JSON value."""
    if orjson is not None:
        try:
            return orjson.dumps(value).decode()
        except TypeError:  # a big integer, a non-string key, a type orjson does not know
            pass
    return _std_dumps(value)


def loads(text: str):
    """The JSON value of a text written by :func:`dumps` (integers stay exact)."""
    if orjson is not None and not _LONG_NUMBER.search(text):
        return orjson.loads(text)
    return json.loads(text)


def frame_json(frame: Frame) -> str:
    return dumps(dict(zip(_FRAME_FIELDS, _frame_values(frame))))


def frame_from_json(text: str) -> Frame:
    return Frame(**loads(text))


def execution_json(exe: Execution) -> str:
    return dumps(dict(zip(_EXECUTION_FIELDS, _execution_values(exe))))


def execution_from_json(text: str) -> Execution:
    return Execution(**loads(text))


def events_json(events: list[dict]) -> str:
    """One page of history: the events one commit produced, as a JSON array."""
    return dumps(events)


def events_from_json(text: str) -> list[dict]:
    return loads(text)


def record_json(record: StateMachineRecord) -> str:
    return dumps({name: getattr(record, name) for name in _RECORD_FIELDS})


def record_from_json(text: str) -> StateMachineRecord:
    return StateMachineRecord(**loads(text))

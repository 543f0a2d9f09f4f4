"""Snapshots as JSON text for the SQL stores (the memory store keeps objects)."""

from __future__ import annotations

import json
from dataclasses import fields

from stepflow.engine.snapshot import Execution, Frame
from stepflow.store.records import StateMachineRecord

_FRAME_FIELDS = tuple(f.name for f in fields(Frame) if f.name != "input_text")
_EXECUTION_FIELDS = tuple(f.name for f in fields(Execution) if f.name not in ("frames", "events", "ready", "inflight"))
_RECORD_FIELDS = tuple(f.name for f in fields(StateMachineRecord))

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def frame_json(frame: Frame) -> str:
    return _dumps({name: getattr(frame, name) for name in _FRAME_FIELDS})


def frame_from_json(text: str) -> Frame:
    return Frame(**json.loads(text))


def execution_json(exe: Execution) -> str:
    return _dumps({name: getattr(exe, name) for name in _EXECUTION_FIELDS})


def execution_from_json(text: str) -> Execution:
    return Execution(**json.loads(text))


def event_json(event: dict) -> str:
    return _dumps(event)


def record_json(record: StateMachineRecord) -> str:
    return _dumps({name: getattr(record, name) for name in _RECORD_FIELDS})


def record_from_json(text: str) -> StateMachineRecord:
    return StateMachineRecord(**json.loads(text))

"""The one Lambda handler (domain spec A7): ``lambda_handler(event, context)`` dispatches on
``event["action"]``; stepflow, AWS and ``python -m cm_pipeline`` all call it.

Failures are raised as the classes of :mod:`cm_pipeline.errors`, whose names are the error
names the state machines retry (only the transient ones) or fail on. No message carries the
database password: configuration is redacted and psycopg errors are re-raised redacted.
"""

from __future__ import annotations

import logging
import re
import time

from cm_pipeline import db
from cm_pipeline.chunks import get_task02_chunks, process_task02_chunk
from cm_pipeline.config import Config, load, parse_date, redact
from cm_pipeline.errors import (
    ConfigValidationError, DatabaseUnavailableError, PipelineDataError, PipelineError,
)
from cm_pipeline.task01 import task_01
from cm_pipeline.task02 import finalize, load_run, task_02
from cm_pipeline.validate import validate_config

log = logging.getLogger("cm_pipeline")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ACTIONS = ("validate_config", "task_01", "task_02", "get_task02_chunks", "process_task02_chunk",
           "task_02_finalize", "migrate")


def lambda_handler(event, context=None) -> dict:
    """Run one action; returns its small JSON summary."""
    event = event if isinstance(event, dict) else {}
    action = event.get("action")
    if action not in ACTIONS:
        shown = action[:40] if isinstance(action, str) else type(action).__name__
        raise PipelineDataError(f"unknown action {shown!r}; expected one of {', '.join(ACTIONS)}", "UNKNOWN_ACTION")
    started = time.perf_counter()
    if action == "validate_config":
        result = _validate(event)
    else:
        config = current_config()
        result = _guarded(config, action, event)
    log.info("action=%s status=%s seconds=%.3f", action, result.get("status"), time.perf_counter() - started)
    return result


def current_config() -> Config:
    """The configuration from the environment; stage-1 problems raise ConfigValidationError."""
    config, missing, invalid, _ = load()
    if missing:
        raise ConfigValidationError("Missing required settings: " + ", ".join(missing), "CONFIG_MISSING")
    if invalid:
        raise ConfigValidationError("; ".join(f"{i['name']}={i['value']!r} is not {i['rule']}" for i in invalid))
    return config


def _validate(event: dict) -> dict:
    report = validate_config(strict=bool(event.get("strict")))
    if report["status"] == "failed" and not event.get("report_only"):
        first = report["errors"][0]
        cls = DatabaseUnavailableError if first["code"] == "DB_UNREACHABLE" else ConfigValidationError
        raise cls("; ".join(e["message"] for e in report["errors"]), first["code"])
    return report


def _guarded(config: Config, action: str, event: dict) -> dict:
    try:
        with db.connection(config) as conn:
            return _dispatch(conn, config, action, event)
    except PipelineError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        raise PipelineDataError(redact(str(error), config.secrets())[:300]) from None


def _dispatch(conn, config: Config, action: str, event: dict) -> dict:
    if action == "migrate":
        return {"action": "migrate", "status": "success", "applied": db.migrate(conn, config)}
    if action == "task_01":
        given = event.get("input") if isinstance(event.get("input"), dict) else {}
        as_of = event.get("as_of", given.get("as_of"))  # "" is a bad date, not "today"
        return task_01(conn, config, _date(as_of) if as_of is not None else None)
    if action == "task_02":
        return task_02(conn, config, _run_id(event, required=False))
    if action == "get_task02_chunks":
        return get_task02_chunks(conn, config, _run_id(event, required=False))
    if action == "process_task02_chunk":
        return process_task02_chunk(conn, config, _run_id(event), _chunk_id(event))
    run = load_run(conn, _run_id(event, required=False))
    return {"action": "task_02_finalize", "status": "success", "run_id": run.run_id, **finalize(conn, run)}


def _date(value) -> object:
    if not isinstance(value, str):
        raise PipelineDataError("as_of must be an ISO date string", "BAD_INPUT")
    try:
        return parse_date(value)
    except ValueError:
        raise PipelineDataError(f"as_of {value[:40]!r} is not an ISO date YYYY-MM-DD", "BAD_INPUT") from None


def _run_id(event: dict, required: bool = True) -> str | None:
    value = event.get("run_id")
    if value is None and not required:
        return None
    if not isinstance(value, str) or not UUID.fullmatch(value):  # match() would let a trailing "\n" through
        raise PipelineDataError("run_id must be a UUID", "BAD_INPUT")
    return value


def _chunk_id(event: dict) -> int:
    value = event.get("chunk_id")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PipelineDataError("chunk_id must be a non-negative integer", "BAD_INPUT")
    return value

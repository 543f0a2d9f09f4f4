"""Task 01 (domain spec A3): rebuild visit_staging, its rejects and the event staging in one
transaction, start a run (pipeline_runs, InProgressFlag = 1) and return a small summary."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

from cm_pipeline import db
from cm_pipeline.config import Config
from cm_pipeline.generator.writer import window

STEPS = ("caregivers", "providers", "home_addresses", "visits", "rejects", "stage", "events", "analyze")


def run_settings(conn, config: Config) -> dict:
    """conflict.settings with the environment's overrides."""
    lookback, lookahead, min_overlap, extra = conn.execute(db.q("task01", "settings")).fetchone()
    return {
        "lookback_years": config.lookback_years if config.lookback_years is not None else lookback,
        "lookahead_days": config.lookahead_days if config.lookahead_days is not None else lookahead,
        "min_overlap": min_overlap,
        "extra_distance": extra,
        "event_rules": config.enable_event_rules,
    }


def task_01(conn, config: Config, as_of: dt.date | None = None) -> dict:
    """Build staging for ``as_of`` (default: AS_OF, else today) and start a run."""
    started = time.perf_counter()
    as_of = as_of or config.as_of or dt.date.today()
    run_id = str(uuid.uuid4())
    with conn.transaction():
        params = run_settings(conn, config)
        ws, we = window(as_of, params["lookback_years"], params["lookahead_days"])
        bound = {"ws": ws, "we": we}
        conn.execute(db.q("task01", "truncate"))
        for step in STEPS:
            conn.execute(db.q("task01", step), bound if "%(" in db.q("task01", step) else None)
        rejected = dict(conn.execute(db.q("task01", "reject_counts")).fetchall())
        staged, events = conn.execute(db.q("task01", "counts")).fetchone()
        conn.execute(db.q("task01", "start_run"), {"run_id": run_id, "as_of": as_of, "ws": ws, "we": we,
                                                    "rows": staged, "params": json.dumps(params)})
        conn.execute(db.q("task01", "mark_staging"), {"run_id": run_id})
        conn.execute(db.q("task01", "in_progress"))
    return {"action": "task_01", "status": "success", "run_id": run_id, "window": [ws.isoformat(), we.isoformat()],
            "as_of": as_of.isoformat(), "rows_staged": staged, "rows_rejected": rejected, "events_staged": events,
            "duration_seconds": round(time.perf_counter() - started, 3)}

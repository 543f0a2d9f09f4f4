"""Task 02 (domain spec A4): the conflict rules per chunk of (VisitDate, SSN) keys and the
write lifecycle; Phase 1 (`task_02`) is one chunk holding every candidate key, then finalize."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

from cm_pipeline import FLAGS, db
from cm_pipeline.config import Config
from cm_pipeline.errors import PipelineDataError, StagingLostError

COMPUTE = ("keys", "fill_keys", "visits", "rows", "visit_pairs")


@dataclass(frozen=True)
class Run:
    """A pipeline run as Task 01 recorded it."""

    run_id: str
    window_start: dt.date
    window_end: dt.date
    rows_staged: int
    params: dict
    status: str
    staging_run: str | None

    def bound(self) -> dict:
        return {"run_id": self.run_id, "ws": self.window_start, "we": self.window_end,
                "min_ov": int(self.params.get("min_overlap", 1)), "extra": float(self.params.get("extra_distance", 1.0)),
                "event_rules": bool(self.params.get("event_rules", False))}


def load_run(conn, run_id: str | None) -> Run:
    """The run ``run_id`` (default: the run that built the current staging)."""
    if run_id is None:
        row = conn.execute(db.q("chunks", "latest_run")).fetchone()
        if row is None:
            raise PipelineDataError("no run has staged visits yet: run task_01 first", "NO_RUN")
        run_id = str(row[0])
    row = conn.execute(db.q("chunks", "run"), {"run_id": run_id}).fetchone()
    if row is None:
        raise PipelineDataError(f"unknown run_id {run_id}", "UNKNOWN_RUN")
    rid, _, ws, we, rows, params, status, staging = row
    params = params if isinstance(params, dict) else json.loads(params)
    return Run(str(rid), ws, we, rows, params, status, str(staging) if staging else None)


def check_staging(conn, run: Run) -> None:
    """STAGING_LOST when crash recovery emptied the UNLOGGED staging (A2.3); a run whose staging
    was replaced by a newer Task 01 cannot continue either."""
    if run.staging_run != run.run_id:
        raise PipelineDataError(f"visit_staging now belongs to run {run.staging_run}; start a new run",
                                "STAGING_REPLACED")
    if run.rows_staged > 0 and not conn.execute(db.q("chunks", "staging_present")).fetchone()[0]:
        raise StagingLostError(f"visit_staging is empty but run {run.run_id} staged {run.rows_staged} rows; "
                               "start a new run from task_01")


def candidate_keys(conn, run: Run) -> list[tuple[dt.date, str, int]]:
    """(VisitDate, SSN, weight) of every key Task 02 must look at, sorted (A5.1)."""
    return [tuple(r) for r in conn.execute(db.q("chunks", "candidates"), run.bound()).fetchall()]


def process_keys(conn, run: Run, dates: list, ssns: list) -> tuple[int, int]:
    """A4.7 steps 1-5 for one key set, inside the caller's transaction: (upserted, resolved)."""
    bound = {**run.bound(), "dates": dates, "ssns": ssns}
    for name in COMPUTE:
        db.run(conn, "task02", name, bound)
    if bound["event_rules"]:
        db.run(conn, "task02", "event_pairs", bound)
    db.run(conn, "task02", "groups", bound)
    db.run(conn, "task02", "anchors", bound)
    upserted = db.run(conn, "task02_write", "upsert", bound)
    resolved = db.run(conn, "task02_write", "resolve_vanished", bound)
    resolved += db.run(conn, "task02_write", "cascade", bound)
    return upserted, resolved


def task_02(conn, config: Config, run_id: str | None = None) -> dict:
    """Phase 1: every candidate key in one transaction, then finalize."""
    started = time.perf_counter()
    run = load_run(conn, run_id)
    check_staging(conn, run)
    with conn.transaction():
        keys = candidate_keys(conn, run)
        upserted, resolved = process_keys(conn, run, [k[0] for k in keys], [k[1] for k in keys])
    summary = finalize(conn, run, require_chunks=False)
    return {"action": "task_02", "status": "success", "run_id": run.run_id, "keys": len(keys),
            "rows_upserted": upserted, "rows_resolved": resolved, "flags": summary["flags"],
            "open_conflict_rows": summary["open_conflict_rows"],
            "duration_seconds": round(time.perf_counter() - started, 3)}


def finalize(conn, run: Run, require_chunks: bool = True) -> dict:
    """A4.7 step 7: conflicts' status from their rows, run closed, InProgressFlag = 0."""
    if require_chunks:
        missing, total = conn.execute(db.q("chunks", "incomplete"), {"run_id": run.run_id}).fetchone()
        if missing:
            raise PipelineDataError(f"{missing} of {total} chunks of run {run.run_id} are not done", "CHUNKS_INCOMPLETE")
    bound = run.bound()
    with conn.transaction():
        aggregated = db.run(conn, "task02_write", "finalize", bound)
        db.run(conn, "task02_write", "close_run", bound)
    counts = conn.execute(db.q("chunks", "flag_counts"), bound).fetchone()
    return {"conflicts_aggregated": aggregated, "flags": dict(zip(FLAGS, counts[:9])), "open_conflict_rows": counts[9]}

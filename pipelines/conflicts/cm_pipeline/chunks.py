"""Phase 2 (domain spec A5): the chunk plan, stored in the database, and one chunk's processing
under a lease on its row."""

from __future__ import annotations

import logging
import time

from cm_pipeline import db
from cm_pipeline.config import Config, redact
from cm_pipeline.errors import PipelineError
from cm_pipeline.task02 import Run, candidate_keys, check_staging, load_run, process_keys

LEASE_SECONDS = 15 * 60
log = logging.getLogger("cm_pipeline.chunks")


def plan(keys: list[tuple], target: int, maximum: int, max_keys: int) -> list[list[tuple]]:
    """Greedy fill in key order (A5.1): close a non-empty chunk before adding a key of weight w
    if its weight >= target, or weight + w > maximum, or it holds max_keys keys."""
    chunks: list[list[tuple]] = []
    current: list[tuple] = []
    weight = 0
    for key in keys:
        w = key[2]
        if current and (weight >= target or weight + w > maximum or len(current) >= max_keys):
            chunks.append(current)
            current, weight = [], 0
        if w > maximum:
            log.warning("key %s/%s alone weighs %d > MAX_CHUNK_SIZE %d", key[0], "***", w, maximum)
        current.append(key)
        weight += w
    if current:
        chunks.append(current)
    return chunks


def get_task02_chunks(conn, config: Config, run_id: str | None) -> dict:
    """Plan the run's chunks once (a retry or redrive gets the stored plan back)."""
    started = time.perf_counter()
    run = load_run(conn, run_id)
    check_staging(conn, run)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(r)s))", {"r": run.run_id})
        count, est = conn.execute(db.q("chunks", "plan_exists"), {"run_id": run.run_id}).fetchone()
        if count == 0:
            chunks = plan(candidate_keys(conn, run), config.target_chunk_size, config.max_chunk_size,
                          config.max_keys_per_chunk)
            _store(conn, run, chunks)
            count, est = len(chunks), sum(k[2] for c in chunks for k in c)
    return {"action": "get_task02_chunks", "status": "success", "run_id": run.run_id, "num_chunks": count,
            "chunk_ids": list(range(count)), "total_est_rows": int(est), "max_concurrency": config.max_concurrency,
            "duration_seconds": round(time.perf_counter() - started, 3)}


def _store(conn, run: Run, chunks: list[list[tuple]]) -> None:
    ids = list(range(len(chunks)))
    conn.execute(db.q("chunks", "insert_chunks"), {
        "run_id": run.run_id, "ids": ids, "est": [sum(k[2] for k in c) for c in chunks], "nkeys": [len(c) for c in chunks]})
    flat = [(i, k) for i, c in enumerate(chunks) for k in c]
    conn.execute(db.q("chunks", "insert_keys"), {
        "run_id": run.run_id, "ids": [i for i, _ in flat], "dates": [k[0] for _, k in flat],
        "ssns": [k[1] for _, k in flat], "weights": [k[2] for _, k in flat]})


def process_task02_chunk(conn, config: Config, run_id: str, chunk_id: int) -> dict:
    """Claim the chunk (lease, committed), then compute and write it and mark it done in one
    transaction that holds the chunk row's lock. A done chunk is skipped."""
    started = time.perf_counter()
    run = load_run(conn, run_id)
    check_staging(conn, run)
    ids = {"run_id": run.run_id, "chunk_id": int(chunk_id), "lease_seconds": LEASE_SECONDS}
    with conn.transaction():
        claimed = conn.execute(db.q("chunks", "claim"), ids).fetchone() is not None
    try:
        with conn.transaction():
            status = conn.execute(db.q("chunks", "lock"), ids).fetchone()
            if status is None:
                raise PipelineError(f"run {run.run_id} has no chunk {chunk_id}", "UNKNOWN_CHUNK")
            if status[0] == "done":
                return _result(chunk_id, True, 0, 0, started)
            if not claimed:  # left 'running' by a worker that died: its lock is gone, so take it over
                conn.execute(db.q("chunks", "take_over"), ids)
            keys = conn.execute(db.q("chunks", "chunk_keys"), ids).fetchall()
            upserted, resolved = process_keys(conn, run, [k[0] for k in keys], [k[1] for k in keys])
            conn.execute(db.q("chunks", "done"), {**ids, "upserted": upserted, "resolved": resolved})
    except Exception as error:
        _mark_failed(conn, ids, error, config)
        raise
    return _result(chunk_id, False, upserted, resolved, started)


def _mark_failed(conn, ids: dict, error: Exception, config: Config) -> None:
    try:
        with conn.transaction():
            conn.execute(db.q("chunks", "failed"), {**ids, "error": redact(str(error), config.secrets())[:500]})
    except Exception:  # noqa: BLE001 - the original error matters more; the lease expires anyway
        log.warning("could not mark chunk %s failed", ids["chunk_id"])


def _result(chunk_id, skipped: bool, upserted: int, resolved: int, started: float) -> dict:
    return {"action": "process_task02_chunk", "status": "success", "chunk_id": int(chunk_id), "skipped": skipped,
            "rows_upserted": upserted, "rows_resolved": resolved,
            "duration_seconds": round(time.perf_counter() - started, 3)}

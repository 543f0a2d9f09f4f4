"""The Phase 2 state machine through stepflow (``stepflow.runtime.Runtime`` with the pipeline's SAM
template, worker-process Lambda environments, a durable SQLite store): a chunk that really fails
in the handler, the SNS failure notification, then a redrive that finishes the run and
re-processes only the failed chunk."""

from __future__ import annotations

import json
import uuid

from cm_pipeline import db
from cm_pipeline.config import Config
from cm_pipeline.reference import stable_id
from cm_testlib import AS_OF, expected, load, open_rows, phase1, same_as_reference, snapshot
from stepflow_testlib import Pipeline, lambda_inputs

CHUNK_COLUMNS = '"ChunkID", "Status", "Attempts", "StartedAt", "FinishedAt", "RowsUpserted"'


def _prepare(dsn: str, tmp_path, seed: int = 11, visits: int = 1500):
    config = Config(dsn=dsn)
    conn = db.connect(config)
    db.migrate(conn, config)
    conn.tmp_path = tmp_path
    load(conn, seed=seed, visits=visits)
    return conn, config


def _chunks(conn, run_id: str) -> dict[int, tuple]:
    rows = conn.execute(f'SELECT {CHUNK_COLUMNS} FROM task02_chunks WHERE "RunID" = %s ORDER BY "ChunkID"',
                        (run_id,)).fetchall()
    return {r[0]: r[1:] for r in rows}


def _split_at_redrive(events: list[dict]) -> tuple[list[dict], list[dict]]:
    at = next(i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven")
    return events[:at], events[at:]


def _run_id(conn) -> str:
    return str(conn.execute('SELECT "RunID" FROM pipeline_runs ORDER BY "StartedAt" DESC LIMIT 1').fetchone()[0])


def _collide_with_last_chunk(conn) -> str:
    """A corrupt row: a conflicts row holding the CONFLICTID of a conflicting visit of the latest
    date (so in one of the last chunks) under another VisitID; writing that chunk's anchors hits
    the primary key (a data error: not retried)."""
    wanted = expected(conn)
    victim = max(wanted, key=lambda pair: (_visit_date(conn, pair[0]), pair[0]))[0]
    conn.execute('INSERT INTO conflicts ("CONFLICTID", "VisitID") VALUES (%s, %s)', (stable_id(victim), uuid.uuid4()))
    return victim


def _visit_date(conn, visit_id: str):
    return conn.execute("SELECT max(visit_date) FROM fact_visit WHERE visit_id = %s", (visit_id,)).fetchone()[0]


def test_failed_chunk_is_notified_and_redrive_reprocesses_only_it(fresh_database, tmp_path):
    conn, config = _prepare(fresh_database, tmp_path)
    victim = _collide_with_last_chunk(conn)
    with Pipeline(tmp_path, fresh_database, TargetChunkSize=40, MaxConcurrency=3) as sf:
        failed = sf.execute({"as_of": AS_OF.isoformat()})
        assert failed["status"] == "FAILED", failed
        assert failed["error"] == "PipelineDataError" and "23505" in failed["cause"]
        run_id = _run_id(conn)
        before = _chunks(conn, run_id)
        bad = [c for c, row in before.items() if row[0] == "failed"]
        assert len(bad) == 1 and len(before) > 5
        assert before[bad[0]][1] == 2  # the chunk's first attempt and its FinalAttempt

        messages = sf.rt.store.list_resources("sns-message")
        assert len(messages) == 1, messages
        text = json.dumps(messages[0])
        assert "ProcessSingleChunk failed" in text and f"Chunk {bad[0]} of run {run_id}" in text

        conn.execute('DELETE FROM conflicts WHERE "CONFLICTID" = %s AND "VisitID" <> %s', (stable_id(victim), victim))
        done = sf.redrive(failed["executionArn"])
        assert done["status"] == "SUCCEEDED", done
        after = _chunks(conn, run_id)
        events = sf.history(failed["executionArn"])

    first, second = _split_at_redrive(events)
    succeeded_first = {e["mapIterationSucceededEventDetails"]["index"] for e in first if e["type"] == "MapIterationSucceeded"}
    invoked_again = {p["chunk_id"] for p in lambda_inputs(second, "process_task02_chunk")}
    assert bad[0] in invoked_again and not invoked_again & succeeded_first
    assert after[bad[0]][:2] == ("done", 3)
    assert all(row[:2] == ("done", 1) for c, row in after.items() if c != bad[0]), after  # each exactly once
    assert all(after[c] == row for c, row in before.items() if row[0] == "done")

    assert same_as_reference(open_rows(conn), expected(conn)) == []
    chunked = snapshot(conn)
    conn.execute("TRUNCATE conflictvisitmaps, conflicts")
    phase1(conn, config)
    assert snapshot(conn) == chunked
    conn.close()

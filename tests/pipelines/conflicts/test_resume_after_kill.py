"""Resumability: ``stepflow serve`` (a subprocess, SQLite store, the pipeline's template) killed
with SIGKILL in the middle of the Phase 2 Map, restarted; the run finishes, the final tables hash
equal to an uninterrupted run's, and chunks finished before the kill are not processed again
(their attempt counters and timestamps in task02_chunks are untouched)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from cm_pipeline import db
from cm_pipeline.config import Config
from cm_testlib import AS_OF, expected, load, open_rows, phase1, same_as_reference, snapshot
from stepflow_testlib import PIPELINE, TEMPLATE

from stepflow.testing import Server

PHASE2_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:cm-etl-pipeline-phase2"
CHUNKS = 'SELECT "ChunkID", "Status", "Attempts", "StartedAt", "FinishedAt", "RowsUpserted" FROM task02_chunks ORDER BY 1'


def _serve(tmp_path: Path, dsn: str, **parameters) -> Server:
    """``stepflow serve`` with the pipeline's template; the database comes from DATABASE_URL."""
    overrides = [f"{k}={v}" for k, v in parameters.items()]
    env = {k: None for k in os.environ if k.startswith("POSTGRES_")}
    env["DATABASE_URL"] = dsn
    return Server("--template", str(TEMPLATE), "--log-level", "info",
                  *(["--parameter-overrides", " ".join(overrides)] if overrides else []),
                  store=f"sqlite:///{tmp_path}/serve.db", env=env, cwd=PIPELINE, log=tmp_path / "serve.log")


def _wait(predicate, seconds: float, what: str, step: float = 0.02):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def _others_connected(conn) -> int:
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()").fetchone()[0]


def _chunks(conn) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in conn.execute(CHUNKS).fetchall()}


def _digest(rows: set) -> str:
    return hashlib.sha256("\n".join(sorted(json.dumps(r, default=str) for r in rows)).encode()).hexdigest()


def test_serve_killed_in_the_map_resumes_and_skips_finished_chunks(fresh_database, tmp_path):
    config = Config(dsn=fresh_database)
    conn = db.connect(config)
    db.migrate(conn, config)
    conn.tmp_path = tmp_path
    load(conn, seed=41, visits=3000, p_conflict=0.5)

    serve = _serve(tmp_path, fresh_database, TargetChunkSize=1, MaxConcurrency=2)
    serve.start()
    try:
        arn = serve.client(retries={"max_attempts": 0}).start_execution(stateMachineArn=PHASE2_ARN,
                                             input=json.dumps({"as_of": AS_OF.isoformat()}))["executionArn"]

        def mid_map():
            chunks = _chunks(conn)
            done = sum(1 for row in chunks.values() if row[0] == "done")
            return len(chunks) > 20 and len(chunks) // 4 <= done <= len(chunks) // 2

        _wait(mid_map, 120, "the Map to be a quarter done")
        serve.kill()
        _wait(lambda: _others_connected(conn) == 0, 30, "the dead server's workers to disconnect", 0.1)
        at_kill = _chunks(conn)
        finished = {c: row for c, row in at_kill.items() if row[0] == "done"}
        assert 0 < len(finished) < len(at_kill)

        serve.start()
        client = serve.client(retries={"max_attempts": 0})
        result = _wait(lambda: (d := client.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                       120, "the resumed execution to end", 0.2)
        assert result["status"] == "SUCCEEDED", result
    finally:
        serve.kill()

    after = _chunks(conn)
    assert all(row[0] == "done" for row in after.values())
    assert {c: after[c] for c in finished} == finished  # not processed again: same attempts and times
    interrupted = {c for c, row in at_kill.items() if row[0] == "running"}
    assert all(after[c][1] == 2 for c in interrupted)  # the killed attempt and the one after the restart
    assert all(row[1] == 1 for c, row in after.items() if c not in interrupted)

    assert same_as_reference(open_rows(conn), expected(conn)) == []
    resumed = snapshot(conn)
    conn.execute("TRUNCATE conflictvisitmaps, conflicts")
    phase1(conn, config)  # the uninterrupted run on the same data
    assert _digest(snapshot(conn)) == _digest(resumed)
    conn.close()

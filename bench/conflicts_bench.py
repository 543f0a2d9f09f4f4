"""Conflict pipeline benchmark (never a timed test): Phase 2 through stepflow vs Phase 1 (one
set-based pass) on the same generated data in the same run, from Task 01 to the end.

    .venv/bin/python bench/conflicts_bench.py --visits 1000000 [--repeat 3]

Phase 1 is ``task_01`` + ``task_02`` called in-process; Phase 2 is one execution of the Phase 2
state machine through stepflow (durable SQLite store, the function in worker-process Lambda
environments, MaxConcurrency 5), timed from StartExecution to its end, so it also pays for
ValidateConfig and the workers' cold starts. Both write to the same conflict tables: each
Phase 2 run finds the rows Phase 1 wrote and rewrites none of them (the data did not change).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines" / "conflicts"))

from cm_pipeline import app, db  # noqa: E402
from cm_pipeline.config import load  # noqa: E402
from cm_pipeline.generator import GenParams, generate  # noqa: E402
from cm_pipeline.pgembed import database_url  # noqa: E402
from cm_pipeline.task01 import task_01  # noqa: E402
from cm_pipeline.task02 import task_02  # noqa: E402

AS_OF = dt.date(2025, 6, 15)
STATES = ("ValidateConfig", "ExecuteTask01", "GetTask02Chunks", "ProcessTask02Chunks", "FinalizeTask02")


async def phase2(dsn: str) -> tuple[float, dict]:
    rt = app.runtime("sqlite:///.stepflow/bench-conflicts.db", dsn=dsn)
    arn = app.register(rt)["cm-etl-pipeline-phase2"]
    started = time.perf_counter()
    result = await app.finish(rt, app.start(rt, arn, {"as_of": AS_OF.isoformat()}))
    seconds = time.perf_counter() - started
    events = rt.service.get_execution_history(executionArn=result["executionArn"], maxResults=1000)["events"]
    rt.close()
    assert result["status"] == "SUCCEEDED", result
    return seconds, _state_seconds(events)


def _state_seconds(events: list[dict]) -> dict:
    """Seconds spent in each top-level state (first page of the history is enough for those)."""
    entered, spent = {}, {}
    for e in events:
        name = (e.get("stateEnteredEventDetails") or e.get("stateExitedEventDetails") or {}).get("name")
        if name in STATES and e["type"].endswith("StateEntered"):
            entered[name] = e["timestamp"]
        elif name in STATES and e["type"].endswith("StateExited"):
            delta = e["timestamp"] - entered[name]
            spent[name] = delta.total_seconds() if hasattr(delta, "total_seconds") else float(delta)
    return spent


def phase1(conn, config) -> tuple[float, dict]:
    started = time.perf_counter()
    task_01(conn, config, AS_OF)
    staged = time.perf_counter()
    task_02(conn, config)
    done = time.perf_counter()
    return done - started, {"task_01": staged - started, "task_02": done - staged}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="alternate Phase 1 and Phase 2 this many times")
    args = parser.parse_args()
    dsn = os.environ["POSTGRES_DSN"] = database_url()
    config = load()[0]
    conn = db.connect(config)
    db.migrate(conn, config)
    data = generate(conn, GenParams(n_visits=args.visits, seed=1, as_of=AS_OF))
    conn.execute("VACUUM ANALYZE fact_visit")
    rows = data["visits"]
    one, chunked = [], []
    for _ in range(args.repeat):
        seconds, parts = phase1(conn, config)
        one.append(seconds)
        print(f"Phase 1 {seconds:.1f} s: " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()), flush=True)
        seconds, parts = asyncio.run(phase2(dsn))
        chunked.append(seconds)
        chunks = conn.execute('SELECT count(*) FROM task02_chunks WHERE "RunID" = (SELECT "RunID" FROM staging_run)').fetchone()[0]
        print(f"Phase 2 {seconds:.1f} s ({chunks} chunks): " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()),
              flush=True)
    p1, p2 = statistics.median(one), statistics.median(chunked)
    print(f"visits {rows:,} (median of {args.repeat}): Phase 1 {p1:.1f} s ({rows / p1:,.0f} rows/s), "
          f"Phase 2 via stepflow {p2:.1f} s ({rows / p2:,.0f} rows/s), ratio {p2 / p1:.2f}")
    print(f"original documents: 50,000 rows in 6 min = {50_000 / 360:,.0f} rows/s")


if __name__ == "__main__":
    main()

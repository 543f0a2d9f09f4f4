"""`make demo`: the Phase 2 state machine over 100,000 generated visits, through stepflow.

Embedded PostgreSQL under .stepflow/pg (or DATABASE_URL), a seeded data set (reused when the
same one is there), the Phase 2 execution on the durable SQLite store with the pipeline's real
handler, live progress from the chunk table, and a summary. A second run changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cm_pipeline import FLAGS, db, ops  # noqa: E402
from cm_pipeline.config import Config, load, redact  # noqa: E402
from cm_pipeline.generator import GenParams, generate  # noqa: E402
from cm_pipeline.pgembed import database_url  # noqa: E402

AS_OF = dt.date(2025, 6, 15)


def prepare(visits: int, seed: int, as_of: dt.date):
    os.environ["POSTGRES_DSN"] = database_url()
    os.environ["AS_OF"] = as_of.isoformat()
    config = load()[0]
    conn = db.connect(config)
    db.migrate(conn, config)
    print(f"PostgreSQL {conn.info.server_version // 10000}: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded, .stepflow/pg'}")
    started = time.perf_counter()
    data = generate(conn, GenParams(n_visits=visits, seed=seed, as_of=as_of))
    how = "reused" if data["reused"] else f"generated in {time.perf_counter() - started:.1f} s"
    print(f"data set: {data['visits']:,} visits, seed {seed}, as of {as_of} ({how}); manifest {data['manifest']}")
    return conn


async def execute(conn, store: str) -> tuple[dict, float]:
    from cm_pipeline import app

    rt = app.runtime(store, dsn=os.environ["POSTGRES_DSN"])
    machines = app.register(rt)
    before = _latest_run(conn)
    started = time.perf_counter()
    arn = app.start(rt, machines["cm-etl-pipeline-phase2"], {"as_of": os.environ["AS_OF"]})
    print(f"execution {arn}")
    watcher = asyncio.get_running_loop().create_task(_progress(conn, before, started))
    result = await app.finish(rt, arn)
    watcher.cancel()
    rt.close()
    return result, time.perf_counter() - started


def _latest_run(conn):
    row = conn.execute('SELECT "RunID" FROM pipeline_runs ORDER BY "StartedAt" DESC LIMIT 1').fetchone()
    return row[0] if row else None


async def _progress(conn, before, started: float) -> None:
    shown = None
    while True:
        await asyncio.sleep(0.5)
        run = _latest_run(conn)
        if run is None or run == before:
            continue
        s = ops.chunk_status(conn, str(run))
        staged = conn.execute('SELECT "RowsStaged" FROM pipeline_runs WHERE "RunID" = %(r)s', {"r": run}).fetchone()[0]
        line = (f"  chunks {s['done']}/{s['total']} done, {s['locked']} running, {s['failed']} failed"
                f"  |  {staged / (time.perf_counter() - started):,.0f} visits/s")
        if line != shown and s["total"]:
            print(line, flush=True)
            shown = line


def summary(conn, result: dict, seconds: float, store: str) -> None:
    run = str(_latest_run(conn))
    s = ops.chunk_status(conn, run)
    staged, ws, we = conn.execute('SELECT "RowsStaged", "WindowStart", "WindowEnd" FROM pipeline_runs WHERE "RunID" = %(r)s',
                                  {"r": run}).fetchone()
    counts = conn.execute(db.q("chunks", "flag_counts"), {"ws": ws, "we": we}).fetchone()
    print(f"\nstatus: {result['status']}   ({seconds:.1f} s, {staged / seconds:,.0f} visits/s, {staged:,} visits staged)")
    print(f"chunks: {s['done']} done of {s['total']} ({s['failed']} failed); rows upserted {s['rows_upserted']}, "
          f"resolved {s['rows_resolved']}")
    print("open conflict rows per rule:")
    for name, count in zip(FLAGS, counts[:9]):
        print(f"  {name:<36} {count:>7,}")
    print(f"  {'total open rows':<36} {counts[9]:>7,}")
    if s["rows_upserted"] == 0 and s["rows_resolved"] == 0:
        print("\nA rerun on the same data: nothing changed (no row inserted, updated or resolved).")
    pipeline = "PYTHONPATH=pipelines/conflicts .venv/bin/python -m cm_pipeline"
    print(f"\nexecution: {result['executionArn']}")
    print(f"history:   .venv/bin/stepflow history --store {store} {result['executionArn']}")
    dsn = os.environ["POSTGRES_DSN"]
    shown = redact(dsn, Config(dsn=dsn).secrets())  # '***' stands for a password, which is never printed
    print(f"chunks:    POSTGRES_DSN='{shown}' {pipeline} status --run-id {run}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default=AS_OF.isoformat())
    parser.add_argument("--store", default="sqlite:///.stepflow/stepflow.db")
    args = parser.parse_args()
    Path(".stepflow").mkdir(exist_ok=True)
    conn = prepare(args.visits, args.seed, dt.date.fromisoformat(args.as_of))
    result, seconds = asyncio.run(execute(conn, args.store))
    summary(conn, result, seconds, args.store)
    return 0 if result["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())

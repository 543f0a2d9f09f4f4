"""Conflict pipeline benchmark (never a timed test): Phase 2 through stepflow vs Phase 1 (one
set-based pass) on the same generated data in the same run, from Task 01 to the end.

    .venv/bin/python bench/conflicts_bench.py --visits 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
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


async def phase2(dsn: str) -> float:
    rt = app.runtime("sqlite:///.stepflow/bench-conflicts.db", dsn=dsn)
    arn = app.register(rt)["cm-etl-pipeline-phase2"]
    started = time.perf_counter()
    result = await app.finish(rt, app.start(rt, arn, {"as_of": AS_OF.isoformat()}))
    seconds = time.perf_counter() - started
    rt.close()
    assert result["status"] == "SUCCEEDED", result
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    args = parser.parse_args()
    dsn = os.environ["POSTGRES_DSN"] = database_url()
    config = load()[0]
    conn = db.connect(config)
    db.migrate(conn, config)
    data = generate(conn, GenParams(n_visits=args.visits, seed=1, as_of=AS_OF))
    conn.execute("VACUUM ANALYZE fact_visit")
    rows = data["visits"]
    started = time.perf_counter()
    task_01(conn, config, AS_OF)
    task_02(conn, config)
    one_pass = time.perf_counter() - started
    chunked = asyncio.run(phase2(dsn))
    print(f"visits {rows:,}: Phase 1 {one_pass:.1f} s ({rows / one_pass:,.0f} rows/s), "
          f"Phase 2 via stepflow {chunked:.1f} s ({rows / chunked:,.0f} rows/s), ratio {chunked / one_pass:.2f}")
    print(f"original documents: 50,000 rows in 6 min = {50_000 / 360:,.0f} rows/s")


if __name__ == "__main__":
    main()

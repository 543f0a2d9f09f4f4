"""``python -m cm_pipeline <command>`` (run from pipelines/conflicts, or with it on PYTHONPATH).

Handler actions:  validate_config | task_01 [--as-of D] | task_02 [--run-id R] | get_task02_chunks |
                  process_task02_chunk --run-id R --chunk-id N | task_02_finalize | migrate
Data:             generate --visits N --seed S [--as-of D]
Operations:       status [--run-id R]            chunk status: pending / locked / stuck / done / failed
                  reset-stuck [--run-id R]       stuck leases back to pending, orphan UpdateFlag cleared
                  settings [--lookback-years N] [--lookahead-days N] [--min-overlap-minutes N]
                  resume EXECUTION_ARN           redrive a failed Phase 2 execution through stepflow
Example:          python -m cm_pipeline status
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys

from cm_pipeline.errors import PipelineError
from cm_pipeline.handler import ACTIONS, current_config, lambda_handler


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = _run(args)
    except PipelineError as error:
        print(json.dumps({"status": "failed", "error": type(error).__name__, "message": str(error)}), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0 if result.get("status") not in ("failed",) else 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cm_pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=[*ACTIONS, "generate", "status", "reset-stuck", "settings", "resume"])
    p.add_argument("execution_arn", nargs="?")
    p.add_argument("--as-of")
    p.add_argument("--run-id")
    p.add_argument("--chunk-id", type=int)
    p.add_argument("--visits", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--strict", action="store_true")
    p.add_argument("--store", default="sqlite:///.stepflow/stepflow.db")
    for name in ("lookback-years", "lookahead-days", "min-overlap-minutes"):
        p.add_argument("--" + name, type=int)
    return p


def _run(args) -> dict:
    if args.command in ACTIONS:
        event = {"action": args.command, "as_of": args.as_of, "run_id": args.run_id, "chunk_id": args.chunk_id,
                 "strict": args.strict, "report_only": True}
        return lambda_handler({k: v for k, v in event.items() if v is not None}, None)
    if args.command == "resume":
        return _resume(args)
    from cm_pipeline import db, ops

    config = current_config()
    with db.connect(config) as conn:
        if args.command == "generate":
            from cm_pipeline.generator import GenParams, generate

            as_of = dt.date.fromisoformat(args.as_of) if args.as_of else GenParams().as_of
            db.migrate(conn, config)
            return {"status": "success", **generate(conn, GenParams(n_visits=args.visits, seed=args.seed, as_of=as_of))}
        if args.command == "status":
            return ops.chunk_status(conn, args.run_id)
        if args.command == "reset-stuck":
            return ops.reset_stuck(conn, args.run_id)
        return ops.set_settings(conn, {"lookback_years": args.lookback_years, "lookahead_days": args.lookahead_days,
                                       "min_overlap_minutes": args.min_overlap_minutes})


def _resume(args) -> dict:
    """RedriveExecution through stepflow: failed chunks run again, done chunks are kept."""
    from cm_pipeline import app

    import os

    dsn = os.environ.get("POSTGRES_DSN") or os.environ.get("DATABASE_URL")  # the template's own default is empty

    async def go():
        rt = app.runtime(args.store, dsn=dsn)
        app.register(rt)
        rt.service.redrive_execution(executionArn=args.execution_arn)
        return await app.finish(rt, args.execution_arn)

    return asyncio.run(go())


if __name__ == "__main__":
    sys.exit(main())

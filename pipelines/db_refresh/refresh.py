"""``make refresh``: the db-refresh workflow once, through stepflow, on freshly generated data.

Generates a synthetic InfoBase extract (100,000 customers and 300 attributes by default; the
snapshot three days old, with the default faults) under ``pipelines/db_refresh/.stepflow/flywheel``,
runs ``omc-flywheel-dev-db-refresh`` from the SAM template with the original document's input
(``input.json``), the Glue jobs as real subprocesses, and prints a summary: steps and job runs,
what each job counted, the reports' findings, the notifications.

    python -m pipelines.db_refresh.refresh [--customers N] [--attributes W] [--buckets B] [--root DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from flywheel import storage  # noqa: E402
from flywheel.catalog import Catalog  # noqa: E402
from flywheel.checks import latest_report  # noqa: E402
from flywheel.generator import Config, generate  # noqa: E402
from flywheel.layout import ADDRESSABLE, DEFAULT_DATABASE, INFOBASE, Layout  # noqa: E402

MACHINE = "omc-flywheel-dev-db-refresh"
STEPS = ("Step1_SplitJobs", "Step2_RegisterPartTables", "Step3_PreparePartTables", "Step4_CreateERTable", "Step5_Reporting")


def prepare(root: Path, customers: int, attributes: int, seed: int) -> dict:
    shutil.rmtree(root, ignore_errors=True)
    snapshot = (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=3)).isoformat()
    started = time.perf_counter()
    summary = generate(root, Config(customers=customers, attributes=attributes, seed=seed, snapshot_dt=snapshot))
    print(f"data: {summary['infobase_rows']:,} InfoBase rows x {summary['attributes']} attributes in "
          f"{summary['tables']} mapping tables, {summary['addressable_rows']:,} addressable ids, snapshot_dt="
          f"{snapshot} (+ an older and two malformed snapshot folders), generated in {time.perf_counter() - started:.1f} s")
    return summary


def execution_input(root: Path) -> dict:
    """input.json, the original document's start-execution input, pointed at ``root``."""
    return json.loads((HERE / "input.json").read_text().replace(".stepflow/flywheel", str(root)))


async def run_workflow(root: Path, buckets: int, state_dir: Path) -> tuple[dict, list[dict], list[dict]]:
    from stepflow.runtime import Runtime, Settings

    rt = Runtime(Settings(store_url=f"sqlite:///{state_dir}/stepflow.db", template=str(HERE / "template.yaml"),
                          parameter_overrides={"Root": str(root), "BucketCount": str(buckets)}, time_scale=0.0,
                          glue_log_dir=str(state_dir / "glue")))
    try:
        arn = next(a for a in rt.register_project_state_machines() if a.endswith(":" + MACHINE))
        execution = rt.service.start_execution(stateMachineArn=arn, input=json.dumps(execution_input(root)))
        print(f"execution {execution['executionArn']}")
        await rt.runner.wait(execution["executionArn"])
        await rt.services.drain()
        done = rt.service.describe_execution(executionArn=execution["executionArn"])
        events = rt.service.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        return done, events, rt.store.list_resources("glue-job-run")
    finally:
        rt.close()


def _seconds(value) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def print_steps(events: list[dict], runs: list[dict]) -> None:
    entered, exited = {}, {}
    for e in events:
        name = (e.get("stateEnteredEventDetails") or e.get("stateExitedEventDetails") or {}).get("name")
        if name in STEPS:
            (entered if e["type"].endswith("Entered") else exited).setdefault(name, _seconds(e["timestamp"]))
    print("\nsteps")
    for step in STEPS:
        took = f"{exited[step] - entered[step]:6.1f} s" if step in exited and step in entered else "  (not finished)"
        print(f"  {step:<26} {took}")
    print("glue job runs")
    for run in sorted(runs, key=lambda r: r["StartedOn"]):
        print(f"  {run['JobName']:<58} {run['JobRunState']:<10} {run.get('CompletedOn', run['StartedOn']) - run['StartedOn']:5.1f} s")


def print_data(layout: Layout) -> None:
    one = storage.read_marker(layout.target(ADDRESSABLE) / storage.MARKER) or {}
    two = storage.read_marker(layout.target(INFOBASE) / storage.MARKER) or {}
    print("\ndata")
    for label, marker in (("addressable ids", one), ("InfoBase", two)):
        c = marker.get("counts", {})
        if c:
            print(f"  {label:<16} snapshot {c['snapshot_dt']}: {c['rows_in']:,} rows in, {c['rows_out']:,} out "
                  f"({c['null_ids']} NULL ids, {c['duplicate_rows']} duplicate rows dropped) in "
                  f"{c['buckets_written']} buckets" + (f", {c['tables']} tables" if "tables" in c else ""))
    if layout.catalog.exists():
        with Catalog(layout.catalog) as cat:
            tables = cat.get_tables(DEFAULT_DATABASE)
            parts = sum(len(cat.get_partitions(DEFAULT_DATABASE, t.name)) for t in tables)
            widest = max(tables, key=lambda t: t.column_count, default=None)
        if widest is not None:
            print(f"  catalog          {len(tables)} tables in {DEFAULT_DATABASE}, {parts:,} partitions registered, "
                  f"widest {widest.name} with {widest.column_count} columns")
    er = storage.read_marker(layout.er_path / storage.MARKER)
    if er:
        print(f"  ER table         {er['counts']['rows']:,} rows (row_id = customer_user_id) at {layout.er_path}")


def print_reports(layout: Layout) -> None:
    print("\nreports")
    for job in ("generate_data_monitor_report", "generate_cleanrooms_report"):
        doc = latest_report(layout.reports, job)
        if doc is None:
            continue
        print(f"  {job:<30} {doc['summary']}  {layout.reports / job / doc['run_ts']}/report.json")
        for finding in doc["findings"][:5]:
            print(f"    {finding['severity']:<8} {finding['table']}: {finding['check']} - {finding['detail']}")
    print("notifications")
    lines = layout.notifications.read_text().splitlines() if layout.notifications.exists() else []
    for line in lines:
        print(f"  {json.loads(line)['Subject']}")
    print(f"  ({len(lines)} in {layout.notifications})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.db_refresh.refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(HERE / ".stepflow" / "flywheel"))
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--attributes", type=int, default=300)
    parser.add_argument("--buckets", type=int, default=32, help="BUCKET_COUNT (256 in production)")
    parser.add_argument("--seed", type=int, default=42)
    ns = parser.parse_args(argv)
    root = Path(ns.root).resolve()
    prepare(root, ns.customers, ns.attributes, ns.seed)
    state_dir = root.parent
    started = time.perf_counter()
    done, events, runs = asyncio.run(run_workflow(root, ns.buckets, state_dir))
    print(f"{done['status']} in {time.perf_counter() - started:.1f} s" + (
        f": {done.get('error')}: {str(done.get('cause'))[:400]}" if done["status"] != "SUCCEEDED" else ""))
    layout = Layout.at(root)
    print_steps(events, runs)
    print_data(layout)
    print_reports(layout)
    print(f"\nmore: .venv/bin/stepflow executions --store sqlite:///{state_dir}/stepflow.db   "
          f"(history, glue-runs, messages work the same way)")
    return 0 if done["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())

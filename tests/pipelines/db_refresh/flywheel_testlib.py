"""Helpers for the db-refresh tests: the standard arguments of each job for a layout, running
all seven jobs in order (in this process), and the pipeline's template run through stepflow."""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path

from flywheel.generator import Config
from flywheel.layout import ADDRESSABLE, DEFAULT_DATABASE, INFOBASE, Layout

PIPELINE = Path(__file__).resolve().parents[3] / "pipelines" / "db_refresh"
TEMPLATE = PIPELINE / "template.yaml"
MOCKS = PIPELINE / "mocks.json"
MACHINE = "omc-flywheel-dev-db-refresh"
SNAPSHOT = "2025-01-15"
AS_OF = "2025-02-01"
BUCKETS = 8
SMALL = Config(customers=1000, attributes=120, tables=12, seed=11, snapshot_dt=SNAPSHOT)
DB = DEFAULT_DATABASE


def job_args(layout: Layout, buckets: int = BUCKETS) -> dict[str, list[str]]:
    """``--NAME value`` lists for every job (3a and 3b apart), as the template passes them."""
    cat = ["--CATALOG_PATH", str(layout.catalog)]
    return {
        "addressable_split_and_part": ["--SOURCE_PATH", str(layout.raw_source(ADDRESSABLE)), "--TARGET_PATH",
                                       str(layout.target(ADDRESSABLE)), "--BUCKET_COUNT", str(buckets), "--SNAPSHOT_DT", "_NONE_"],
        "infobase_split_and_part": ["--SOURCE_PATH", str(layout.raw_source(INFOBASE)), "--TARGET_PATH",
                                    str(layout.target(INFOBASE)), "--CSV_PATH", str(layout.mapping),
                                    "--BUCKET_COUNT", str(buckets), "--MAX_COLS", "100", "--SNAPSHOT_DT", "_NONE_"],
        "register_3a": ["--DATABASE", DB, "--S3_ROOT", str(layout.target(ADDRESSABLE)), "--TABLE_PREFIX", "part_",
                        "--MAX_COLS", "100", *cat],
        "register_3b": ["--DATABASE", DB, "--S3_ROOT", str(layout.target(INFOBASE)), "--TABLE_PREFIX", "part_",
                        "--MAX_COLS", "100", *cat],
        "prepare_part_tables": ["--DATABASE", DB, "--TABLE_PREFIX", "part_", "--BUCKET_COUNT", str(buckets), *cat],
        "create_part_addressable_ids_er_table": ["--DATABASE", DB, "--TARGET_PATH", str(layout.er_path), "--FORCE", "false", *cat],
        "generate_data_monitor_report": ["--DATABASE", DB, "--BUCKET_COUNT", str(buckets), "--REPORT_PATH", str(layout.reports),
                                         "--RAW_ROOT", str(layout.raw), "--AS_OF", AS_OF, *cat],
        "generate_cleanrooms_report": ["--DATABASE", DB, "--REPORT_PATH", str(layout.reports),
                                       "--CLEANROOMS_CONFIG", str(layout.cleanrooms), *cat],
    }


MODULES = {"register_3a": "register_part_tables", "register_3b": "register_part_tables"}


def run_job(name: str, argv: list[str]) -> dict:
    module = importlib.import_module(f"flywheel.jobs.{MODULES.get(name, name)}")
    return module.run(argv)


def run_all(layout: Layout, buckets: int = BUCKETS, extra: dict | None = None) -> dict:
    """Jobs 1 .. 7 in the workflow's order; each job's counts by name."""
    args = job_args(layout, buckets)
    return {name: run_job(name, argv + list((extra or {}).get(name, []))) for name, argv in args.items()}


class Workflow:
    """The pipeline's SAM template in a stepflow Runtime (SQLite store, Glue runs as real
    subprocesses, instant retries), driven from synchronous tests on a loop of its own."""

    def __init__(self, tmp_path: Path, layout: Layout, buckets: int = BUCKETS, **settings):
        from stepflow.runtime import Runtime, Settings

        overrides = {"Root": str(layout.root), "BucketCount": str(buckets)}
        self.rt = Runtime(Settings(store_url=f"sqlite:///{tmp_path}/stepflow.db", template=str(TEMPLATE),
                                   parameter_overrides=overrides, time_scale=0.0, glue_log_dir=str(tmp_path / "glue"),
                                   lambda_logs_dir=str(tmp_path / "logs"), **settings))
        self.loop = asyncio.new_event_loop()

    def __enter__(self) -> "Workflow":
        return self

    def __exit__(self, *exc) -> None:
        self.rt.close()
        self.loop.close()

    def machine_arn(self) -> str:
        return next(a for a in self.rt.register_project_state_machines() if a.endswith(":" + MACHINE))

    def execute(self, payload: dict) -> dict:
        async def go():
            arn = self.rt.service.start_execution(stateMachineArn=self.machine_arn(), input=json.dumps(payload))["executionArn"]
            return await self._wait(arn)
        return self.loop.run_until_complete(go())

    def redrive(self, arn: str) -> dict:
        async def go():
            self.rt.service.redrive_execution(executionArn=arn)
            return await self._wait(arn)
        return self.loop.run_until_complete(go())

    async def _wait(self, arn: str) -> dict:
        exe = self.rt.runner.active.get(arn)
        if exe is not None and not exe.finished:
            await self.rt.runner.wait(arn)
        await self.rt.services.drain()  # the SNS file subscriber has its line
        return self.rt.service.describe_execution(executionArn=arn)

    def glue_runs(self) -> list[dict]:
        return self.rt.store.list_resources("glue-job-run")

    def history(self, arn: str) -> list[dict]:
        events, token = [], None
        while True:
            page = self.rt.service.get_execution_history(executionArn=arn, maxResults=1000,
                                                         **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events


def notifications(layout: Layout) -> list[dict]:
    path = layout.notifications
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

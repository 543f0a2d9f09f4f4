"""The seven jobs in order, in this process, each against its reference check; reruns give
identical files and catalog; the checks themselves catch wrong output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from flywheel import checks, storage
from flywheel.catalog import Catalog
from flywheel.layout import ADDRESSABLE, ER_TABLE, INFOBASE
from flywheel_testlib import BUCKETS, DB, PIPELINE, SMALL, SNAPSHOT, job_args, run_all, run_job


def _all_checks(layout) -> list[str]:
    return (checks.check_addressable(layout, SNAPSHOT, BUCKETS)
            + checks.check_infobase(layout, SNAPSHOT, BUCKETS, 100)
            + checks.check_register(layout.catalog, DB, layout.target(ADDRESSABLE), "part_", 100)
            + checks.check_register(layout.catalog, DB, layout.target(INFOBASE), "part_", 100)
            + checks.check_prepare(layout.catalog, DB, "part_")
            + checks.check_er(layout.catalog, DB, ER_TABLE, "part_addressable_ids")
            + checks.check_report(layout.reports, "generate_data_monitor_report", SMALL.tables + 2)
            + checks.check_report(layout.reports, "generate_cleanrooms_report", SMALL.tables + 1))


def test_every_job_passes_its_reference_check(world):
    counts = run_all(world)
    assert _all_checks(world) == []
    one = counts["addressable_split_and_part"]
    assert (one["rows_in"], one["rows_out"], one["null_ids"], one["duplicate_rows"]) == (712, 710, 1, 1)
    assert one["snapshot_dt"] == SNAPSHOT and one["ignored_snapshot_folders"] == ["snapshot_dt=2099-13-01", "snapshot_dt=latest"]
    two = counts["infobase_split_and_part"]
    assert (two["rows_out"], two["tables"], two["columns"]) == (1000, SMALL.tables, SMALL.attributes)
    assert counts["register_3b"]["tables"] == SMALL.tables and counts["register_3a"]["table_names"] == ["part_addressable_ids"]
    assert counts["prepare_part_tables"]["partitions"] == (SMALL.tables + 1) * BUCKETS
    assert counts["create_part_addressable_ids_er_table"]["rows"] == 710
    monitor, rooms = counts["generate_data_monitor_report"], counts["generate_cleanrooms_report"]
    assert (monitor["CRITICAL"], monitor["WARN"], rooms["CRITICAL"], rooms["WARN"]) == (0, 0, 0, 0)
    assert rooms["configured"] == SMALL.tables + 1
    marker = storage.read_marker(world.target(INFOBASE) / "_SUCCESS.json")
    assert marker["job"] == "infobase_split_and_part" and marker["snapshot_dt"] == SNAPSHOT
    assert (world.catalog.parent / "_SUCCESS" / f"prepare_part_tables.{DB}.json").exists()


def test_rerun_gives_identical_files_and_catalog(world):
    run_all(world)
    files = storage.tree_digest(world.root, exclude=("reports/",))
    with Catalog(world.catalog) as cat:
        catalog = cat.dump()
    run_all(world)
    assert storage.tree_digest(world.root, exclude=("reports/",)) == files
    with Catalog(world.catalog) as cat:
        assert cat.dump() == catalog
    leftovers = [p.name for p in world.root.rglob("*") if ".tmp-" in p.name or ".old-" in p.name]
    assert leftovers == []


def test_checks_catch_wrong_output(world):
    run_all(world)
    table = sorted(world.target(INFOBASE).glob("IBE_*"))[0]
    victim = sorted(table.rglob("*.parquet"))[0]
    data = pq.read_table(victim)
    column = data.column_names[1]
    changed = data.set_column(1, column, pa.array([None] * data.num_rows, type=data.schema.field(column).type))
    pq.write_table(changed.slice(1), victim)  # one row lost, one column blanked
    problems = checks.check_infobase(world, SNAPSHOT, BUCKETS, 100)
    assert any("rows, the source has 1000" in p for p in problems)
    assert any("join of all tables" in p for p in problems)
    wrong = world.target(ADDRESSABLE) / ADDRESSABLE / "id_bucket=0" / "part-00000.parquet"
    os.replace(wrong, world.target(ADDRESSABLE) / ADDRESSABLE / "id_bucket=1" / "part-00001.parquet")
    wrong.parent.rmdir()  # bucket 0 now has no folder but is still registered
    assert any("wrong bucket" in p for p in checks.check_addressable(world, SNAPSHOT, BUCKETS))
    assert checks.check_prepare(world.catalog, DB, "part_") != []


def test_requested_older_snapshot_and_python_dash_m(world):
    args = job_args(world)["addressable_split_and_part"]
    args[args.index("_NONE_")] = "2024-12-15"
    env = {**os.environ, "PYTHONPATH": str(PIPELINE)}
    done = subprocess.run([sys.executable, "-m", "flywheel.jobs.addressable_split_and_part", *args, "--JOB_NAME", "x"],
                          cwd=PIPELINE, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "snapshot_dt=2024-12-15" in done.stdout
    assert checks.check_addressable(world, "2024-12-15", BUCKETS) == []
    failed = subprocess.run([sys.executable, "-m", "flywheel.jobs.register_part_tables", "--MAX_COLS", "100"],
                            cwd=PIPELINE, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert "ArgumentError: missing required argument(s): --DATABASE, --S3_ROOT, --CATALOG_PATH" in failed.stderr


def test_prepare_registers_recreates_and_reports_missing_buckets(world):
    args = job_args(world)
    for name in ("addressable_split_and_part", "register_3a"):
        run_job(name, args[name])
    folder = world.target(ADDRESSABLE) / ADDRESSABLE
    storage.shutil.rmtree(folder / "id_bucket=3")
    with Catalog(world.catalog) as cat:  # registered without partitioning, as the original's register job could
        table = cat.get_table(DB, "part_addressable_ids")
        cat.update_table(storage_replace(table, partition_keys=()))
    counts = run_job("prepare_part_tables", args["prepare_part_tables"])
    assert counts["recreated"] == ["part_addressable_ids"] and counts["missing_buckets"] == {"part_addressable_ids": [3]}
    assert checks.check_prepare(world.catalog, DB, "part_") == []
    rerun = run_job("prepare_part_tables", args["prepare_part_tables"])
    assert (rerun["added"], rerun["dropped"], rerun["recreated"]) == (0, 0, [])


def storage_replace(table, **changes):
    from dataclasses import replace

    return replace(table, **changes)


def test_monitor_findings_and_auto_repair(world):
    run_all(world)
    args = job_args(world)
    with Catalog(world.catalog) as cat:
        cat.batch_delete_partition(DB, "part_addressable_ids", [("0",), ("1",)])
    monitor = args["generate_data_monitor_report"]
    stale = [a if a != "2025-02-01" else "2025-06-01" for a in monitor] + ["--FAIL_ON", "none", "--RUN_TS", "2025-06-01T02:00:00Z"]
    counts = run_job("generate_data_monitor_report", stale)
    report = json.loads((world.reports / "generate_data_monitor_report" / "20250601T020000Z" / "report.json").read_text())
    found = {(f["table"], f["check"], f["severity"]) for f in report["findings"]}
    assert ("part_addressable_ids", "partition_registration", "CRITICAL") in found
    assert ("part_addressable_ids", "record_count", "CRITICAL") in found  # buckets 0 and 1 invisible to athena
    assert sum(1 for f in report["findings"] if f["check"] == "freshness") == SMALL.tables + 1
    assert counts["CRITICAL"] == len([f for f in report["findings"] if f["severity"] == "CRITICAL"])
    repaired = run_job("generate_data_monitor_report", monitor + ["--AUTO_REPAIR", "true"])
    assert repaired["CRITICAL"] == 0 and repaired["INFO"] == 1
    assert checks.check_prepare(world.catalog, DB, "part_") == []

"""The failure paths of db-refresh.md (tests item 9): a table over MAX_COLS, a mapped column
missing from the source, an ER overwrite without --FORCE, malformed snapshot folders; and the
Clean Rooms report's findings. A failing job leaves its previous output and the catalog as
they were."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from flywheel import storage
from flywheel.catalog import Catalog
from flywheel.errors import ChecksFailed, ColumnLimitError, MappingError, OverwriteRefused, SnapshotError
from flywheel.generator import Config, Faults, generate
from flywheel.layout import ADDRESSABLE, INFOBASE, Layout
from flywheel.mapping import MappedColumn, MappedTable, read_mapping, write_mapping
from flywheel_testlib import DB, SNAPSHOT, job_args, run_all, run_job


def _widen_first_table(layout, attributes: int) -> str:
    """Give the mapping's first table ``attributes`` columns (taken from the other tables)."""
    tables = read_mapping(layout.mapping)
    pool = [c for t in tables[1:] for c in t.columns]
    first = MappedTable(tables[0].name, (tables[0].columns + tuple(pool))[:attributes])
    used = {c.source_column for c in first.columns}
    rest = [MappedTable(t.name, tuple(c for c in t.columns if c.source_column not in used)) for t in tables[1:]]
    write_mapping(layout.mapping, [first] + [t for t in rest if t.columns])
    return first.name


@pytest.fixture
def wide_world(tmp_path) -> Layout:
    generate(tmp_path / "wide", Config(customers=300, attributes=200, tables=4, seed=5))
    return Layout.at(tmp_path / "wide")


def test_split_job_fails_on_a_mapping_table_over_max_cols(wide_world):
    name = _widen_first_table(wide_world, 99)  # 99 + customer_user_id + id_bucket = 101
    args = job_args(wide_world)["infobase_split_and_part"]
    with pytest.raises(ColumnLimitError, match=rf"over MAX_COLS=100: {name} would have 101 columns \(99 mapped"):
        run_job("infobase_split_and_part", args)
    assert not wide_world.target(INFOBASE).exists()
    _widen_first_table(wide_world, 98)
    assert run_job("infobase_split_and_part", args)["tables"] >= 1


def test_register_job_fails_naming_table_columns_and_limit_and_never_truncates(wide_world):
    name = _widen_first_table(wide_world, 99)
    args = job_args(wide_world)
    run_job("infobase_split_and_part", [*args["infobase_split_and_part"], "--MAX_COLS", "200"])
    with pytest.raises(ColumnLimitError) as err:
        run_job("register_3b", args["register_3b"])
    assert f"table part_{name.lower()} has 101 columns (100 data + 1 partition), more than MAX_COLS=100" in str(err.value)
    with Catalog(wide_world.catalog) as cat:
        assert cat.get_tables(DB) == []  # nothing registered, not even the tables within the limit
    run_job("register_3b", [*args["register_3b"], "--MAX_COLS", "101"])
    with Catalog(wide_world.catalog) as cat:
        assert cat.get_table(DB, f"part_{name.lower()}").column_count == 101


def test_missing_mapped_column_fails_unless_allowed(tmp_path):
    generate(tmp_path / "m", Config(customers=200, attributes=60, tables=6, seed=9,
                                    faults=Faults(missing_mapped_column=True)))
    layout = Layout.at(tmp_path / "m")
    args = job_args(layout)["infobase_split_and_part"]
    missing = read_mapping(layout.mapping)[-1].columns[-1].source_column
    with pytest.raises(MappingError, match=rf"1 mapped column\(s\) missing from the source: .*{missing}"):
        run_job("infobase_split_and_part", args)
    counts = run_job("infobase_split_and_part", [*args, "--ALLOW_MISSING_COLUMNS", "true"])
    assert counts["missing_columns"] == [missing] and counts["columns"] == 59


def test_er_table_is_not_overwritten_without_force(world):
    run_all(world)
    args = job_args(world)
    before = storage.tree_digest(world.er_path)
    assert run_job("create_part_addressable_ids_er_table", args["create_part_addressable_ids_er_table"])["files_changed"] is False
    # next month: a new addressable snapshot with other ids
    newer = world.raw_source(ADDRESSABLE) / "snapshot_dt=2025-02-15"
    shutil.copytree(world.raw_source(ADDRESSABLE) / "snapshot_dt=2024-12-15", newer)
    for name in ("addressable_split_and_part", "register_3a", "prepare_part_tables"):
        run_job(name, args[name])
    with pytest.raises(OverwriteRefused, match="--FORCE true"):
        run_job("create_part_addressable_ids_er_table", args["create_part_addressable_ids_er_table"])
    assert storage.tree_digest(world.er_path) == before
    forced = run_job("create_part_addressable_ids_er_table", [*args["create_part_addressable_ids_er_table"], "--FORCE", "true"])
    assert forced["files_changed"] and forced["snapshot_dt"] == "2025-02-15" and forced["rows"] < 710
    assert storage.tree_digest(world.er_path) != before


def test_malformed_snapshot_folders(world):
    args = job_args(world)["addressable_split_and_part"]
    source = world.raw_source(ADDRESSABLE)
    with pytest.raises(SnapshotError, match="is not a date"):
        run_job("addressable_split_and_part", [*args, "--SNAPSHOT_DT", "2025-13-01"])
    with pytest.raises(SnapshotError, match="no folder snapshot_dt=2025-03-01"):
        run_job("addressable_split_and_part", [*args, "--SNAPSHOT_DT", "2025-03-01"])
    (source / "snapshot_dt=2025-03-01").mkdir()
    with pytest.raises(SnapshotError, match="has no Parquet files"):
        run_job("addressable_split_and_part", args)  # the newest valid folder is empty
    shutil.rmtree(source / "snapshot_dt=2025-03-01")
    for valid in ("snapshot_dt=2025-01-15", "snapshot_dt=2024-12-15"):
        shutil.rmtree(source / valid)
    with pytest.raises(SnapshotError, match=r"no valid snapshot_dt=YYYY-MM-DD folder .*ignored malformed: "
                                            r"snapshot_dt=2099-13-01, snapshot_dt=latest"):
        run_job("addressable_split_and_part", args)
    assert not world.target(ADDRESSABLE).exists()


def test_a_failed_rerun_keeps_the_previous_output(world):
    args = job_args(world)
    run_job("addressable_split_and_part", args["addressable_split_and_part"])
    before = storage.tree_digest(world.target(ADDRESSABLE))
    with pytest.raises(SnapshotError):
        run_job("addressable_split_and_part", [*args["addressable_split_and_part"], "--SNAPSHOT_DT", "2030-01-01"])
    assert storage.tree_digest(world.target(ADDRESSABLE)) == before


def test_cleanrooms_report_findings(world):
    run_all(world)
    config = json.loads(world.cleanrooms.read_text())
    dropped = config["configured_tables"].pop(1)
    config["configured_tables"][0]["allowed_columns"].append("not_a_column")
    config["configured_tables"][2]["allowed_columns"] = [f"c{i}" for i in range(101)]
    config["configured_tables"].append({"name": "cfg_ghost", "source_table": {"database": DB, "table": "part_ghost"},
                                        "allowed_columns": [], "analysis_rule": None})
    config["associations"] = config["associations"][:-1]
    world.cleanrooms.write_text(json.dumps(config))
    args = job_args(world)["generate_cleanrooms_report"]
    with pytest.raises(ChecksFailed, match="at or above CRITICAL"):
        run_job("generate_cleanrooms_report", [*args, "--RUN_TS", "2025-02-01T02:00:00.000Z"])
    report = json.loads((world.reports / "generate_cleanrooms_report" / "20250201T020000Z" / "report.json").read_text())
    found = {(f["table"], f["check"], f["severity"]) for f in report["findings"]}
    assert (dropped["source_table"]["table"], "configured", "CRITICAL") in found
    assert ("part_addressable_ids", "allowlist_columns", "CRITICAL") in found
    assert (config["configured_tables"][2]["source_table"]["table"], "allowlist_limit", "CRITICAL") in found
    assert ("part_ghost", "missing_from_catalog", "CRITICAL") in found
    assert sum(1 for f in report["findings"] if f["check"] == "association") == 1
    assert report["er_tables"] == [{"table": "part_addressable_ids_er", "id_namespace": "omc-acx-ids"}]
    assert not (world.reports / "generate_cleanrooms_report" / "20250201T020000Z" / "_SUCCESS.json").exists()
    counts = run_job("generate_cleanrooms_report", [*args, "--FAIL_ON", "none"])
    assert counts["CRITICAL"] == 5  # the 101-column allowlist also names 101 columns the table lacks

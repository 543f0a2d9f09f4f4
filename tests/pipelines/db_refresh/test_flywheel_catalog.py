"""The SQLite catalog (numbered migration, Catalog verbs, concurrent writers) and athena()."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flywheel.athena import athena
from flywheel.catalog import Catalog, Column, Partition, Table
from flywheel.errors import CatalogError

DB = "db1"


def _table(name: str = "part_x", location: str = "/nowhere", **kw) -> Table:
    return Table(DB, name, location, (Column("customer_user_id", "string"), Column("a", "int")),
                 (Column("id_bucket", "int"),), parameters={"snapshot_dt": "2025-01-15"}, **kw)


def test_migration_applies_once(tmp_path):
    path = tmp_path / "c.sqlite"
    Catalog(path).close()
    with Catalog(path) as cat:
        rows = cat.conn.execute("SELECT version FROM schema_migrations").fetchall()
        assert rows == [("001_catalog",)]
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_tables_round_trip_and_upsert_leaves_unchanged_rows_alone(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as cat:
        with pytest.raises(CatalogError, match="Database db1 not found"):
            cat.create_table(_table())
        assert cat.create_database(DB) and not cat.create_database(DB)
        cat.create_table(_table())
        with pytest.raises(CatalogError, match="AlreadyExists"):
            cat.create_table(_table())
        got = cat.get_table(DB, "part_x")
        assert got.same_definition(_table()) and got.column_count == 3
        before = cat.dump()
        assert cat.upsert_table(_table()) == "unchanged" and cat.dump() == before
        assert cat.upsert_table(replace(_table(), parameters={"snapshot_dt": "2025-02-15"})) == "updated"
        assert cat.get_table(DB, "part_x").parameters == {"snapshot_dt": "2025-02-15"}
        assert cat.get_table(DB, "part_x").created_at == got.created_at
        with pytest.raises(CatalogError, match="not found"):
            cat.update_table(_table("part_y"))
        assert [t.name for t in cat.get_tables(DB, "part_")] == ["part_x"]
        assert cat.delete_table(DB, "part_x") and not cat.delete_table(DB, "part_x")
        assert cat.get_table(DB, "part_x") is None


def test_partitions(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.create_database(DB)
        cat.create_table(_table())
        assert cat.batch_create_partition(DB, "part_x", [Partition(("10",), "/p10"), Partition(("2",), "/p2")]) == []
        errors = cat.batch_create_partition(DB, "part_x", [Partition(("2",), "/p2")])
        assert errors[0]["ErrorDetail"]["ErrorCode"] == "AlreadyExistsException"
        assert [p.values for p in cat.get_partitions(DB, "part_x")] == [("2",), ("10",)]
        assert cat.batch_delete_partition(DB, "part_x", [("2",), ("7",)]) == 1
        assert [p.location for p in cat.get_partitions(DB, "part_x")] == ["/p10"]


def _writer(path: str, worker: int) -> None:
    with Catalog(path) as cat:
        cat.create_database(DB)
        for i in range(40):
            cat.upsert_table(_table(f"part_{worker}_{i}"))
            cat.batch_create_partition(DB, f"part_{worker}_{i}", [Partition((str(i),), f"/p{i}")])


def test_concurrent_writers_in_separate_processes(tmp_path):
    path = str(tmp_path / "c.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    with Catalog(path) as cat:
        assert len(cat.get_tables(DB)) == 120
        assert sum(len(cat.get_partitions(DB, t.name)) for t in cat.get_tables(DB)) == 120


def _bucket_file(root: Path, k: int, ids: list[str]) -> Path:
    folder = root / f"id_bucket={k}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"customer_user_id": ids, "a": list(range(len(ids)))}), folder / "part-00000.parquet")
    return folder


def test_athena_sees_registered_partitions_only(tmp_path):
    root = tmp_path / "part_x"
    f0, f1 = _bucket_file(root, 0, ["A", "B"]), _bucket_file(root, 1, ["C"])
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.create_database(DB)
        cat.create_table(_table(location=str(root)))
        assert athena("SELECT count(*) FROM part_x", catalog=cat, database=DB) == [(0,)]
        cat.batch_create_partition(DB, "part_x", [Partition(("1",), str(f1))])
        assert athena("SELECT customer_user_id, id_bucket FROM part_x", catalog=cat, database=DB) == [("C", 1)]
        cat.batch_create_partition(DB, "part_x", [Partition(("0",), str(f0))])
        rows = athena(f"SELECT count(*), sum(a) FROM {DB}.part_x WHERE id_bucket = ?", catalog=cat, params=[0])
        assert rows == [(2, 1)]
        cat.create_table(Table(DB, "flat", str(f0), (Column("customer_user_id", "string"),)))
        assert athena("SELECT count(*), max(flywheel_bucket(customer_user_id, 4)) < 4 FROM flat",
                      catalog=cat, database=DB) == [(2, True)]

"""The synthetic data generator: mapping shape, sizes, faults, repeatability."""

from __future__ import annotations

import json
from dataclasses import replace

import duckdb
import pyarrow.parquet as pq

from flywheel import storage
from flywheel.generator import Config, Faults, generate, table_names
from flywheel.layout import ADDRESSABLE, INFOBASE, Layout
from flywheel.mapping import read_mapping
from flywheel_testlib import SMALL


def test_default_mapping_has_28_tables_within_the_column_limit(tmp_path):
    summary = generate(tmp_path, Config(customers=200, attributes=1770, seed=3))
    tables = read_mapping(Layout.at(tmp_path).mapping)
    sizes = [len(t.columns) for t in tables]
    assert len(tables) == 28 and sum(sizes) == 1770 == summary["attributes"]
    assert min(sizes) >= 3 and max(sizes) <= 98
    names = [t.name for t in tables]
    assert {"IBE_01", "IBE_09", "MIACS_04", "NEW_BORROWERS", "N_A", "IBE_01_A", "IBE_01_B"} <= set(names)
    assert all(c.omc_column.startswith(("ibe", "miacs", "nb", "na")) for t in tables for c in t.columns)
    assert table_names(3) == ["IBE_01", "IBE_02", "IBE_03"]


def test_rows_faults_and_snapshot_folders(generated):
    layout = Layout.at(generated)
    raw = layout.raw_source(INFOBASE)
    assert sorted(p.name for p in raw.iterdir()) == [
        "snapshot_dt=2024-12-15", "snapshot_dt=2025-01-15", "snapshot_dt=2099-13-01", "snapshot_dt=latest"]
    files = str(raw / "snapshot_dt=2025-01-15" / "*.parquet")
    assert pq.read_schema(next((raw / "snapshot_dt=2025-01-15").glob("*.parquet"))).names[0] == "Customer_User_id"
    total, nulls, distinct = duckdb.execute(f"SELECT count(*), count(*) FILTER (WHERE customer_user_id IS NULL),"
                                        f" count(DISTINCT customer_user_id) FROM '{files}'").fetchone()
    assert distinct == 1000 and nulls == 1 and total == 1002  # 0.01% of 1K rounds up to one of each
    assert duckdb.execute(f"SELECT count(*) FROM '{files}' WHERE NOT regexp_full_match(customer_user_id, '[0-9A-F]{{16}}')"
                      ).fetchone()[0] == 0
    rates = duckdb.execute(f"SELECT * FROM (UNPIVOT (SELECT COLUMNS(* EXCLUDE customer_user_id) IS NULL FROM '{files}')"
                       " ON COLUMNS(*) INTO NAME c VALUE v)").fetchall()
    assert 0.05 < sum(v for _, v in rates) / len(rates) < 0.95
    addressable = str(layout.raw_source(ADDRESSABLE) / "snapshot_dt=2025-01-15" / "*.parquet")
    known = duckdb.execute(f"SELECT count(DISTINCT a.customer_user_id) FILTER (WHERE i.customer_user_id IS NOT NULL),"
                       f" count(DISTINCT a.customer_user_id) FILTER (WHERE i.customer_user_id IS NULL)"
                       f" FROM '{addressable}' a LEFT JOIN (SELECT DISTINCT customer_user_id FROM '{files}') i USING (customer_user_id)"
                       ).fetchone()
    assert known == (700, 10)
    config = json.loads(layout.cleanrooms.read_text())
    assert len(config["configured_tables"]) == SMALL.tables + 1


def test_same_seed_same_bytes_and_missing_column_fault(tmp_path):
    cfg = replace(SMALL, customers=300)
    generate(tmp_path / "a", cfg)
    generate(tmp_path / "b", cfg)
    assert storage.tree_digest(tmp_path / "a") == storage.tree_digest(tmp_path / "b")
    generate(tmp_path / "c", replace(cfg, seed=cfg.seed + 1))
    assert storage.tree_digest(tmp_path / "a") != storage.tree_digest(tmp_path / "c")
    generate(tmp_path / "d", replace(cfg, faults=Faults(missing_mapped_column=True)))
    layout = Layout.at(tmp_path / "d")
    mapped = {c.source_column for t in read_mapping(layout.mapping) for c in t.columns}
    source = set(pq.read_schema(next((layout.raw_source(INFOBASE) / "snapshot_dt=2025-01-15").glob("*.parquet"))).names)
    assert len(mapped - source) == 1

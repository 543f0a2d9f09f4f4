"""Reference checks, one function per job (db-refresh.md B5, "Checked by"). Each recomputes
what the job should have produced from its inputs with DuckDB queries of its own (not the job's
code path) and returns the problems it found: an empty list means the job's output is right.

The bucket is the one function of :mod:`flywheel.bucket` (``flywheel_bucket`` in SQL).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from flywheel import athena, storage
from flywheel.bucket import register_duckdb
from flywheel.catalog import Catalog
from flywheel.layout import ADDRESSABLE, INFOBASE, KEY, METADATA, PARTITION_KEY, SNAPSHOT_FILE, Layout
from flywheel.mapping import read_mapping
from flywheel.types import glue_type

q = athena.quote_ident


def _conn() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(":memory:")
    register_duckdb(conn)
    return conn


def _files(folder: Path) -> str:
    return "[" + ", ".join(athena.quote_literal(str(p)) for p in sorted(Path(folder).rglob("*.parquet"))) + "]"


def _first_rows(raw_folder: Path, columns: list[tuple[str, str]]) -> str:
    """SQL of the raw snapshot's cleaned rows: non-NULL ids, the first row per id in file order,
    ``columns`` as ``(source name, output name)``."""
    select = ", ".join(f"{q(src)} AS {q(out)}" for src, out in columns)
    return (f"SELECT {select} FROM (SELECT *, row_number() OVER (PARTITION BY {KEY} ORDER BY filename, file_row_number)"
            f" AS _k FROM read_parquet({_files(raw_folder)}, filename = true, file_row_number = true)"
            f" WHERE {KEY} IS NOT NULL) WHERE _k = 1")


def _rows_digest(conn, sql: str) -> tuple[int, str]:
    """(row count, md5 of the sorted rows' text) of a query."""
    return conn.execute(f"SELECT count(*), md5(coalesce(string_agg(CAST(x AS VARCHAR), chr(10) ORDER BY"
                        f" CAST(x AS VARCHAR)), '')) FROM ({sql}) x").fetchone()


def _bucket_problems(conn, name: str, folder: Path, bucket_count: int) -> list[str]:
    """Every row in the folder of its bucket: ``id_bucket`` (from the path) = f(id)."""
    wrong = conn.execute(
        f"SELECT count(*) FROM read_parquet({_files(folder)}, hive_partitioning = true, hive_types = {{'{PARTITION_KEY}': INTEGER}})"
        f" WHERE {PARTITION_KEY} IS DISTINCT FROM flywheel_bucket({KEY}, {bucket_count})").fetchone()[0]
    return [f"{name}: {wrong} row(s) in the wrong bucket"] if wrong else []


def _snapshot_problems(target: Path, snapshot_dt: str) -> list[str]:
    path = target / METADATA / SNAPSHOT_FILE
    text = path.read_text().strip() if path.exists() else None
    return [] if text == snapshot_dt else [f"{path}: {text!r}, expected {snapshot_dt}"]


# job 1 -------------------------------------------------------------------------------------------

def check_addressable(layout: Layout, snapshot_dt: str, bucket_count: int) -> list[str]:
    raw, target = layout.raw_source(ADDRESSABLE) / f"snapshot_dt={snapshot_dt}", layout.target(ADDRESSABLE)
    out = target / ADDRESSABLE
    conn = _conn()
    problems = _snapshot_problems(target, snapshot_dt) + _bucket_problems(conn, ADDRESSABLE, out, bucket_count)
    want = _rows_digest(conn, f"SELECT DISTINCT {KEY} FROM read_parquet({_files(raw)}) WHERE {KEY} IS NOT NULL")
    got = _rows_digest(conn, f"SELECT {KEY} FROM read_parquet({_files(out)})")
    if want != got:
        problems.append(f"addressable ids: {got[0]} rows out, expected the {want[0]} distinct non-NULL ids in")
    total, nulls, distinct = conn.execute(f"SELECT count(*), count(*) FILTER (WHERE {KEY} IS NULL),"
                                          f" count(DISTINCT {KEY}) FROM read_parquet({_files(raw)})").fetchone()
    counts = (storage.read_marker(target / storage.MARKER) or {}).get("counts", {})
    if (counts.get("null_ids"), counts.get("duplicate_rows")) != (nulls, total - nulls - distinct):
        problems.append(f"marker reports {counts.get('null_ids')} NULL / {counts.get('duplicate_rows')} duplicate rows,"
                        f" the source has {nulls} / {total - nulls - distinct}")
    return problems


# job 2 -------------------------------------------------------------------------------------------

def _key_spelling(raw: Path) -> str:
    names = pq.read_schema(sorted(raw.glob("*.parquet"))[0]).names
    return next(n for n in names if n.lower() == KEY)


def check_infobase(layout: Layout, snapshot_dt: str, bucket_count: int, max_cols: int,
                   mapping_path: Path | None = None) -> list[str]:
    tables = read_mapping(mapping_path or layout.mapping)
    raw, target = layout.raw_source(INFOBASE) / f"snapshot_dt={snapshot_dt}", layout.target(INFOBASE)
    conn = _conn()
    problems = _snapshot_problems(target, snapshot_dt)
    key = _key_spelling(raw)
    ids = conn.execute(f"SELECT count(DISTINCT {q(key)}) FROM read_parquet({_files(raw)})").fetchone()[0]
    folders = sorted(p.name for p in target.iterdir() if p.is_dir() and p.name != METADATA)
    if folders != sorted(t.name for t in tables):
        problems.append(f"table folders {folders} differ from the mapping's tables")
    for t in tables:
        problems += _table_problems(conn, target / t.name, t, ids, bucket_count, max_cols)
    written = {c for t in tables for c in pq.read_schema(_first_file(target / t.name)).names} - {KEY}
    if written != {c.omc_column for t in tables for c in t.columns}:
        problems.append("the union of the tables' columns differs from the mapping")
    return problems + _join_problems(conn, raw, key, target, tables)


def _first_file(folder: Path) -> Path:
    return sorted(folder.rglob("*.parquet"))[0]


def _table_problems(conn, folder: Path, table, ids: int, bucket_count: int, max_cols: int) -> list[str]:
    if not folder.is_dir():
        return [f"{table.name}: no folder"]
    names = pq.read_schema(_first_file(folder)).names
    problems = []
    if names != [KEY] + [c.omc_column for c in table.columns]:
        problems.append(f"{table.name}: columns {names[:4]}... are not {KEY} + its mapped columns in order")
    if len(names) + 1 > max_cols:
        problems.append(f"{table.name}: {len(names) + 1} columns > MAX_COLS {max_cols}")
    rows = conn.execute(f"SELECT count(*) FROM read_parquet({_files(folder)})").fetchone()[0]
    if rows != ids:
        problems.append(f"{table.name}: {rows} rows, the source has {ids} distinct ids")
    return problems + _bucket_problems(conn, table.name, folder, bucket_count)


def _join_problems(conn, raw: Path, key: str, target: Path, tables) -> list[str]:
    """The join of all tables on the id reproduces the cleaned source (hash of sorted rows)."""
    columns = [(key, KEY)] + [(c.source_column, c.omc_column) for t in tables for c in t.columns]
    source = _first_rows(raw, columns)
    views = [f"(SELECT * FROM read_parquet({_files(target / t.name)})) AS {q('t' + str(i))}" for i, t in enumerate(tables)]
    joined = views[0] + "".join(f" FULL JOIN {v} USING ({KEY})" for v in views[1:])
    select = ", ".join([KEY] + [q(c.omc_column) for t in tables for c in t.columns])
    want, got = _rows_digest(conn, source), _rows_digest(conn, f"SELECT {select} FROM {joined}")
    return [] if want == got else [f"join of all tables ({got[0]} rows, md5 {got[1]}) differs from the source "
                                   f"({want[0]} rows, md5 {want[1]})"]


# jobs 3 and 4 ------------------------------------------------------------------------------------

def check_register(catalog_path: Path, database: str, root: Path, prefix: str, max_cols: int) -> list[str]:
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir() and p.name != METADATA and "." not in p.name)
    problems = []
    with Catalog(catalog_path) as catalog:
        for folder in folders:
            table = catalog.get_table(database, prefix + folder.name.lower())
            if table is None:
                problems.append(f"{folder.name}: not registered")
                continue
            schema = pq.read_schema(_first_file(folder))
            if [(c.name, c.type) for c in table.columns] != [(f.name, glue_type(f.type)) for f in schema]:
                problems.append(f"{table.name}: catalog columns differ from the Parquet schema")
            if [(k.name, k.type) for k in table.partition_keys] != [(PARTITION_KEY, "int")]:
                problems.append(f"{table.name}: partition keys {table.partition_keys}")
            if table.column_count > max_cols:
                problems.append(f"{table.name}: {table.column_count} columns > MAX_COLS {max_cols}")
            snap = (Path(root) / METADATA / SNAPSHOT_FILE).read_text().strip()
            if table.parameters.get("snapshot_dt") != snap:
                problems.append(f"{table.name}: snapshot_dt {table.parameters.get('snapshot_dt')} != {snap}")
    return problems


def check_prepare(catalog_path: Path, database: str, prefix: str) -> list[str]:
    problems = []
    with Catalog(catalog_path) as catalog:
        for table in catalog.get_tables(database, prefix):
            if table.parameters.get("flywheel_kind") == "er_table":
                continue
            on_disk = {p.name.split("=", 1)[1]: str(p.resolve()) for p in Path(table.location).glob(f"{PARTITION_KEY}=*")}
            registered = {p.values[0]: p.location for p in catalog.get_partitions(database, table.name)}
            if registered != on_disk:
                problems.append(f"{table.name}: registered partitions {sorted(registered)} != folders {sorted(on_disk)}")
    return problems


# job 5 -------------------------------------------------------------------------------------------

def check_er(catalog_path: Path, database: str, er_table: str, source_table: str) -> list[str]:
    with Catalog(catalog_path) as catalog, athena.session(catalog, database) as conn:
        if catalog.get_table(database, er_table) is None:
            return [f"{er_table}: not in the catalog"]
        rows, nulls, distinct, differ = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE row_id IS NULL), count(DISTINCT row_id),"
            f" count(*) FILTER (WHERE row_id IS DISTINCT FROM {KEY}) FROM {q(er_table)}").fetchone()
        source = conn.execute(f"SELECT count(*) FROM {q(source_table)}").fetchone()[0]
    problems = [] if rows == source else [f"{er_table}: {rows} rows, {source_table} has {source}"]
    if nulls or distinct != rows:
        problems.append(f"{er_table}: row_id not unique and non-NULL ({nulls} NULL, {distinct} distinct of {rows})")
    if differ:
        problems.append(f"{er_table}: {differ} row(s) with row_id != {KEY}")
    return problems


# jobs 6 and 7 ------------------------------------------------------------------------------------

def latest_report(report_root: Path, job: str) -> dict | None:
    folders = sorted((Path(report_root) / job).glob("*/report.json"))
    return json.loads(folders[-1].read_text()) if folders else None


def check_report(report_root: Path, job: str, expected_tables: int) -> list[str]:
    doc = latest_report(report_root, job)
    if doc is None:
        return [f"{job}: no report"]
    problems = []
    if len(doc.get("tables", [])) != expected_tables:
        problems.append(f"{job}: {len(doc.get('tables', []))} tables reported, expected {expected_tables}")
    csv_path = Path(report_root) / job / doc["run_ts"] / "report.csv"
    if len(csv_path.read_text().splitlines()) != len(doc["findings"]) + 1:
        problems.append(f"{job}: report.csv does not list the findings of report.json")
    return problems

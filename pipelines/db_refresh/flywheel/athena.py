"""``athena(sql)``: SQL over the catalog's tables with DuckDB, seeing what Athena would see.

An in-memory DuckDB gets one schema per catalog database and one view per table. A partitioned
table's view reads only the files of its **registered** partitions (``read_parquet([...],
hive_partitioning = true)``), so data in unregistered ``id_bucket=k`` folders stays invisible, as
in Athena before ``MSCK REPAIR TABLE``; a table with no registered partition is empty. A view
selects the catalog's columns (the catalog schema wins, as in Athena). ``flywheel_bucket(id, n)``
(the bucket function) is callable in queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from flywheel.bucket import register_duckdb
from flywheel.catalog import Catalog, Table
from flywheel.types import duckdb_type


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_files(catalog: Catalog, table: Table) -> list[str]:
    """The Parquet files Athena would read: those of the registered partitions (partitioned
    tables) or all under the location (others), sorted."""
    if table.partition_keys:
        folders = [Path(p.location) for p in catalog.get_partitions(table.database, table.name)]
    else:
        folders = [Path(table.location)]
    files = []
    for folder in folders:
        files += sorted(str(f) for f in folder.rglob("*.parquet") if not _hidden(f, folder))
    return files


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def view_sql(catalog: Catalog, table: Table) -> str:
    """The SELECT behind a table's view."""
    columns = list(table.columns) + list(table.partition_keys)
    files = table_files(catalog, table)
    if not files:
        select = ", ".join(f"CAST(NULL AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}" for c in columns)
        return f"SELECT {select} WHERE false"
    select = ", ".join(f"CAST({quote_ident(c.name)} AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
                       for c in columns)
    listing = "[" + ", ".join(quote_literal(f) for f in files) + "]"
    hive = ", ".join(f"{quote_literal(k.name)}: {duckdb_type(k.type)}" for k in table.partition_keys)
    options = f"hive_partitioning = true, hive_types = {{{hive}}}" if hive else "hive_partitioning = false"
    return f"SELECT {select} FROM read_parquet({listing}, {options}, union_by_name = true)"


def connect(catalog: Catalog | str | Path, database: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per catalog table; ``database`` is the default schema."""
    own = not isinstance(catalog, Catalog)
    cat = Catalog(catalog) if own else catalog
    try:
        conn = duckdb.connect(":memory:")
        register_duckdb(conn)
        for db in cat.get_databases():
            conn.execute(f"CREATE SCHEMA {quote_ident(db)}")
            for table in cat.get_tables(db):
                conn.execute(f"CREATE VIEW {quote_ident(db)}.{quote_ident(table.name)} AS {view_sql(cat, table)}")
        if database is not None:
            conn.execute(f"USE memory.{quote_ident(database)}")
        return conn
    finally:
        if own:
            cat.close()


@contextmanager
def session(catalog: Catalog | str | Path, database: str | None = None):
    """:func:`connect` as a context manager (closed at the end)."""
    conn = connect(catalog, database)
    try:
        yield conn
    finally:
        conn.close()


def arrow_table(conn: duckdb.DuckDBPyConnection, sql: str):
    """A query's result as a pyarrow Table (through a relation: no extra copy)."""
    return conn.sql(sql).to_arrow_table()


def athena(sql: str, *, catalog: Catalog | str | Path, database: str | None = None,
           params: Sequence | None = None) -> list[tuple]:
    """Run one query over the catalog's tables; its rows."""
    with session(catalog, database) as conn:
        return conn.execute(sql, params or []).fetchall()

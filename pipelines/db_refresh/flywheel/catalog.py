"""The Glue Data Catalog stand-in: SQLite (stdlib) in WAL mode with a busy timeout, so that the
jobs of one workflow step (3a and 3b run in parallel) can write it at once (db-refresh.md B4).

The schema is a numbered migration (``migrations/NNN_*.sql``, applied once each, recorded in
``schema_migrations``). :class:`Catalog` offers Glue's verbs: ``create_database``,
``get_table``, ``get_tables``, ``create_table``, ``update_table``, ``upsert_table``,
``delete_table``, ``batch_create_partition``, ``batch_delete_partition``, ``get_partitions``.
Writes that change nothing leave the rows (and their timestamps) untouched, so a rerun of a job
leaves the catalog identical.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from flywheel.errors import CatalogError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str | None = None


@dataclass(frozen=True)
class Table:
    """A catalog table; ``partition_keys`` empty for a non-partitioned table."""

    database: str
    name: str
    location: str
    columns: tuple[Column, ...]
    partition_keys: tuple[Column, ...] = ()
    table_type: str = "EXTERNAL_TABLE"
    format: str = "parquet"
    parameters: dict = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def column_count(self) -> int:
        """Every column, partition keys included (the MAX_COLS rule)."""
        return len(self.columns) + len(self.partition_keys)

    def same_definition(self, other: "Table") -> bool:
        strip = dict(created_at=None, updated_at=None)
        return replace(self, **strip) == replace(other, **strip)


@dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]
    location: str
    created_at: str | None = None


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Catalog:
    """One SQLite catalog file (created and migrated on first use)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.conn.execute("PRAGMA journal_mode = WAL")
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT: one writer at a time, waiting up to the busy timeout."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # databases ---------------------------------------------------------------------------------

    def create_database(self, name: str, description: str | None = None) -> bool:
        """Create the database unless it exists; True when it was created."""
        with self.transaction() as conn:
            cur = conn.execute("INSERT OR IGNORE INTO databases (name, description, created_at) VALUES (?, ?, ?)",
                               (name, description, now()))
            return cur.rowcount == 1

    def get_databases(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM databases ORDER BY name")]

    def _require_database(self, conn, name: str) -> None:
        if conn.execute("SELECT 1 FROM databases WHERE name = ?", (name,)).fetchone() is None:
            raise CatalogError(f"EntityNotFoundException: Database {name} not found")

    # tables ------------------------------------------------------------------------------------

    def get_table(self, database: str, name: str) -> Table | None:
        row = self.conn.execute(
            "SELECT table_type, location, format, parameters, created_at, updated_at FROM tables"
            " WHERE database = ? AND name = ?", (database, name)).fetchone()
        if row is None:
            return None
        data, keys = self._columns(database, name)
        return Table(database, name, row[1], data, keys, row[0], row[2], json.loads(row[3]), row[4], row[5])

    def _columns(self, database: str, name: str) -> tuple[tuple[Column, ...], tuple[Column, ...]]:
        rows = self.conn.execute(
            "SELECT name, type, comment, is_partition_key FROM columns WHERE database = ? AND table_name = ?"
            " ORDER BY ordinal", (database, name)).fetchall()
        data = tuple(Column(n, t, c) for n, t, c, k in rows if not k)
        keys = tuple(Column(n, t, c) for n, t, c, k in rows if k)
        return data, keys

    def get_tables(self, database: str, prefix: str = "") -> list[Table]:
        names = [r[0] for r in self.conn.execute(
            "SELECT name FROM tables WHERE database = ? AND substr(name, 1, ?) = ? ORDER BY name",
            (database, len(prefix), prefix))]
        return [self.get_table(database, n) for n in names]

    def create_table(self, table: Table) -> None:
        with self.transaction() as conn:
            self._require_database(conn, table.database)
            if self._exists(conn, table.database, table.name):
                raise CatalogError(f"AlreadyExistsException: Table {table.database}.{table.name} already exists")
            self._insert(conn, table, now(), None)

    def update_table(self, table: Table) -> None:
        with self.transaction() as conn:
            row = conn.execute("SELECT created_at FROM tables WHERE database = ? AND name = ?",
                               (table.database, table.name)).fetchone()
            if row is None:
                raise CatalogError(f"EntityNotFoundException: Table {table.database}.{table.name} not found")
            self._delete_definition(conn, table.database, table.name)
            self._insert(conn, table, row[0], now())

    def upsert_table(self, table: Table) -> str:
        """Create or update; ``'created'``, ``'updated'`` or ``'unchanged'`` (nothing written)."""
        current = self.get_table(table.database, table.name)
        if current is None:
            self.create_table(table)
            return "created"
        if current.same_definition(table):
            return "unchanged"
        self.update_table(table)
        return "updated"

    def delete_table(self, database: str, name: str) -> bool:
        """Delete a table with its columns and partitions; False when there was none."""
        with self.transaction() as conn:
            existed = self._exists(conn, database, name)
            self._delete_definition(conn, database, name)
            conn.execute("DELETE FROM partitions WHERE database = ? AND table_name = ?", (database, name))
            return existed

    @staticmethod
    def _exists(conn, database: str, name: str) -> bool:
        return conn.execute("SELECT 1 FROM tables WHERE database = ? AND name = ?", (database, name)).fetchone() is not None

    @staticmethod
    def _delete_definition(conn, database: str, name: str) -> None:
        conn.execute("DELETE FROM tables WHERE database = ? AND name = ?", (database, name))
        conn.execute("DELETE FROM columns WHERE database = ? AND table_name = ?", (database, name))

    @staticmethod
    def _insert(conn, t: Table, created_at: str, updated_at: str | None) -> None:
        conn.execute(
            "INSERT INTO tables (database, name, table_type, location, format, parameters, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (t.database, t.name, t.table_type, t.location, t.format, json.dumps(t.parameters, sort_keys=True),
             created_at, updated_at or created_at))
        rows = [(c, 0) for c in t.columns] + [(c, 1) for c in t.partition_keys]
        conn.executemany(
            "INSERT INTO columns (database, table_name, ordinal, name, type, is_partition_key, comment)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(t.database, t.name, i, c.name, c.type, k, c.comment) for i, (c, k) in enumerate(rows)])

    # partitions --------------------------------------------------------------------------------

    def get_partitions(self, database: str, table: str) -> list[Partition]:
        rows = self.conn.execute(
            "SELECT values_json, location, created_at FROM partitions WHERE database = ? AND table_name = ?",
            (database, table)).fetchall()
        parts = [Partition(tuple(json.loads(v)), loc, at) for v, loc, at in rows]
        return sorted(parts, key=lambda p: [_sort_key(v) for v in p.values])

    def batch_create_partition(self, database: str, table: str, partitions: list[Partition]) -> list[dict]:
        """Register partitions; like Glue, one error entry per partition that already exists."""
        errors, stamp = [], now()
        with self.transaction() as conn:
            if not self._exists(conn, database, table):
                raise CatalogError(f"EntityNotFoundException: Table {database}.{table} not found")
            for p in partitions:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO partitions (database, table_name, values_json, location, created_at)"
                    " VALUES (?, ?, ?, ?, ?)", (database, table, json.dumps(list(p.values)), p.location, stamp))
                if cur.rowcount == 0:
                    errors.append({"PartitionValues": list(p.values), "ErrorDetail": {
                        "ErrorCode": "AlreadyExistsException", "ErrorMessage": "Partition already exists."}})
        return errors

    def batch_delete_partition(self, database: str, table: str, values: list[tuple[str, ...]]) -> int:
        with self.transaction() as conn:
            return sum(conn.execute(
                "DELETE FROM partitions WHERE database = ? AND table_name = ? AND values_json = ?",
                (database, table, json.dumps(list(v)))).rowcount for v in values)

    # inspection --------------------------------------------------------------------------------

    def dump(self) -> dict:
        """Every row of every catalog table, in a stable order (reruns compare equal)."""
        out = {}
        for name in ("databases", "tables", "columns", "partitions"):
            rows = self.conn.execute(f"SELECT * FROM {name}").fetchall()  # noqa: S608 - fixed names
            out[name] = sorted(rows, key=repr)
        return out


def _sort_key(value: str):
    return (0, int(value), "") if value.lstrip("-").isdigit() else (1, 0, value)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations not applied yet, each in its own transaction; their names."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = []
    for script in sorted(MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql")):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (script.stem,)).fetchone() is None:
                for statement in _statements(script.read_text()):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (script.stem, now()))
                applied.append(script.stem)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return applied


def _statements(text: str) -> list[str]:
    """The statements of a migration script (no ';' inside literals in these files)."""
    lines = [line.split("--", 1)[0] for line in text.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]

"""The SQLite store (the default): one file, WAL journal, safe for several processes."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from stepflow.store.sql_store import SqlStore


class SqliteStore(SqlStore):
    dialect = "sqlite"

    def __init__(self, url: str, **options):
        self.path = url_path(url)
        super().__init__(url, **options)

    def connect(self):
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextlib.contextmanager
    def transaction(self):
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    @contextlib.contextmanager
    def reading(self):
        """Reads need no write lock: autocommit mode, WAL gives a consistent snapshot per query."""
        cur = self.conn.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def run_script(self, cursor, script: str) -> None:
        for statement in script.split(";"):
            if _has_sql(statement):
                cursor.execute(statement)


def _has_sql(statement: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in statement.splitlines())


def url_path(url: str) -> str:
    """``sqlite:///relative.db`` -> ``relative.db``; ``sqlite:////abs.db`` -> ``/abs.db``."""
    if not url.startswith("sqlite:"):
        raise ValueError(f"not a SQLite URL: {url}")
    rest = url[len("sqlite:"):]
    if rest.startswith("///"):
        return rest[3:] or ":memory:"
    if rest.startswith("//"):
        return rest[2:] or ":memory:"
    return rest or ":memory:"

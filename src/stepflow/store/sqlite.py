"""The SQLite store (the default): one file, WAL journal, safe for several processes.

Commits only append to the WAL (synchronous=NORMAL: a killed process loses nothing; a power
loss may lose the last commits). Copying the WAL back into the database file (a checkpoint,
with its fsyncs) is done by a background thread on a connection of its own, off the event
loop; the committing connection checkpoints by itself only if the WAL grows past 64 MiB.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from stepflow.store.sql_store import SqlStore

CHECKPOINT_INTERVAL = 0.5  # seconds between background checkpoints
WAL_LIMIT_PAGES = 16384  # the committing connection's own autocheckpoint (x 4 KiB pages)


class SqliteStore(SqlStore):
    dialect = "sqlite"

    def __init__(self, url: str, **options):
        self.path = url_path(url)
        self._checkpointer: Checkpointer | None = None
        super().__init__(url, **options)
        if self.path != ":memory:":
            self._checkpointer = Checkpointer(self.path)

    def connect(self):
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: a Map's frames commit without spilling
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_LIMIT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_PAGES * 4096}")  # the WAL file shrinks back
        return conn

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        super().close()

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


class Checkpointer:
    """A daemon thread that checkpoints the WAL every CHECKPOINT_INTERVAL seconds (PASSIVE:
    it never blocks writers; sqlite3 releases the GIL while it copies and syncs)."""

    def __init__(self, path: str):
        self._path = path
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqlite-checkpoint:{path}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=1.0)
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            while not self._stopped.wait(CHECKPOINT_INTERVAL):
                with contextlib.suppress(sqlite3.Error):  # busy or locked: the next round will do
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5.0)


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

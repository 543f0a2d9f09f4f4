"""What only the SQLite store does: URLs to paths, background checkpoints of the WAL."""

from __future__ import annotations

import sqlite3
import time

import pytest

from stepflow.store import sqlite as sqlite_store
from stepflow.store.records import StateMachineRecord


@pytest.mark.parametrize("url, path", [
    ("sqlite:///relative/db.sqlite", "relative/db.sqlite"),
    ("sqlite:////abs/db.sqlite", "/abs/db.sqlite"),
    ("sqlite://", ":memory:"),
])
def test_urls_name_paths(url, path):
    assert sqlite_store.url_path(url) == path


def in_database_file(path) -> list:
    """Rows of state_machines as the database file holds them, ignoring the WAL."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return conn.execute("SELECT name FROM state_machines").fetchall()
    except sqlite3.DatabaseError:  # no tables yet, or a checkpoint is writing the file right now
        return []
    finally:
        conn.close()


def test_commits_reach_the_database_file_by_background_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_INTERVAL", 0.05)
    store = sqlite_store.SqliteStore(f"sqlite:///{tmp_path}/s.db")
    try:
        store.put_state_machine(StateMachineRecord(arn="arn:m", name="m", definition="{}", role_arn="r", revision_id="r1"))
        deadline = time.monotonic() + 5
        while not in_database_file(tmp_path / "s.db") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert in_database_file(tmp_path / "s.db") == [("m",)]
    finally:
        store.close()
    assert not store._checkpointer._thread.is_alive()

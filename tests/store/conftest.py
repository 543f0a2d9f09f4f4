"""The store URL every contract test runs against: memory, a SQLite file, PostgreSQL."""

from __future__ import annotations

import pytest

from stepflow.store import open_store

BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> str:
    """One URL per backend; PostgreSQL gets an empty schema of its own."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def open_stores(store_url):
    """A factory of stores on ``store_url`` (each a separate owner); all closed after the test."""
    opened = []

    def make():
        store = open_store(store_url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_stores):
    return open_stores()

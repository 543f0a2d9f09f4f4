"""Fixtures every suite may use: a real PostgreSQL server (DESIGN.md §8, no mock connector).

``postgres_url`` (session): ``DATABASE_URL`` when set, else an embedded server from the
``pgserver`` wheel started once per test process (each xdist worker has its own) in a temporary
data folder. As root, pgserver runs the server binaries as a ``pgserver`` system user that it
creates itself (PostgreSQL refuses to run as root), so this works unattended in CI too.

``fresh_postgres_url`` (function): a URL whose ``search_path`` is a new, empty schema, dropped
after the test: every test starts from an empty database without paying for CREATE DATABASE.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from urllib.parse import quote

import pytest


def _embedded_postgres() -> tuple[str, object]:
    """Start a throw-away PostgreSQL server; its data folder is deleted when the process exits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
        import pgserver

        folder = tempfile.mkdtemp(prefix="stepflow-pg-")
        server = pgserver.get_server(folder, cleanup_mode="delete")
    return server.get_uri(), server


def with_search_path(url: str, schema: str) -> str:
    """The same server URL with ``search_path`` set to one schema (libpq ``options``)."""
    option = quote(f"-csearch_path={schema}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server URL: DATABASE_URL, else an embedded pgserver started once."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    url, server = _embedded_postgres()
    try:
        yield url
    finally:
        server.cleanup()


@pytest.fixture
def fresh_postgres_url(postgres_url):
    """A URL on an empty schema of its own (created for this test, dropped after it)."""
    import psycopg
    from psycopg import sql

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield with_search_path(postgres_url, schema)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

"""Fixtures for the conflict pipeline on the real PostgreSQL of tests/conftest.py (``postgres_url``):

* ``pipeline``: a fresh pair of schemas (conflict + analytics) of this test's own, migrated;
* ``fresh_database``: the URL of a new, empty database (for runs through stepflow: the SAM
  template's function environment names the schemas ``conflict`` / ``analytics``);
* ``secret_database``: the same, owned by a new role with a distinctive password, as a
  ``DATABASE_URL``-style URI containing that password.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "pipelines" / "conflicts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cm_pipeline import db  # noqa: E402
from cm_pipeline.config import Config  # noqa: E402
from stepflow_testlib import database_url  # noqa: E402

SECRET_PASSWORD = "Zq7-pW_s3cr3t-9f41c8e2"


@pytest.fixture
def pipeline(postgres_url, tmp_path):
    """(connection, config) on empty migrated schemas of this test's own."""
    import psycopg
    from psycopg import sql

    tag = uuid.uuid4().hex[:10]
    config = Config(dsn=postgres_url, conflict_schema=f"c_{tag}", analytics_schema=f"a_{tag}", max_concurrency=3)
    conn = db.connect(config)
    db.migrate(conn, config)
    conn.tmp_path = tmp_path
    yield conn, config
    conn.close()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for schema in (config.conflict_schema, config.analytics_schema):
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _drop_database(postgres_url: str, name: str, role: str | None = None) -> None:
    import psycopg
    from psycopg import sql

    db.close_pools()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if role:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def fresh_database(postgres_url):
    """A URL of a new database on the test server, dropped after the test."""
    import psycopg
    from psycopg import sql

    name = f"cm_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield database_url(postgres_url, name)
    _drop_database(postgres_url, name)


@pytest.fixture
def secret_database(postgres_url):
    """(URI with a distinctive password, the password): a new role with that password owning a
    new database. (The embedded server trusts local connections, so the password is carried, not
    checked; what matters here is that it never comes back out.)"""
    import psycopg
    from psycopg import sql

    tag = uuid.uuid4().hex[:10]
    name, role = f"cm_{tag}", f"cm_role_{tag}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(SECRET_PASSWORD)))
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(role)))
    yield database_url(postgres_url, name, user=role, password=SECRET_PASSWORD), SECRET_PASSWORD
    _drop_database(postgres_url, name, role)


def env_for(config: Config, **extra) -> dict:
    """The handler's environment for this config."""
    env = {"POSTGRES_DSN": config.dsn, "CONFLICT_SCHEMA": config.conflict_schema,
           "ANALYTICS_SCHEMA": config.analytics_schema}
    env.update({k: str(v) for k, v in extra.items()})
    return env

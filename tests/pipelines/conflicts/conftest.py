"""Fixtures for the conflict pipeline: a fresh pair of schemas (conflict + analytics) per test on
the real PostgreSQL of tests/conftest.py (``postgres_url``), migrated, with a helper that loads a
generated data set."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "pipelines" / "conflicts"))

from cm_pipeline import db  # noqa: E402
from cm_pipeline.config import Config  # noqa: E402


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


def env_for(config: Config, **extra) -> dict:
    """The handler's environment for this config."""
    env = {"POSTGRES_DSN": config.dsn, "CONFLICT_SCHEMA": config.conflict_schema,
           "ANALYTICS_SCHEMA": config.analytics_schema}
    env.update({k: str(v) for k, v in extra.items()})
    return env

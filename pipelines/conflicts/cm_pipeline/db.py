"""Connections, named SQL and migrations.

SQL lives in ``sql/queries/*.sql``: each statement under a ``-- name: <name>`` line, parameters
as psycopg's ``%(name)s``, always bound, never formatted into the text. Table names are
unqualified and resolved through ``search_path`` (conflict schema first, then analytics), which
is how CONFLICT_SCHEMA / ANALYTICS_SCHEMA take effect; the two schemas share no table names.
"""

from __future__ import annotations

import contextlib
import re
import threading
from functools import lru_cache
from pathlib import Path

import psycopg
from psycopg import sql

from cm_pipeline.config import Config, redact
from cm_pipeline.errors import (
    DatabaseUnavailableError, PipelineDataError, PipelineError, TransientDatabaseError,
)

SQL_DIR = Path(__file__).resolve().parent / "sql"
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "57014", "53300"}
_pools: dict[tuple, object] = {}
_pools_lock = threading.Lock()


@lru_cache(maxsize=None)
def queries(group: str) -> dict[str, str]:
    """The named statements of ``sql/queries/<group>.sql``."""
    text = (SQL_DIR / "queries" / f"{group}.sql").read_text()
    parts = re.split(r"^-- name: *([a-z0-9_]+) *$", text, flags=re.M)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2])}


def q(group: str, name: str) -> str:
    return queries(group)[name]


def search_path(config: Config) -> sql.Composed:
    return sql.SQL("SET search_path TO {}, {}").format(
        sql.Identifier(config.conflict_schema), sql.Identifier(config.analytics_schema))


def connect(config: Config, autocommit: bool = True) -> psycopg.Connection:
    """A new connection with the pipeline's search_path (errors classified and redacted).

    Autocommit by default: every unit of work is an explicit ``with conn.transaction()``.
    """
    with translate_errors(config):
        conn = psycopg.connect(config.conninfo(), autocommit=True)
        conn.execute(search_path(config))
        conn.execute("SET work_mem = '64MB'")
        conn.autocommit = autocommit
        return conn


@contextlib.contextmanager
def connection(config: Config):
    """A pooled connection (module-level, so a warm Lambda environment keeps it)."""
    with translate_errors(config):
        pool = _pool(config)
        with pool.connection() as conn:
            yield conn


def _pool(config: Config):
    key = (config.conninfo(), config.conflict_schema, config.analytics_schema)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            from psycopg_pool import ConnectionPool

            # One direct connection first: a server that cannot be reached (or refuses us) fails
            # now with its own error, instead of a PoolTimeout a minute later while the pool
            # keeps reconnecting in the background.
            psycopg.connect(key[0]).close()

            def configure(conn):
                conn.autocommit = True
                conn.execute(search_path(config))
                conn.execute("SET work_mem = '64MB'")

            pool = ConnectionPool(key[0], min_size=0, max_size=config.max_concurrency + 2, configure=configure,
                                  open=True, timeout=60, kwargs={"autocommit": True})
            _pools[key] = pool
        return pool


def close_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


@contextlib.contextmanager
def translate_errors(config: Config):
    """psycopg errors become the handler's error classes, with secrets removed."""
    try:
        yield
    except PipelineError:
        raise
    except psycopg.Error as error:
        raise classify(error, config.secrets()) from None
    except Exception as error:
        if type(error).__name__ == "PoolTimeout":
            raise DatabaseUnavailableError(redact(str(error), config.secrets())) from None
        raise


def classify(error: psycopg.Error, secrets: list[str]) -> PipelineError:
    state = getattr(error, "sqlstate", None) or ""
    message = redact(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__, secrets)
    if state in TRANSIENT_SQLSTATES or state.startswith("08"):
        return TransientDatabaseError(f"{message} (SQLSTATE {state})")
    if isinstance(error, psycopg.OperationalError) and not state:
        return DatabaseUnavailableError(message)
    return PipelineDataError(f"{message} (SQLSTATE {state or 'none'})")


# -- migrations -------------------------------------------------------------------------------

MIGRATION_LOCK = 0x434D5F4D  # "CM_M": serialises concurrent migrations


def migration_files() -> list[tuple[int, str, Path]]:
    """(version, target schema kind, path) of ``sql/migrations/NNN_<target>_<what>.sql``."""
    out = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        number, target, _ = path.stem.split("_", 2)
        out.append((int(number), target, path))
    return out


def migrate(conn: psycopg.Connection, config: Config) -> list[str]:
    """Create both schemas and apply the migrations not applied yet; returns their names."""
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%(k)s)", {"k": MIGRATION_LOCK})
        for schema in (config.analytics_schema, config.conflict_schema):
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())").format(sql.Identifier(schema)))
        for version, target, path in migration_files():
            schema = config.analytics_schema if target == "analytics" else config.conflict_schema
            done = conn.execute(sql.SQL("SELECT 1 FROM {}.schema_migrations WHERE version = %(v)s").format(
                sql.Identifier(schema)), {"v": version}).fetchone()
            if done:
                continue
            conn.execute(sql.SQL("SET LOCAL search_path TO {}, {}").format(
                sql.Identifier(schema), sql.Identifier(config.analytics_schema)))
            conn.execute(path.read_text())
            conn.execute(sql.SQL("INSERT INTO {}.schema_migrations (version, name) VALUES (%(v)s, %(n)s)").format(
                sql.Identifier(schema)), {"v": version, "n": path.name})
            applied_now.append(path.name)
    conn.execute(search_path(config))
    return applied_now


def statements(group: str, name: str) -> list[str]:
    """The statements of one named query (split on a ';' that ends a line)."""
    return [s.strip() for s in re.split(r";[ \t]*(?:\n|$)", q(group, name)) if s.strip() and not _only_comments(s)]


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())


def run(conn: psycopg.Connection, group: str, name: str, params: dict | None = None) -> int:
    """Execute every statement of a named query; returns the last statement's rowcount."""
    count = -1
    for statement in statements(group, name):
        cursor = conn.execute(statement, params if "%(" in statement else None)
        count = cursor.rowcount
    return count


def run_query(conn: psycopg.Connection, group: str, name: str, params: dict | None = None) -> dict:
    """One row of a named query as a dict (empty when there is no row)."""
    cursor = conn.execute(q(group, name), params)
    row = cursor.fetchone()
    return dict(zip([c.name for c in cursor.description], row)) if row else {}

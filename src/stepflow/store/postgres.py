"""The PostgreSQL store (psycopg 3, the ``postgres`` extra)."""

from __future__ import annotations

import contextlib
import re

from stepflow.errors import ConfigurationError
from stepflow.store.sql_store import SqlStore

MIGRATION_LOCK_KEY = 0x5F5E_F10  # any constant: the advisory lock that serialises migrations


class PostgresStore(SqlStore):
    dialect = "postgres"

    def connect(self):
        try:
            import psycopg
        except ImportError:
            raise ConfigurationError("The PostgreSQL store needs psycopg: install stepflow[postgres]") from None
        return psycopg.connect(self.url, autocommit=True)

    def adapt(self, queries: dict[str, str]) -> dict[str, str]:
        """``:name`` parameters -> psycopg's ``%(name)s`` (and a literal % doubled)."""
        return {k: re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", v.replace("%", "%%")) for k, v in queries.items()}

    @contextlib.contextmanager
    def transaction(self):
        with self.conn.transaction():
            with self.conn.cursor() as cur:
                yield cur

    @contextlib.contextmanager
    def reading(self):
        with self.conn.cursor() as cur:
            yield cur

    def run_script(self, cursor, script: str) -> None:
        cursor.execute(script)

    def lock_migrations(self, cursor) -> None:
        """Two processes starting on an empty database must not both create the tables."""
        cursor.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": MIGRATION_LOCK_KEY})

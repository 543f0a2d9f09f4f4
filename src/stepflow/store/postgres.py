"""The PostgreSQL store (psycopg 3, the ``postgres`` extra).

A lost connection (the server restarted, or ``pg_terminate_backend`` ended our backend) is
replaced on the next call; the call that met it runs again on the new connection when its
transaction never reached COMMIT (see :mod:`stepflow.store.sql_store`). Errors name the store URL
without its password.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stepflow.errors import ConfigurationError
from stepflow.store.sql_store import CommitOutcomeUnknown, SqlStore, _one_line

MIGRATION_LOCK_KEY = 0x5F5E_F10  # any constant: the advisory lock that serialises migrations


class PostgresStore(SqlStore):
    dialect = "postgres"

    def connect(self):
        try:
            import psycopg
        except ImportError:
            raise ConfigurationError("The PostgreSQL store needs psycopg: install stepflow[postgres]") from None
        self._psycopg_error = psycopg.Error
        try:
            return psycopg.connect(self.url, autocommit=True)
        except psycopg.OperationalError as err:
            raise self.unavailable(err) from None  # the error text carries no password; the URL would

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def ensure_connected(self) -> None:
        if self.conn.closed:
            self.reconnect()

    def connection_lost(self, err: BaseException) -> bool:
        return isinstance(err, self._psycopg_error) and bool(self.conn.closed)

    def adapt(self, queries: dict[str, str]) -> dict[str, str]:
        """``:name`` parameters -> psycopg's ``%(name)s`` (and a literal % doubled)."""
        return {k: re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", v.replace("%", "%%")) for k, v in queries.items()}

    @contextlib.contextmanager
    def transaction(self):
        """BEGIN ... COMMIT. A connection lost during COMMIT raises CommitOutcomeUnknown (the
        server may have committed), one lost before it the driver's error (rolled back)."""
        committing = False
        try:
            with self.conn.transaction():
                with self.conn.cursor() as cur:
                    yield cur
                committing = True
        except self._psycopg_error as err:
            if committing and self.conn.closed:
                raise CommitOutcomeUnknown(
                    f"store {self.safe_url}: the connection was lost while a transaction committed; "
                    f"whether it did is unknown ({_one_line(err)})") from err
            raise

    @contextlib.contextmanager
    def reading(self):
        with self.conn.cursor() as cur:
            yield cur

    def run_script(self, cursor, script: str) -> None:
        cursor.execute(script)

    def lock_migrations(self, cursor) -> None:
        """Two processes starting on an empty database must not both create the tables."""
        cursor.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": MIGRATION_LOCK_KEY})


def redact_url(url: str) -> str:
    """A PostgreSQL URL without its password (in the authority or a ``password=`` parameter)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://(unparsable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}@{hostport}"
    query = parts.query
    if "password" in query.lower():
        query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(query, keep_blank_values=True)], safe="/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

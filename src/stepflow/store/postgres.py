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

from stepflow.engine.history import as_dict
from stepflow.engine.snapshot import SUCCEEDED
from stepflow.errors import ConfigurationError
from stepflow.store import codec
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

    def _write_all(self, cur, merged):
        """One group commit in two pipelined round trips instead of about three per execution.

        First the version checks: every execution row's INSERT (new) or UPDATE (version
        checked), each ``RETURNING arn``, sent with ``executemany(returning=True)`` (which
        pipelines them and waits for their results). An execution is accepted when its ARN came
        back (read from the returned rows, not from ``rowcount``, which ``executemany`` sums over
        its statements); the others are refused and nothing else of theirs is sent. Then the
        frames and event pages of the accepted ones, all queued in one pipeline whose exit syncs
        (raising the first error). All of it in the caller's transaction, as before."""
        inserts, updates = [], []
        for exe, _ in merged:
            arn = exe.arn
            if self._unwritten and self._unwritten.get(arn) is exe:
                inserts.append(self._new_row(exe, 1))
            elif (version := self._versions.get(arn)) is not None:
                updates.append({"arn": arn, "status": exe.status, "data": codec.execution_json(exe), "version": version})
            # else: no version of it here (never written nor loaded, or refused before): refused
        accepted: set[str] = set()
        with self.conn.pipeline():
            for name, rows in (("insert_started_execution", inserts), ("update_execution", updates)):
                if rows:
                    cur.executemany(self.q[name] + " RETURNING arn", rows, returning=True)
                    while True:
                        accepted.update(arn for (arn,) in cur.fetchall())
                        if not cur.nextset():
                            break
            ended, removed, dirty, pages = [], [], [], []
            for exe, progress in merged:
                arn = exe.arn
                if arn not in accepted:
                    continue
                if exe.status == SUCCEEDED:
                    ended.append({"arn": arn})
                else:
                    removed.extend({"arn": arn, "key": k} for k in progress.removed)
                    frames = exe.frames
                    dirty.extend({"arn": arn, "key": k, "data": codec.frame_json(frames[k])} for k in progress.dirty if k in frames)
                events = [as_dict(event) for event in exe.events[progress.first_event:]]
                if events:
                    pages.append({"arn": arn, "first_id": events[0]["id"], "last_id": events[-1]["id"], "data": codec.events_json(events)})
            # removals before upserts: a frame removed then re-created in one batch ends written
            for name, rows in (("delete_frames", ended), ("delete_frame", removed), ("upsert_frame", dirty), ("insert_event_page", pages)):
                if rows:
                    cur.executemany(self.q[name], rows)
        return [exe for exe, _ in merged if exe.arn not in accepted]

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

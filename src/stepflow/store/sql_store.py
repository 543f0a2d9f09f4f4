"""What the SQLite and PostgreSQL stores share: named queries, migrations, commit, leases.

A dialect subclass supplies the connection, the parameter style and how a transaction is
opened. Every value is a bound parameter; the SQL text lives in ``sql/`` (numbered migrations per
dialect, ``queries.sql`` shared).

Ownership: each store instance has an ``owner`` id. An execution is run by the process whose
lease on it is current; ``claim`` takes an execution whose lease expired, ``renew_leases``
extends ours, and every ``commit`` checks the execution's version (optimistic concurrency), so
a process that lost an execution cannot write a transition another process already made.

Lost connections: every method that talks to the database is :func:`reconnecting`. When the
dialect says the connection was lost (a PostgreSQL restart, ``pg_terminate_backend``) before a
transaction committed, the server rolled that transaction back, so the method runs again, whole,
once, on a fresh connection. A connection lost while COMMIT was in flight leaves the outcome
unknown: that is never retried (:class:`StoreUnavailableError`); the runner drops the batch and
the executions continue from what the store holds (adoption), the version check refusing any
stale write.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import socket
import time
import uuid
from importlib import resources

from stepflow.engine.history import as_dict
from stepflow.engine.interpreter import Progress
from stepflow.engine.snapshot import SUCCEEDED, Execution
from stepflow.errors import StepflowError, StoreUnavailableError
from stepflow.store import codec
from stepflow.store.records import StateMachineRecord

LEASE_SECONDS = float(os.environ.get("STEPFLOW_LEASE_SECONDS", "30"))  # how long an execution stays leased without renewal

log = logging.getLogger("stepflow.store")


class LeaseLost(StepflowError):
    """Another process committed this execution since we loaded it: stop running it here."""


class CommitOutcomeUnknown(StoreUnavailableError):
    """The connection was lost while COMMIT was in flight: the transaction may or may not have
    committed, so it must not be run again."""


def reconnecting(method):
    """Run a store method once more, whole, on a fresh connection when its connection was lost
    before anything of it committed; raise StoreUnavailableError if that fails too."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        self.ensure_connected()
        try:
            return method(self, *args, **kwargs)
        except CommitOutcomeUnknown:
            raise
        except Exception as err:
            if not self.connection_lost(err):
                raise
            log.warning("store connection lost (%s); reconnecting to %s and running %s again",
                        _one_line(err), self.safe_url, method.__name__)
            self.reconnect()
        try:
            return method(self, *args, **kwargs)
        except CommitOutcomeUnknown:
            raise
        except Exception as err:
            if self.connection_lost(err):
                raise self.unavailable(err) from err
            raise

    return call


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def load_queries() -> dict[str, str]:
    """The named queries of ``sql/queries.sql`` (blocks headed ``-- name: x``)."""
    text = resources.files("stepflow.store").joinpath("sql/queries.sql").read_text(encoding="utf-8")
    queries: dict[str, str] = {}
    for block in re.split(r"^-- name: ", text, flags=re.MULTILINE)[1:]:
        name, _, body = block.partition("\n")
        queries[name.strip()] = body.strip().rstrip(";")
    return queries


def migrations(dialect: str) -> list[tuple[int, str]]:
    """(number, SQL) of every numbered migration of a dialect, in order."""
    folder = resources.files("stepflow.store").joinpath(f"sql/{dialect}")
    found = []
    for entry in folder.iterdir():
        match = re.match(r"^(\d+)_.*\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str | None) -> bool:
    """True when a lease holder is a process of this host that no longer runs (it crashed)."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


def merge_progress(batch: list[tuple[Execution, Progress]]) -> list[tuple[Execution, Progress]]:
    """One (execution, progress) per execution: frames written once with their latest content,
    events from the earliest call on. Removal then re-creation ends as an upsert."""
    merged: dict[str, tuple[Execution, Progress]] = {}
    for exe, progress in batch:
        if exe.arn not in merged:
            merged[exe.arn] = (exe, Progress(dirty=set(progress.dirty), removed=set(progress.removed), first_event=progress.first_event))
            continue
        total = merged[exe.arn][1]
        total.dirty |= progress.dirty
        total.removed |= progress.removed
        total.first_event = min(total.first_event, progress.first_event)
    return list(merged.values())


class SqlStore:
    """The store protocol over a DB-API connection; dialects subclass it."""

    dialect = ""

    def __init__(self, url: str, lease_seconds: float = LEASE_SECONDS):
        self.url = url
        self.owner = new_owner_id()
        self.lease_seconds = lease_seconds  # how long a claim or renewal holds an execution
        self.q = self.adapt(load_queries())
        # The version of each execution this store may commit: set when it writes the row
        # (create_execution, a first commit) or loads it to run it (get_execution with frames),
        # dropped when a commit of it is refused. A commit of any other execution is refused.
        self._versions: dict[str, int] = {}
        self._unwritten: dict[str, Execution] = {}  # created with_first_commit, not yet committed
        self.conn = self.connect()
        self.migrate()

    # dialect hooks ----------------------------------------------------------------------

    def connect(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def adapt(self, queries: dict[str, str]) -> dict[str, str]:
        return queries

    def transaction(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def run_script(self, cursor, script: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        self.conn.close()

    # lost connections (dialects with a server override these) -----------------------------

    @property
    def safe_url(self) -> str:
        """The store URL as error messages and logs show it (no password)."""
        return self.url

    def ensure_connected(self) -> None:
        """Open a new connection if the current one is known to be closed."""

    def connection_lost(self, err: BaseException) -> bool:
        """Did ``err`` come from losing the connection (so nothing uncommitted survived)?"""
        return False

    def reconnect(self) -> None:
        """Replace the connection with a new one (StoreUnavailableError if the server is gone)."""
        with contextlib.suppress(Exception):  # it is already broken: nothing to release
            self.conn.close()
        self.conn = self.connect()

    def unavailable(self, err: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(f"store {self.safe_url} is unavailable: {_one_line(err)}")

    # migrations -------------------------------------------------------------------------

    def lock_migrations(self, cursor) -> None:
        """Serialise concurrent migrations (SQLite's BEGIN IMMEDIATE already does)."""

    @reconnecting
    def migrate(self) -> None:
        with self.transaction() as cur:
            self.lock_migrations(cur)
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            cur.execute("SELECT MAX(version) FROM schema_version")
            current = cur.fetchone()[0] or 0
            for number, script in migrations(self.dialect):
                if number > current:
                    self.run_script(cur, script)
                    cur.execute(self.adapt({"v": "INSERT INTO schema_version (version) VALUES (:v)"})["v"], {"v": number})

    @reconnecting
    def schema_version(self) -> int:
        with self.transaction() as cur:
            cur.execute("SELECT MAX(version) FROM schema_version")
            return cur.fetchone()[0] or 0

    # state machines -----------------------------------------------------------------------

    @reconnecting
    def put_state_machine(self, record: StateMachineRecord) -> None:
        with self.transaction() as cur:
            cur.execute(self.q["put_state_machine"], {"arn": record.arn, "name": record.name, "created": record.creation_date, "record": codec.record_json(record)})
            cur.execute(self.q["put_definition"], {"revision_id": record.revision_id, "arn": record.arn, "definition": record.definition})

    def get_state_machine(self, arn: str) -> StateMachineRecord | None:
        row = self._one("get_state_machine", {"arn": arn})
        return codec.record_from_json(row[0]) if row else None

    def list_state_machines(self) -> list[StateMachineRecord]:
        return [codec.record_from_json(r[0]) for r in self._all("list_state_machines", {})]

    @reconnecting
    def delete_state_machine(self, arn: str) -> None:
        with self.transaction() as cur:
            cur.execute(self.q["delete_state_machine"], {"arn": arn})

    def definition(self, revision_id: str) -> str | None:
        row = self._one("get_definition", {"revision_id": revision_id})
        return row[0] if row else None

    # executions ---------------------------------------------------------------------------

    def create_execution(self, exe: Execution, with_first_commit: bool = False) -> None:
        """Write the new execution's row now, or (``with_first_commit``) in the transaction of the
        first ``commit_many`` that carries it, so a start costs no transaction of its own."""
        if with_first_commit:
            self._unwritten[exe.arn] = exe
            return
        self._insert_execution(exe)
        self._versions[exe.arn] = 0

    def discard(self, exe: Execution) -> None:
        """Forget a ``with_first_commit`` execution that will never be committed."""
        if self._unwritten.get(exe.arn) is exe:
            del self._unwritten[exe.arn]

    @reconnecting
    def _insert_execution(self, exe: Execution) -> None:
        with self.transaction() as cur:
            cur.execute(self.q["insert_execution"], self._new_row(exe, 0))

    def _new_row(self, exe: Execution, version: int) -> dict:
        return {
            "arn": exe.arn, "state_machine_arn": exe.state_machine_arn, "status": exe.status,
            "start_date": exe.start_date, "version": version, "owner": self.owner,
            "lease_until": time.time() + self.lease_seconds, "data": codec.execution_json(exe),
        }

    def commit(self, exe: Execution, progress: Progress) -> None:
        """Persist one interpreter call: execution row, changed/removed frames, new events."""
        if self.commit_many([(exe, progress)]):
            raise LeaseLost(f"execution {exe.arn} was committed by another process")

    def commit_many(self, batch: list[tuple[Execution, Progress]]) -> list[Execution]:
        """Group commit: several interpreter calls in ONE transaction (calls on one execution
        merged). Returns the executions refused: by the version check (another process
        committed them), or a new execution whose ARN another process created first; nothing
        of theirs is written, the others' changes are."""
        merged = merge_progress(batch)
        try:
            refused = self._commit_merged(merged)
        finally:  # inserted, refused, or not persisted at all: never inserted by a later commit
            if self._unwritten:
                for exe, _ in merged:
                    if self._unwritten.get(exe.arn) is exe:
                        del self._unwritten[exe.arn]
        refused_ids = {id(exe) for exe in refused}
        for exe, _ in merged:
            if id(exe) in refused_ids:  # another process's now (or never ours): no version to commit at
                self._versions.pop(exe.arn, None)
            else:
                self._versions[exe.arn] = self._versions.get(exe.arn, 0) + 1  # a first commit inserted version 1
                del exe.events[:]  # committed: history is read from the database from now on
        return refused

    @reconnecting
    def _commit_merged(self, merged: list[tuple[Execution, Progress]]) -> list[Execution]:
        with self.transaction() as cur:
            return self._write_all(cur, merged)

    def _write_all(self, cur, merged: list[tuple[Execution, Progress]]) -> list[Execution]:
        """Every execution's share of one commit, in the open transaction; the refused ones.
        A dialect may batch the statements (PostgreSQL pipelines them)."""
        return [exe for exe, progress in merged if not self._write(cur, exe, progress)]

    def _write(self, cur, exe: Execution, progress: Progress) -> bool:
        """One execution's share of a commit; False (nothing written) if its version moved on,
        if it is new and its ARN is taken, or if this store has no version of it (it never wrote
        nor loaded it, or a commit of it was refused): it is then some other process's."""
        arn = exe.arn
        if self._unwritten and self._unwritten.get(arn) is exe:  # new: its row, as of this commit
            cur.execute(self.q["insert_started_execution"], self._new_row(exe, 1))
        else:
            version = self._versions.get(arn)
            if version is None:
                return False
            cur.execute(self.q["update_execution"], {"arn": arn, "status": exe.status, "data": codec.execution_json(exe), "version": version})
        if cur.rowcount != 1:
            return False
        if exe.status == SUCCEEDED:
            cur.execute(self.q["delete_frames"], {"arn": arn})
        else:
            if progress.removed:
                cur.executemany(self.q["delete_frame"], [{"arn": arn, "key": k} for k in progress.removed])
            frames = exe.frames
            rows = [{"arn": arn, "key": k, "data": codec.frame_json(frames[k])} for k in progress.dirty if k in frames]
            if rows:
                cur.executemany(self.q["upsert_frame"], rows)
        events = [as_dict(event) for event in exe.events[progress.first_event:]]
        if events:
            cur.execute(self.q["insert_event_page"], {"arn": arn, "first_id": events[0]["id"], "last_id": events[-1]["id"], "data": codec.events_json(events)})
        return True

    def get_execution(self, arn: str, with_frames: bool = False) -> Execution | None:
        row = self._one("get_execution", {"arn": arn})
        if row is None:
            return None
        exe = codec.execution_from_json(row[0])
        if with_frames:
            for (data,) in self._all("get_frames", {"arn": arn}):
                frame = codec.frame_from_json(data)
                exe.frames[frame.key] = frame
            self._versions[arn] = row[1]
        return exe

    def list_executions(self, state_machine_arn: str | None = None, status: str | None = None) -> list[Execution]:
        rows = self._all("list_executions", {"machine": state_machine_arn, "status": status})
        return [codec.execution_from_json(r[0]) for r in rows]

    def history(self, arn: str) -> list[dict]:
        return [event for (page,) in self._all("get_event_pages", {"arn": arn}) for event in codec.events_from_json(page)]

    def running(self) -> list[Execution]:
        """RUNNING executions this process could claim (unowned, ours, or lease expired)."""
        out = []
        for (arn,) in self._all("running_executions", {}):
            if self.claim(arn):
                exe = self.get_execution(arn, with_frames=True)
                if exe is not None:
                    out.append(exe)
        return out

    # other API resources --------------------------------------------------------------------

    @reconnecting
    def put_resource(self, kind: str, arn: str, data: dict) -> None:
        with self.transaction() as cur:
            cur.execute(self.q["put_resource"], {"kind": kind, "arn": arn, "created": time.time(), "data": codec.dumps(data)})

    def get_resource(self, kind: str, arn: str) -> dict | None:
        row = self._one("get_resource", {"kind": kind, "arn": arn})
        return codec.loads(row[0]) if row else None

    def list_resources(self, kind: str) -> list[dict]:
        return [codec.loads(r[0]) for r in self._all("list_resources", {"kind": kind})]

    @reconnecting
    def delete_resource(self, kind: str, arn: str) -> None:
        with self.transaction() as cur:
            cur.execute(self.q["delete_resource"], {"kind": kind, "arn": arn})

    # leases -----------------------------------------------------------------------------------

    @reconnecting
    def claim(self, arn: str, force: bool = False) -> bool:
        """Take an execution whose lease is free, expired, or held by a dead process of this host
        (``force``: whatever its status or holder, as RedriveExecution does)."""
        now = time.time()
        with self.transaction() as cur:
            if force:
                cur.execute(self.q["force_lease"], {"arn": arn, "owner": self.owner, "lease_until": now + self.lease_seconds})
                return cur.rowcount == 1
            cur.execute(self.q["claim_execution"], {"arn": arn, "owner": self.owner, "lease_until": now + self.lease_seconds, "now": now})
            if cur.rowcount == 1:
                return True
            cur.execute(self.q["execution_owner"], {"arn": arn})
            row = cur.fetchone()
            if row is None or not owner_is_dead(row[0]):
                return False
            cur.execute(self.q["take_over_execution"], {"arn": arn, "owner": self.owner, "lease_until": now + self.lease_seconds, "previous": row[0]})
            return cur.rowcount == 1

    @reconnecting
    def renew_leases(self) -> set[str]:
        """Extend our leases; the ARNs of the RUNNING executions we hold (one statement)."""
        with self.transaction() as cur:
            cur.execute(self.q["renew_leases"], {"owner": self.owner, "lease_until": time.time() + self.lease_seconds})
            return {arn for (arn,) in cur.fetchall()}

    @reconnecting
    def release(self, arn: str) -> None:
        with self.transaction() as cur:
            cur.execute(self.q["release_execution"], {"arn": arn, "owner": self.owner})

    # helpers ------------------------------------------------------------------------------------

    def reading(self):
        """A cursor for reads (dialects may avoid taking write locks)."""
        return self.transaction()

    @reconnecting
    def _one(self, name: str, params: dict):
        with self.reading() as cur:
            cur.execute(self.q[name], params)
            return cur.fetchone()

    @reconnecting
    def _all(self, name: str, params: dict) -> list:
        with self.reading() as cur:
            cur.execute(self.q[name], params)
            return cur.fetchall()

"""The PostgreSQL store survives losing its connection (a server restart, pg_terminate_backend).

What it protects: after its backend is killed the store reconnects on the next call and works;
a transaction cut before COMMIT runs again, whole, exactly once; one cut while COMMIT was in
flight is never run again (its outcome is unknown) and the store still works after it; an
execution running on the store finishes, each state entered once; and when the server really is
gone the error names the store URL without its password. Everything is real: the embedded
PostgreSQL of tests/conftest.py, backends killed from a second connection.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from test_contract import call, put_frame, record, started

from stepflow.engine.snapshot import ROOT
from stepflow.errors import StoreUnavailableError
from stepflow.runtime import Runtime, Settings
from stepflow.server.api import ApiEndpoint
from stepflow.service import StepFunctions
from stepflow.store.postgres import PostgresStore

psycopg = pytest.importorskip("psycopg")


def terminate(url: str, store) -> int:
    """Kill the store's backend from another connection; wait until it is gone. Its pid."""
    pid = store.conn.info.backend_pid
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()[0]
    return pid


class CutStore(PostgresStore):
    """A PostgresStore whose backend is killed at a chosen point of its next transaction:
    ``cut = "midway"`` after the first execution of a commit is written, ``"commit"`` just
    before COMMIT is sent."""

    cut: str | None = None

    def _write(self, cur, exe, progress):
        written = super()._write(cur, exe, progress)
        if self.cut == "midway":
            self.cut = None
            terminate(self.url, self)
        return written

    @contextlib.contextmanager
    def transaction(self):
        with super().transaction() as cur:
            yield cur
            if self.cut == "commit":
                self.cut = None
                terminate(self.url, self)


@pytest.fixture
def stores(fresh_postgres_url):
    opened = []

    def make(kind=PostgresStore, url=fresh_postgres_url):
        store = kind(url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()


def test_a_killed_backend_is_replaced_on_the_next_call(stores, fresh_postgres_url):
    store = stores()
    store.put_state_machine(record("m", "r1"))
    old = terminate(fresh_postgres_url, store)
    assert store.get_state_machine(record().arn).name == "m"  # a read reconnects
    assert store.conn.info.backend_pid != old
    terminate(fresh_postgres_url, store)
    store.put_state_machine(record("n", "r2"))  # so does a write
    assert [m.name for m in store.list_state_machines()] == ["m", "n"]
    exe = started(store, "e1")
    terminate(fresh_postgres_url, store)
    assert store.claim(exe.arn)
    assert [e["type"] for e in store.history(exe.arn)] == ["ExecutionStarted", "PassStateEntered"]


def test_a_transaction_cut_before_commit_runs_again_whole_once(stores):
    store = stores(CutStore)
    first, second = started(store, "e1"), started(store, "e2")
    batch = [(exe, call(exe, lambda e, p: put_frame(e, p, ROOT, state="B"), "PassStateExited")) for exe in (first, second)]
    store.cut = "midway"  # the backend dies after e1's rows, before e2's: the server rolls back both
    assert store.commit_many(batch) == []
    other = stores()
    for exe in (first, second):
        assert [e["type"] for e in other.history(exe.arn)] == ["ExecutionStarted", "PassStateEntered", "PassStateExited"]
        assert other.get_execution(exe.arn, with_frames=True).frames[ROOT].state == "B"
    assert other._versions == {first.arn: 2, second.arn: 2}  # one update each: nothing written twice


def test_a_connection_lost_during_commit_is_not_run_again(stores, fresh_postgres_url):
    store = stores(CutStore)
    exe = started(store, "e1")
    progress = call(exe, lambda e, p: put_frame(e, p, ROOT, state="B"), "PassStateExited")
    store.cut = "commit"
    with pytest.raises(StoreUnavailableError, match="whether it did is unknown") as caught:
        store.commit_many([(exe, progress)])
    assert urlsplit(fresh_postgres_url).path in str(caught.value)
    # It did not run again. Here the server never saw the COMMIT: the snapshot is the old one,
    # which a runner adopting the execution would continue from.
    reloaded = store.get_execution(exe.arn, with_frames=True)
    assert reloaded.frames[ROOT].state == "A"
    assert [e["type"] for e in store.history(exe.arn)] == ["ExecutionStarted", "PassStateEntered"]
    assert store._versions[exe.arn] == 1


def test_a_stale_writer_is_still_refused_after_reconnecting(stores, fresh_postgres_url):
    mine, theirs = stores(), stores()
    exe = started(mine, "e1")
    stale = theirs.get_execution(exe.arn, with_frames=True)  # another owner moves it on
    theirs.commit(stale, call(stale, lambda e, p: put_frame(e, p, ROOT, state="T"), "PassStateExited"))
    terminate(fresh_postgres_url, mine)
    assert mine.commit_many([(exe, call(exe, lambda e, p: put_frame(e, p, ROOT, state="M"), "PassStateExited"))]) == [exe]
    assert theirs.get_execution(exe.arn, with_frames=True).frames[ROOT].state == "T"


DEFINITION = json.dumps({
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 2}, "Next": "Cut"},
        "Cut": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:cut", "Next": "Fan"},
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ItemProcessor": {"StartAt": "CutAgain", "States": {
            "CutAgain": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:cut", "End": True},
        }}, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
})


async def run_with_cuts(url: str) -> tuple[Runtime, object, list[int]]:
    killed: list[int] = []
    holder: dict[str, Runtime] = {}

    def cut(event, context):  # a task that kills the store's backend while the execution runs
        killed.append(terminate(url, holder["rt"].store))
        return {"items": [1, 2, 3], "seen": event}

    rt = holder["rt"] = Runtime(Settings(store_url=url, handlers={"cut": cut}, lambda_mode="inprocess"))
    made = rt.service.create_state_machine(name="cuts", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/r")
    arn = rt.service.start_execution(stateMachineArn=made["stateMachineArn"], name="e1")["executionArn"]
    exe = await asyncio.wait_for(rt.runner.wait(arn), 30)
    return rt, exe, killed


def test_an_execution_finishes_when_its_connection_is_killed_while_it_runs(fresh_postgres_url):
    rt, exe, killed = asyncio.run(run_with_cuts(fresh_postgres_url))
    try:
        stored = rt.store.get_execution(exe.arn)
        history = rt.store.history(exe.arn)
    finally:
        rt.close()
    assert len(killed) == 4 and len(set(killed)) == 4  # a new backend each time
    assert exe.status == stored.status == "SUCCEEDED", (exe.error, exe.cause)
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    entered = collections.Counter(e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered"))
    assert entered == {"Prepare": 1, "Cut": 1, "Fan": 1, "CutAgain": 3, "Done": 1}
    assert sum(e["type"] == "LambdaFunctionSucceeded" for e in history) == 4


@pytest.fixture
def login_role(postgres_url):
    """A role with a password that the test can forbid to log in (a server that is gone)."""
    role, password = f"r_{uuid.uuid4().hex[:12]}", f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        try:
            admin.execute(f'CREATE ROLE "{role}" LOGIN SUPERUSER PASSWORD \'{password}\'')
        except psycopg.Error as err:
            pytest.skip(f"cannot create a role on this server: {err}")
    parts = urlsplit(postgres_url)
    host = parts.netloc.rpartition("@")[2]
    yield role, password, urlunsplit((parts.scheme, f"{role}:{password}@{host}", parts.path, parts.query, ""))
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE usename = %s", (role,))
        admin.execute(f'DROP OWNED BY "{role}" CASCADE')
        admin.execute(f'DROP ROLE "{role}"')


def test_a_server_that_is_gone_is_named_without_the_password(login_role, postgres_url):
    role, password, url = login_role
    store = PostgresStore(url)
    try:
        store.put_resource("activity", "a1", {"n": 1})
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'ALTER ROLE "{role}" NOLOGIN')  # from now on no connection of ours is accepted
        terminate(postgres_url, store)
        with pytest.raises(StoreUnavailableError) as caught:
            store.get_resource("activity", "a1")
        message = str(caught.value)
        assert f"{role}@" in message and password not in message, message
        assert "not permitted to log in" in message
        with pytest.raises(StoreUnavailableError):  # it keeps saying so, and keeps trying
            store.get_resource("activity", "a1")
        reply = asyncio.run(ApiEndpoint(StepFunctions(store, None, None, None, None, "us-east-1", "1")).call(
            "AWSStepFunctions.ListStateMachines", b"{}"))  # what an API client is told
        assert (reply.status, reply.error_code) == (503, "ServiceUnavailable")
        assert f"{role}@".encode() in reply.body and password.encode() not in reply.body
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'ALTER ROLE "{role}" LOGIN')
        assert store.get_resource("activity", "a1") == {"n": 1}  # back as soon as the server is
    finally:
        store.close()


def test_a_server_that_is_not_there_at_start_is_named_without_the_password():
    with pytest.raises(StoreUnavailableError) as caught:
        PostgresStore("postgresql://stepflow:s3cret@127.0.0.1:1/stepflow?connect_timeout=2")
    message = str(caught.value)
    assert "postgresql://stepflow@127.0.0.1:1/stepflow" in message and "s3cret" not in message, message

"""Executions whose progress a store did not take: nobody waits for them forever, and nothing of
them is written over another process's execution.

What it protects: StartSyncExecution (whose row is written before it runs) answers with an AWS
error, never hangs, when a later commit of its execution fails (the database went away) or is
refused (another process committed that execution first), and every other waiter on it is
released too; a StartExecution refused because another process took its name first is forgotten
by the runner and the store, so no later commit of it can land on that process's row; and one
whose start the interpreter failed on leaves nothing behind in the store (no memory of an
unwritten row, no stale RUNNING entry in the memory store), so the same name can be started
again. Real memory, SQLite and PostgreSQL stores; the failures are real (a closed connection, a
second process on the same store; the interpreter's failure is an injected bug).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from stepflow.engine.interpreter import DEFAULT_BUDGET, Interpreter, Limits
from stepflow.engine.snapshot import Execution
from stepflow.errors import ExecutionDropped
from stepflow.runtime import Runtime, Settings
from stepflow.server.api import ApiEndpoint

ROLE = "arn:aws:iam::123456789012:role/r"
HOLD = json.dumps({"StartAt": "Hold", "States": {
    "Hold": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hold", "Next": "Done"},
    "Done": {"Type": "Pass", "End": True},
}})


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/uncommitted.db"
    return request.getfixturevalue("fresh_postgres_url")


class Gate:
    """A Lambda handler that holds its invocation until the test lets it go."""

    def __init__(self):
        self.entered = threading.Event()
        self.go = threading.Event()

    def __call__(self, event, context):
        self.entered.set()
        assert self.go.wait(10)
        return {"held": True}

    async def reached(self) -> None:
        deadline = time.monotonic() + 10
        while not self.entered.is_set():
            assert time.monotonic() < deadline, "the task never started"
            await asyncio.sleep(0.01)


def runtime(url: str, gate: Gate | None = None) -> Runtime:
    handlers = {"hold": gate} if gate is not None else {}
    return Runtime(Settings(store_url=url, limits=Limits.relaxed(), lambda_mode="inprocess", handlers=handlers))


async def sync_start_held(rt: Runtime, gate: Gate) -> tuple[asyncio.Task, str, asyncio.Task]:
    """StartSyncExecution through the HTTP API, run up to its held task: the reply's task, the
    execution's ARN, and a second waiter on the execution."""
    machine = rt.service.create_state_machine(name="sync", definition=HOLD, roleArn=ROLE, type="EXPRESS")["stateMachineArn"]
    body = json.dumps({"stateMachineArn": machine, "input": "{}"}).encode()
    reply = asyncio.ensure_future(ApiEndpoint(rt.service).call("AWSStepFunctions.StartSyncExecution", body))
    await gate.reached()
    (arn,) = rt.runner.active
    other_waiter = asyncio.ensure_future(rt.runner.wait(arn))
    await asyncio.sleep(0)
    return reply, arn, other_waiter


async def assert_released(rt: Runtime, reply: asyncio.Task, other_waiter: asyncio.Task, arn: str):
    async with asyncio.timeout(10):  # before the fix: waited forever
        answer = await reply
        with pytest.raises(ExecutionDropped):
            await other_waiter
    assert arn not in rt.runner.active and not rt.runner._done
    return answer


def test_sync_execution_whose_commit_fails_answers_with_an_error(tmp_path):
    gate = Gate()
    rt = runtime(f"sqlite:///{tmp_path}/gone.db", gate)

    async def scenario():
        reply, arn, other_waiter = await sync_start_held(rt, gate)
        rt.store.conn.close()  # the database goes away while the task runs: its result cannot be committed
        gate.go.set()
        return await assert_released(rt, reply, other_waiter, arn)

    try:
        answer = asyncio.run(scenario())
    finally:
        rt.close()
    assert (answer.status, answer.error_code) == (500, "InternalFailure")
    assert b"could not be committed" in answer.body


def test_sync_execution_committed_by_another_process_answers_with_an_error(url):
    gate = Gate()
    mine, theirs = runtime(url, gate), runtime(url)

    async def scenario():
        reply, arn, other_waiter = await sync_start_held(mine, gate)
        taken = theirs.store.get_execution(arn, with_frames=True)
        assert theirs.store.claim(arn, force=True)
        theirs.runner.stop(taken, "Taken", "by the other process")
        theirs.runner.before_reply()  # committed: this process's next commit of it is refused
        gate.go.set()
        return arn, await assert_released(mine, reply, other_waiter, arn)

    try:
        arn, answer = asyncio.run(scenario())
        assert (answer.status, answer.error_code) == (500, "InternalFailure")
        assert b"another process committed it first" in answer.body
        stored = theirs.store.get_execution(arn)
        assert (stored.status, stored.error) == ("ABORTED", "Taken")  # the other process's end stands
    finally:
        mine.close()
        theirs.close()


WAIT = json.dumps({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 600, "End": True}}})


def test_a_start_refused_for_a_taken_name_is_forgotten_and_never_commits_over_it(url):
    mine, theirs = runtime(url), runtime(url)

    async def scenario():
        machine = mine.service.create_state_machine(name="hold", definition=WAIT, roleArn=ROLE)["stateMachineArn"]
        body = json.dumps({"stateMachineArn": machine, "name": "same", "input": '{"who":"mine"}'}).encode()
        pending = asyncio.ensure_future(ApiEndpoint(mine.service).call("AWSStepFunctions.StartExecution", body))
        await asyncio.sleep(0)  # queued for this process's next group commit
        (refused,) = mine.runner.active.values()
        taken = Execution(arn=refused.arn, name="same", state_machine_arn=machine, state_machine_name="hold",
                          input={"who": "theirs"}, input_text='{"who":"theirs"}', start_date=refused.start_date,
                          role_arn=ROLE, revision=refused.revision)
        theirs.store.create_execution(taken)  # its row first, at version 0 (as StartSyncExecution writes one)
        reply = await pending
        assert (reply.status, reply.error_code) == (400, "ExecutionAlreadyExists")
        assert refused.arn not in mine.runner.active
        assert refused.arn not in mine.store._versions and refused.arn not in mine.store._unwritten
        mine.runner.stop(refused, "Late", "a late commit of the refused execution")
        mine.runner.before_reply()
        stored = theirs.store.get_execution(taken.arn, with_frames=True)
        assert (stored.status, stored.input_text, stored.frames) == ("RUNNING", '{"who":"theirs"}', {})
        assert theirs.store.history(taken.arn) == []
        theirs.runner.start(taken)  # their first transition commits at their version
        theirs.runner.before_reply()
        return taken.arn

    try:
        arn = asyncio.run(scenario())
        assert [e["type"] for e in theirs.store.history(arn)] == ["ExecutionStarted", "WaitStateEntered"]
        assert theirs.store.get_execution(arn).input_text == '{"who":"theirs"}'
    finally:
        mine.close()
        theirs.close()


class BuggyInterpreter(Interpreter):
    """An interpreter with a bug that shows only when an execution starts with ``{"bug": true}``."""

    def start(self, exe, machine, budget=DEFAULT_BUDGET):
        if exe.input == {"bug": True}:
            super().start(exe, machine, budget)  # it got some way (frames, events) before failing
            raise RuntimeError("a bug in the interpreter")
        return super().start(exe, machine, budget)


def test_a_start_the_interpreter_fails_on_leaves_nothing_in_the_store(store_url):
    rt = runtime(store_url)
    buggy = BuggyInterpreter(rt.interpreter.clock, rt.interpreter.limits)
    rt.interpreter = rt.runner.ix = buggy

    async def scenario():
        machine = rt.service.create_state_machine(name="hold", definition=WAIT, roleArn=ROLE)["stateMachineArn"]
        with pytest.raises(RuntimeError, match="a bug in the interpreter"):
            rt.service.start_execution(stateMachineArn=machine, name="e1", input='{"bug": true}')
        body = json.dumps({"stateMachineArn": machine, "name": "e2", "input": '{"bug": true}'}).encode()
        reply = await ApiEndpoint(rt.service).call("AWSStepFunctions.StartExecution", body)
        assert (reply.status, reply.error_code) == (500, "InternalFailure")
        assert not rt.runner.active and not rt.store._unwritten
        assert rt.store.list_executions() == []  # the memory store showed them RUNNING forever
        again = rt.service.start_execution(stateMachineArn=machine, name="e1", input='{"bug": false}')
        rt.runner.before_reply()
        return again["executionArn"]

    try:
        arn = asyncio.run(scenario())
        assert [e.name for e in rt.store.list_executions()] == ["e1"]
        assert [e["type"] for e in rt.store.history(arn)] == ["ExecutionStarted", "WaitStateEntered"]
    finally:
        rt.close()

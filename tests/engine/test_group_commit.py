"""Group commit (issue 3: "batching commits is welcome as long as nothing acknowledged to a
client is ever lost"): the runner commits the transitions of one event-loop turn in one
``commit_many`` transaction; an API reply follows the commit of what the action changed."""

from __future__ import annotations

import asyncio
import json

import pytest

from stepflow.engine.interpreter import Limits
from stepflow.errors import ApiError
from stepflow.runtime import Runtime, Settings
from stepflow.server.api import ApiEndpoint

ROLE = "arn:aws:iam::123456789012:role/r"
SHORT = json.dumps({"StartAt": "P", "States": {
    "P": {"Type": "Pass", "Next": "W"},
    "W": {"Type": "Wait", "Seconds": 0, "Next": "S"},
    "S": {"Type": "Succeed"},
}})


class CountingJournal:
    """Wraps the runner's journal: records the size of every commit_many batch; can refuse or fail."""

    def __init__(self, journal):
        self.journal = journal
        self.batches: list[list[str]] = []
        self.refuse: set[str] = set()
        self.fail = False

    def __getattr__(self, name):
        return getattr(self.journal, name)

    def commit_many(self, batch):
        if self.fail:
            raise RuntimeError("the store is down")
        self.batches.append([exe.arn for exe, _ in batch])
        refused = [exe for exe, _ in batch if exe.arn in self.refuse]
        kept = [(exe, progress) for exe, progress in batch if exe.arn not in self.refuse]
        return refused + self.journal.commit_many(kept)


def runtime(url: str) -> tuple[Runtime, CountingJournal]:
    rt = Runtime(Settings(store_url=url, time_scale=0, limits=Limits.relaxed(), lambda_mode="inprocess"))
    journal = CountingJournal(rt.runner.journal)
    rt.runner.journal = journal
    return rt, journal


def machine(rt: Runtime) -> str:
    return rt.service.create_state_machine(name="short", definition=SHORT, roleArn=ROLE)["stateMachineArn"]


async def finish(rt: Runtime, arns: list[str]) -> list[str]:
    statuses = []
    for arn in arns:
        exe = rt.runner.active.get(arn)
        if exe is not None and not exe.finished:
            async with asyncio.timeout(10):
                exe = await rt.runner.wait(arn)
        statuses.append(rt.service.describe_execution(executionArn=arn)["status"])
    return statuses


def test_transitions_of_one_loop_turn_share_one_commit(tmp_path):
    rt, journal = runtime(f"sqlite:///{tmp_path}/g.db")

    async def scenario():
        arn = machine(rt)
        arns = [rt.service.start_execution(stateMachineArn=arn, input="{}")["executionArn"] for _ in range(20)]
        assert len(journal.batches) == 20  # a direct (Python) caller: each start commits before it returns
        assert await finish(rt, arns) == ["SUCCEEDED"] * 20

    try:
        asyncio.run(scenario())
    finally:
        rt.close()
    # the 20 Wait timers fired in one loop turn: their transitions (to the end) shared a transaction
    assert max(len(batch) for batch in journal.batches) == 20
    assert len(journal.batches) < 40


def test_http_replies_follow_the_commit_and_concurrent_requests_share_it(tmp_path):
    rt, journal = runtime(f"sqlite:///{tmp_path}/g.db")
    endpoint = ApiEndpoint(rt.service)

    async def start(arn: str) -> str:
        body = json.dumps({"stateMachineArn": arn, "input": "{}"}).encode()
        reply = await endpoint.call("AWSStepFunctions.StartExecution", body)
        started = json.loads(reply.body)["executionArn"]
        stored = rt.store.get_execution(started, with_frames=True)
        assert stored.frames and stored.next_event_id > 1, "replied before the first transition was committed"
        return started

    async def scenario():
        arn = machine(rt)
        arns = await asyncio.gather(*(start(arn) for _ in range(10)))
        assert journal.batches[0] == list(arns)  # the ten starts: one transaction
        assert await finish(rt, list(arns)) == ["SUCCEEDED"] * 10

    try:
        asyncio.run(scenario())
    finally:
        rt.close()


def test_flush_without_pending_transitions_commits_nothing(tmp_path):
    rt, journal = runtime("memory://")
    rt.runner.flush()
    rt.runner.flush()
    assert journal.batches == []


def test_a_refused_execution_is_dropped_and_its_commands_are_not_carried_out(tmp_path):
    rt, journal = runtime(f"sqlite:///{tmp_path}/g.db")

    async def scenario():
        arn = machine(rt)
        execution = f"{arn.replace(':stateMachine:', ':execution:')}:taken"
        journal.refuse.add(execution)
        with pytest.raises(ApiError, match="ExecutionAlreadyExists"):  # its first commit was refused: not started
            rt.service.start_execution(stateMachineArn=arn, name="taken", input="{}")
        other = rt.service.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        await asyncio.sleep(0.05)
        assert execution not in rt.runner.active  # another process owns it: not run here
        assert await finish(rt, [other]) == ["SUCCEEDED"]

    try:
        asyncio.run(scenario())
    finally:
        rt.close()


def test_a_start_whose_first_commit_failed_is_answered_with_the_error(tmp_path):
    """StartExecution's row is written by the execution's first commit: if that fails, the
    caller hears so and nothing is left half-started; starting it again works."""
    rt, journal = runtime(f"sqlite:///{tmp_path}/g.db")

    async def scenario():
        arn = machine(rt)
        journal.fail = True
        with pytest.raises(RuntimeError, match="the store is down"):
            rt.service.start_execution(stateMachineArn=arn, name="e1", input='{"a":1}')
        assert rt.store.list_executions() == [] and not rt.runner.active
        journal.fail = False
        started = rt.service.start_execution(stateMachineArn=arn, name="e1", input='{"a":1}')["executionArn"]
        assert await finish(rt, [started]) == ["SUCCEEDED"]

    try:
        asyncio.run(scenario())
    finally:
        rt.close()


def test_an_execution_whose_commit_failed_continues_when_resumed(tmp_path):
    url = f"sqlite:///{tmp_path}/g.db"
    rt, journal = runtime(url)

    async def start() -> str:
        arn = rt.service.start_execution(stateMachineArn=machine(rt), input='{"a":1}')["executionArn"]
        journal.fail = True  # its next transition (the Wait's timer) cannot be committed
        await asyncio.sleep(0.05)
        return arn

    try:
        arn = asyncio.run(start())
        assert arn not in rt.runner.active
        rt.store.release(arn)  # as if this process had died (its lease is then free)
    finally:
        rt.close()
    later, _ = runtime(url)

    async def resume() -> list[str]:
        assert later.resume_all() == 1
        return await finish(later, [arn])

    try:
        assert asyncio.run(resume()) == ["SUCCEEDED"]
        types = [e["type"] for e in later.store.history(arn)]
        assert types[:2] == ["ExecutionStarted", "PassStateEntered"]
        assert types.count("ExecutionStarted") == 1 and types.count("WaitStateEntered") == 1
    finally:
        later.close()

"""StartExecution writes the new execution's row in the group commit, with its first transition.

What it protects: the reply goes out only once the row is committed (under the HTTP API, which
awaits the group flush, the row is not in the store before the flush and is after it); a start
that another process beat to the same name is answered ExecutionAlreadyExists and leaves that
process's execution alone; a commit that fails fails the reply (nothing unstored is
acknowledged); and many starts in one turn share one transaction. Real SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from stepflow.runtime import Runtime, Settings
from stepflow.server.api import ApiEndpoint
from stepflow.store import open_store

DEFINITION = json.dumps({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 600, "End": True}}})
ROLE = "arn:aws:iam::123456789012:role/r"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/start.db"
    return request.getfixturevalue("fresh_postgres_url")


def http_start(rt: Runtime, machine: str, name: str, input_text: str = "{}") -> asyncio.Task:
    """StartExecution through the HTTP API's endpoint (its reply awaits the group flush), as a
    task that has run up to that wait."""
    body = json.dumps({"stateMachineArn": machine, "name": name, "input": input_text}).encode()
    return asyncio.ensure_future(ApiEndpoint(rt.service).call("AWSStepFunctions.StartExecution", body))


async def in_loop(url: str, body):
    runtimes = []

    def runtime() -> Runtime:
        runtimes.append(Runtime(Settings(store_url=url)))
        return runtimes[-1]

    try:
        return await body(runtime)
    finally:
        for rt in runtimes:
            rt.close()


def test_the_reply_waits_for_the_commit_that_writes_the_row(url):
    async def body(runtime):
        rt, reader = runtime(), open_store(url)
        try:
            machine = rt.service.create_state_machine(name="hold", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
            pending = [http_start(rt, machine, f"e{i}") for i in range(3)]
            await asyncio.sleep(0)  # the three requests ran up to their wait for the group flush
            arns = [f"{machine.replace(':stateMachine:', ':execution:')}:e{i}" for i in range(3)]
            assert all(rt.runner.active.get(arn) for arn in arns)
            assert all(reader.get_execution(arn) is None for arn in arns)  # not acknowledged, not written
            replies = await asyncio.gather(*pending)
            assert [json.loads(r.body)["executionArn"] for r in replies] == arns
            for arn in arns:
                assert reader.get_execution(arn).status == "RUNNING"
                assert [e["type"] for e in reader.history(arn)] == ["ExecutionStarted", "WaitStateEntered"]
            direct = rt.service.start_execution(stateMachineArn=machine, name="direct")  # from Python: committed at once
            assert reader.get_execution(direct["executionArn"]).status == "RUNNING"
        finally:
            reader.close()

    asyncio.run(in_loop(url, body))


def test_a_start_beaten_to_its_name_by_another_process_is_refused(url):
    async def body(runtime):
        mine, theirs = runtime(), runtime()
        machine = mine.service.create_state_machine(name="hold", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
        same, other = http_start(mine, machine, "same", '{"who":"mine"}'), http_start(mine, machine, "other")
        await asyncio.sleep(0)  # both queued for this process's next group commit
        won = theirs.service.start_execution(stateMachineArn=machine, name="same", input='{"who":"theirs"}')  # commits first
        refused, kept = await same, await other
        assert (refused.status, refused.error_code) == (400, "ExecutionAlreadyExists")
        assert kept.status == 200 and json.loads(kept.body)["executionArn"].endswith(":other")  # same transaction
        stored = theirs.store.get_execution(won["executionArn"])
        assert json.loads(stored.input_text) == {"who": "theirs"}
        assert [e["type"] for e in theirs.store.history(won["executionArn"])] == ["ExecutionStarted", "WaitStateEntered"]
        assert won["executionArn"] not in mine.runner.active
        assert theirs.store.get_execution(json.loads(kept.body)["executionArn"]).status == "RUNNING"

    asyncio.run(in_loop(url, body))


def test_a_failed_commit_fails_the_reply(tmp_path):
    async def body(runtime):
        rt = runtime()
        machine = rt.service.create_state_machine(name="hold", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
        pending = http_start(rt, machine, "lost")
        await asyncio.sleep(0)
        rt.store.conn.close()  # the database goes away before the group flush
        reply = await pending
        assert (reply.status, reply.error_code) == (500, "InternalFailure")
        assert not rt.runner.active

    asyncio.run(in_loop(f"sqlite:///{tmp_path}/gone.db", body))

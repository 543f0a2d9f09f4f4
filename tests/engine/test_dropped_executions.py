"""What the runner does with executions it no longer holds (another process took them over, its
lease maintenance says: Runner.drop_unowned), and that stopping one execution touches no other's
task (tasks are known by execution and step key, and two executions of one machine share keys)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from stepflow.errors import ExecutionDropped
from stepflow.runtime import Runtime, Settings

ROLE = "arn:aws:iam::123456789012:role/x"
NAP = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": True}}}
WORK = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": True}}}


def create(rt: Runtime, name: str, definition: dict) -> str:
    return rt.service.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def test_an_execution_no_longer_held_is_dropped_with_its_timers_and_waiters():
    async def scenario():
        rt = Runtime(Settings(time_scale=1.0))
        machine = create(rt, "nap", NAP)
        kept = rt.service.start_execution(stateMachineArn=machine, name="kept")["executionArn"]
        gone = rt.service.start_execution(stateMachineArn=machine, name="gone")["executionArn"]
        waiter = asyncio.ensure_future(rt.runner.wait(gone))
        await asyncio.sleep(0.01)
        assert len(rt.runner._timers) == 2
        assert rt.runner.drop_unowned({kept}) == [gone]
        assert set(rt.runner.active) == {kept}
        assert len(rt.runner._timers) == 1  # the dropped execution's Wait timer is cancelled
        with pytest.raises(ExecutionDropped):
            await waiter
        assert rt.runner.drop_unowned({kept}) == []

    asyncio.run(scenario())


def test_an_execution_with_a_transition_waiting_for_the_group_commit_is_not_dropped():
    async def scenario():
        rt = Runtime(Settings(time_scale=1.0))
        machine = create(rt, "nap", NAP)
        exe = rt.service._new_execution(machine, "new", "{}", None, sync=False)
        rt.runner.start(exe)  # queued for this turn's group commit: no row yet
        assert rt.runner.drop_unowned(set()) == []
        rt.runner.flush()
        assert set(rt.runner.active) == {exe.arn}

    asyncio.run(scenario())


def test_stopping_an_execution_cancels_its_task_only():
    def work(event, context):
        time.sleep(0.3)
        return {"done": event["n"]}

    async def scenario():
        rt = Runtime(Settings(time_scale=1.0, handlers={"work": work}, lambda_mode="inprocess"))
        machine = create(rt, "work", WORK)
        first = rt.service.start_execution(stateMachineArn=machine, name="first", input='{"n": 1}')["executionArn"]
        second = rt.service.start_execution(stateMachineArn=machine, name="second", input='{"n": 2}')["executionArn"]
        await asyncio.sleep(0.05)
        rt.service.stop_execution(executionArn=first)
        finished = await asyncio.wait_for(rt.runner.wait(second), 10)
        assert (finished.status, json.loads(finished.output_text)) == ("SUCCEEDED", {"done": 2})
        assert rt.service.describe_execution(executionArn=first)["status"] == "ABORTED"

    asyncio.run(scenario())

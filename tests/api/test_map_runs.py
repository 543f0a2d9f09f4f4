"""Map runs of distributed Map states, recorded by MapRunJournal."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from api_helpers import ROLE, make_runtime

from stepflow.api.map_runs import MapRunJournal
from stepflow.engine.clock import Clock
from stepflow.errors import ApiError
from stepflow.runtime import Runtime, Settings
from stepflow.server.api import ApiEndpoint


def distributed(processor_states: dict, **map_fields) -> str:
    return json.dumps({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "End": True, **map_fields,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": next(iter(processor_states)), "States": processor_states}}}})


def journal_runtime(**settings):
    rt = make_runtime(**settings)
    rt.runner.journal = MapRunJournal(rt.store, rt.machines.for_execution)
    return rt


async def run_to_end(rt, definition, items):
    svc = rt.service
    arn = svc.create_state_machine(name="dm", definition=definition, roleArn=ROLE)["stateMachineArn"]
    execution = svc.start_execution(stateMachineArn=arn, input=json.dumps({"items": items}))["executionArn"]
    if execution in rt.runner.active:
        await rt.runner.wait(execution)
    return execution


@pytest.mark.parametrize("store", ["memory://", "sqlite"])
def test_successful_map_run_is_listed_and_described(store, tmp_path):
    url = f"sqlite:///{tmp_path}/m.db" if store == "sqlite" else store
    rt = journal_runtime(store_url=url)
    definition = distributed({"P": {"Type": "Pass", "End": True}}, MaxConcurrency=2, Label="Fan")
    execution = asyncio.run(run_to_end(rt, definition, [1, 2, 3]))
    runs = rt.service.list_map_runs(executionArn=execution)["mapRuns"]
    assert len(runs) == 1
    run = runs[0]
    assert run["stateMachineArn"].endswith(":stateMachine:dm/Fan") and ":mapRun:dm" in run["mapRunArn"]
    described = rt.service.describe_map_run(mapRunArn=run["mapRunArn"])
    assert described["status"] == "SUCCEEDED" and described["maxConcurrency"] == 2
    assert described["itemCounts"] == {"pending": 0, "running": 0, "succeeded": 3, "failed": 0, "timedOut": 0,
                                       "aborted": 0, "total": 3, "resultsWritten": 3}
    with pytest.raises(ApiError) as err:
        rt.service.update_map_run(mapRunArn=run["mapRunArn"], maxConcurrency=5)
    assert err.value.code == "ValidationException"


def test_failed_map_run_counts_the_failure():
    rt = journal_runtime()
    definition = distributed({"F": {"Type": "Fail", "Error": "Boom"}})
    execution = asyncio.run(run_to_end(rt, definition, [1]))
    run = rt.service.list_map_runs(executionArn=execution)["mapRuns"][0]
    described = rt.service.describe_map_run(mapRunArn=run["mapRunArn"])
    assert described["status"] == "FAILED"
    assert described["itemCounts"]["failed"] == 1 and described["itemCounts"]["total"] == 1


def test_running_map_run_shows_live_counts_and_takes_updates():
    rt = journal_runtime(clock=Clock(1.0))
    definition = distributed({"W": {"Type": "Wait", "Seconds": 30, "End": True}}, MaxConcurrency=1)

    async def scenario():
        svc = rt.service
        arn = svc.create_state_machine(name="slow", definition=definition, roleArn=ROLE)["stateMachineArn"]
        execution = svc.start_execution(stateMachineArn=arn, input=json.dumps({"items": [1, 2]}))["executionArn"]
        await asyncio.sleep(0.1)
        run = svc.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
        running = svc.describe_map_run(mapRunArn=run)
        svc.update_map_run(mapRunArn=run, maxConcurrency=2, toleratedFailureCount=1)
        updated = svc.describe_map_run(mapRunArn=run)
        waits = [f.wait for f in rt.runner.active[execution].frames.values() if f.wait and f.wait.get("kind") == "children"]
        assert [(w["limit"], w["tolerated"]) for w in waits] == [(2, [1, 0.0])]
        svc.stop_execution(executionArn=execution)
        return running, updated, svc.describe_map_run(mapRunArn=run)

    running, updated, stopped = asyncio.run(scenario())
    assert running["status"] == "RUNNING" and running["itemCounts"]["running"] == 1 and running["itemCounts"]["pending"] == 1
    assert (updated["maxConcurrency"], updated["toleratedFailureCount"]) == (2, 1)
    assert stopped["status"] == "ABORTED" and "stopDate" in stopped


def test_map_run_arguments_are_checked(svc, machine):
    with pytest.raises(ApiError) as err:
        svc.describe_map_run(mapRunArn=machine)
    assert err.value.code == "InvalidArn"
    missing = "arn:aws:states:us-east-1:123456789012:mapRun:m:e/M:3"
    with pytest.raises(ApiError) as err:
        svc.describe_map_run(mapRunArn=missing)
    assert err.value.code == "ResourceNotFound"
    with pytest.raises(ApiError) as err:
        svc.list_map_runs(executionArn="arn:aws:states:us-east-1:123456789012:execution:m:none")
    assert err.value.code == "ExecutionDoesNotExist"


class Items:
    """The Lambda handler of a Map's iterations: records each item it is given; the items in
    ``instant`` return at once, the others wait until ``hold`` is set (at the end of the test)."""

    def __init__(self, hold: threading.Event, instant: set):
        self.hold, self.instant, self.seen = hold, instant, []

    def __call__(self, event, context):
        self.seen.append(event)
        if event not in self.instant:
            assert self.hold.wait(30)
        return event

    async def until(self, items: set, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while not items <= set(self.seen) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


def children(rt, execution: str) -> dict:
    exe = rt.runner.active[execution]
    return next(f.wait for f in exe.frames.values() if f.wait and f.wait.get("kind") == "children")


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_an_update_survives_a_crash_and_applies_when_the_map_resumes(store, tmp_path, request):
    """UpdateMapRun's new limits are committed with the Map's frame before the HTTP reply: a
    process that dies right after it and is resumed from the store runs the Map with them."""
    url = f"sqlite:///{tmp_path}/m.db" if store == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    definition = distributed({"Item": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:item", "End": True}},
                             MaxConcurrency=1)
    hold = threading.Event()
    first, second = Items(hold, instant=set()), Items(hold, instant={0})

    def runtime(handler) -> Runtime:
        return Runtime(Settings(store_url=url, lambda_mode="inprocess", handlers={"item": handler}))

    async def until_crash(rt):
        svc = rt.service
        arn = svc.create_state_machine(name="dm", definition=definition, roleArn=ROLE)["stateMachineArn"]
        execution = svc.start_execution(stateMachineArn=arn, input=json.dumps({"items": [0, 1, 2, 3]}))["executionArn"]
        await first.until({0})
        run = svc.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
        assert children(rt, execution)["running"] == 1
        body = json.dumps({"mapRunArn": run, "maxConcurrency": 3, "toleratedFailureCount": 2}).encode()
        reply = await ApiEndpoint(svc).call("AWSStepFunctions.UpdateMapRun", body)  # acknowledged...
        assert reply.status == 200
        rt.store.release(execution)  # ...then the process dies: nothing more of it is committed
        return execution, run

    async def resumed(rt, execution, run):
        assert rt.resume_all() == 1
        await second.until({1, 2, 3})  # item 0 ran again and ended: three iterations at once, not one
        wait = children(rt, execution)
        described = rt.service.describe_map_run(mapRunArn=run)
        rt.service.stop_execution(executionArn=execution)
        return wait, described

    before = runtime(first)
    try:
        execution, run = asyncio.run(until_crash(before))
    finally:
        before.close()
    after = runtime(second)
    try:
        wait, described = asyncio.run(resumed(after, execution, run))
    finally:
        hold.set()
        after.close()
    assert (wait["limit"], wait["tolerated"], wait["running"]) == (3, [2, 0.0], 3)
    assert sorted(second.seen) == [0, 1, 2, 3]
    assert (described["maxConcurrency"], described["toleratedFailureCount"]) == (3, 2)


def test_an_update_is_not_written_back_by_the_next_commit_of_the_map():
    """The journal rewrites a running map run's document at each commit of its Map frame: it
    keeps the updated settings."""
    rt = journal_runtime(clock=Clock(0.2))
    definition = distributed({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}, MaxConcurrency=1)

    async def scenario():
        svc = rt.service
        arn = svc.create_state_machine(name="slow", definition=definition, roleArn=ROLE)["stateMachineArn"]
        items = [{"s": 1}] + [{"s": 600}] * 3
        execution = svc.start_execution(stateMachineArn=arn, input=json.dumps({"items": items}))["executionArn"]
        await asyncio.sleep(0.05)
        run = svc.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
        svc.update_map_run(mapRunArn=run, maxConcurrency=3, toleratedFailurePercentage=50)
        deadline = time.monotonic() + 10
        while children(rt, execution)["done"] < 1 and time.monotonic() < deadline:  # the first item's Wait ends
            await asyncio.sleep(0.02)
        described = svc.describe_map_run(mapRunArn=run)
        svc.stop_execution(executionArn=execution)
        return described

    described = asyncio.run(scenario())
    assert described["itemCounts"]["succeeded"] == 1 and described["itemCounts"]["running"] == 3
    assert (described["maxConcurrency"], described["toleratedFailurePercentage"]) == (3, 50.0)

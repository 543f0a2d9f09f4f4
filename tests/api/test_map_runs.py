"""Map runs of distributed Map states, recorded by MapRunJournal."""

from __future__ import annotations

import asyncio
import json

import pytest
from api_helpers import ROLE, make_runtime

from stepflow.api.map_runs import MapRunJournal
from stepflow.engine.clock import Clock
from stepflow.errors import ApiError


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

"""Parallel and inline Map: results order, failures, retries, concurrency, tolerated failures."""

from __future__ import annotations

import threading
import time

import pytest
from engine_helpers import Flaky, Recorder, events_of, lambda_arn, machine, single, types

import stepflow
from stepflow import FakeClock

FN = lambda_arn("fn")


def branch(start: str, **states: dict) -> dict:
    return {"StartAt": start, "States": states}


def pass_branch(name: str, result) -> dict:
    return branch(name, **{name: {"Type": "Pass", "Result": result, "End": True}})


# -- Parallel ------------------------------------------------------------------------------------


def test_parallel_results_are_in_branch_order_not_finish_order():
    slow = branch("SlowWait", SlowWait={"Type": "Wait", "Seconds": 50, "Next": "SlowDone"},
                  SlowDone={"Type": "Pass", "Result": "slow", "End": True})
    definition = single({"Type": "Parallel", "Branches": [slow, pass_branch("Fast", "fast"), pass_branch("Mid", "mid")]})
    result = stepflow.run(definition, {}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == ["slow", "fast", "mid"]


def test_every_branch_gets_the_effective_input():
    seen = Recorder()
    branches = [
        branch("A", A={"Type": "Task", "Resource": FN, "End": True}),
        branch("B", B={"Type": "Task", "Resource": FN, "End": True}),
    ]
    definition = single({"Type": "Parallel", "Branches": branches, "Parameters": {"v.$": "$.x"}})
    result = stepflow.run(definition, {"x": 1}, handlers={"fn": seen})
    assert seen.calls == [{"v": 1}, {"v": 1}]
    assert result.output == [{"v": 1}, {"v": 1}]


def test_parallel_result_selector_and_result_path():
    definition = single({
        "Type": "Parallel", "Branches": [pass_branch("A", 1), pass_branch("B", 2)],
        "ResultSelector": {"first.$": "$[0]", "all.$": "$"}, "ResultPath": "$.par",
    })
    assert stepflow.run(definition, {"in": 0}).output == {"in": 0, "par": {"first": 1, "all": [1, 2]}}


def test_a_failing_branch_fails_the_parallel_state():
    failing = branch("Boom", Boom={"Type": "Fail", "Error": "Branch.Error", "Cause": "b"})
    definition = single({"Type": "Parallel", "Branches": [pass_branch("Ok", 1), failing]})
    result = stepflow.run(definition, {})
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("Branch.Error", "b")
    assert "ParallelStateFailed" in types(result)


def test_a_failing_branch_stops_the_others():
    calls = Recorder()
    slow = branch("Wait", Wait={"Type": "Wait", "Seconds": 100, "Next": "Work"},
                  Work={"Type": "Task", "Resource": FN, "End": True})
    failing = branch("Boom", Boom={"Type": "Fail", "Error": "E"})
    result = stepflow.run(single({"Type": "Parallel", "Branches": [slow, failing]}), {}, handlers={"fn": calls}, clock=FakeClock())
    assert result.status == "FAILED"
    assert calls.calls == []


def test_parallel_retry_reruns_every_branch():
    flaky = Flaky(failures=1, value="ok")
    counter = Recorder(lambda event: "counted")
    branches = [
        branch("Flaky", Flaky={"Type": "Task", "Resource": lambda_arn("flaky"), "End": True}),
        branch("Count", Count={"Type": "Task", "Resource": lambda_arn("count"), "End": True}),
    ]
    state = {"Type": "Parallel", "Branches": branches, "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}]}
    # The counting branch is slower to be scheduled than the failure, so make it wait first.
    branches[1] = branch("Pause", Pause={"Type": "Wait", "Seconds": 5, "Next": "Count"},
                         Count={"Type": "Task", "Resource": lambda_arn("count"), "End": True})
    result = stepflow.run(single(state), {}, handlers={"flaky": flaky, "count": counter}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == ["ok", "counted"]
    assert flaky.calls == 2
    assert len(counter.calls) == 1  # the first attempt's waiting branch was stopped
    assert types(result).count("ParallelStateStarted") == 2


def test_parallel_catch():
    failing = branch("Boom", Boom={"Type": "Fail", "Error": "E", "Cause": "c"})
    definition = machine(
        ("P", {"Type": "Parallel", "Branches": [failing], "Catch": [{"ErrorEquals": ["E"], "Next": "Done", "ResultPath": "$.err"}], "End": True}),
        ("Done", {"Type": "Succeed"}),
    )
    assert stepflow.run(definition, {"a": 1}).output == {"a": 1, "err": {"Error": "E", "Cause": "c"}}


def test_nested_parallel():
    inner = branch("Inner", Inner={"Type": "Parallel", "Branches": [pass_branch("X", "x"), pass_branch("Y", "y")], "End": True})
    definition = single({"Type": "Parallel", "Branches": [inner, pass_branch("Z", "z")]})
    assert stepflow.run(definition, {}).output == [["x", "y"], "z"]


# -- Map -----------------------------------------------------------------------------------------

PASS_ITEM = branch("Item", Item={"Type": "Pass", "End": True})


def map_state(processor: dict = PASS_ITEM, **fields) -> dict:
    return {"Type": "Map", "ItemProcessor": processor, **fields}


def test_map_over_the_input_array():
    processor = branch("Double", Double={"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": True})
    result = stepflow.run(single(map_state(processor)), [1, 2, 3])
    assert result.output == [{"v": 2}, {"v": 4}, {"v": 6}]


def test_items_path_and_result_path():
    result = stepflow.run(single(map_state(ItemsPath="$.xs", ResultPath="$.ys")), {"xs": [1, 2], "k": 0})
    assert result.output == {"xs": [1, 2], "k": 0, "ys": [1, 2]}


def test_empty_array_gives_an_empty_result():
    result = stepflow.run(single(map_state(ItemsPath="$.xs")), {"xs": []})
    assert result.status == "SUCCEEDED"
    assert result.output == []
    assert "MapIterationStarted" not in types(result)


def test_items_must_be_an_array():
    result = stepflow.run(single(map_state(ItemsPath="$.xs")), {"xs": {"not": "array"}})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"


def test_item_selector_sees_the_context_map_item_and_the_state_input():
    selector = {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "tag.$": "$.tag"}
    result = stepflow.run(single(map_state(ItemsPath="$.xs", ItemSelector=selector)), {"xs": ["a", "b"], "tag": "T"})
    assert result.output == [{"index": 0, "value": "a", "tag": "T"}, {"index": 1, "value": "b", "tag": "T"}]


def test_legacy_iterator_and_parameters():
    state = {"Type": "Map", "Iterator": PASS_ITEM, "ItemsPath": "$.xs",
             "Parameters": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"}}
    result = stepflow.run(single(state), {"xs": [10, 20]})
    assert result.output == [{"i": 0, "v": 10}, {"i": 1, "v": 20}]


def test_map_iterations_run_tasks():
    fn = Recorder(lambda event: event * 10)
    processor = branch("Work", Work={"Type": "Task", "Resource": FN, "End": True})
    result = stepflow.run(single(map_state(processor)), [1, 2, 3], handlers={"fn": fn})
    assert result.output == [10, 20, 30]
    assert sorted(fn.calls) == [1, 2, 3]


class ConcurrencyProbe:
    """A handler that records how many invocations overlap."""

    def __init__(self, pause: float = 0.02):
        self.pause = pause
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, event, context):
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(self.pause)
        with self._lock:
            self.active -= 1
        return event


@pytest.mark.parametrize("limit", [1, 2])
def test_max_concurrency_bounds_running_iterations(limit):
    probe = ConcurrencyProbe()
    processor = branch("Work", Work={"Type": "Task", "Resource": FN, "End": True})
    result = stepflow.run(single(map_state(processor, MaxConcurrency=limit)), list(range(6)), handlers={"fn": probe})
    assert result.output == list(range(6))
    assert 1 <= probe.peak <= limit


def test_unbounded_map_runs_iterations_concurrently():
    probe = ConcurrencyProbe(pause=0.05)
    processor = branch("Work", Work={"Type": "Task", "Resource": FN, "End": True})
    result = stepflow.run(single(map_state(processor)), list(range(4)), handlers={"fn": probe})
    assert result.status == "SUCCEEDED"
    assert probe.peak > 1


def failing_processor() -> dict:
    """Items with {"fail": true} fail with Item.Error; others pass through."""
    return branch("Check", Check={"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}], "Default": "Ok"},
                  Boom={"Type": "Fail", "Error": "Item.Error", "Cause": "bad item"}, Ok={"Type": "Pass", "End": True})


def items(*fails: bool) -> list[dict]:
    return [{"fail": f} for f in fails]


def test_one_failed_iteration_fails_the_map():
    result = stepflow.run(single(map_state(failing_processor(), MaxConcurrency=1)), items(False, True, False))
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("Item.Error", "bad item")
    assert types(result).count("MapIterationFailed") == 1
    assert "MapStateFailed" in types(result)


def test_tolerated_failure_count_within_limit():
    result = stepflow.run(single(map_state(failing_processor(), ToleratedFailureCount=1)), items(False, True, False))
    assert result.status == "SUCCEEDED"
    assert result.output[0] == {"fail": False}
    assert result.output[1] == {"Error": "Item.Error", "Cause": "bad item"}


def test_tolerated_failure_count_exceeded():
    result = stepflow.run(single(map_state(failing_processor(), ToleratedFailureCount=1)), items(True, True, False))
    assert result.status == "FAILED"
    assert result.error == "States.ExceedToleratedFailureThreshold"


@pytest.mark.parametrize("fails, status", [((True, False, False, False), "SUCCEEDED"), ((True, True, True, False), "FAILED")])
def test_tolerated_failure_percentage(fails, status):
    result = stepflow.run(single(map_state(failing_processor(), ToleratedFailurePercentage=50)), items(*fails))
    assert result.status == status


def test_map_retry_reruns_all_iterations():
    fn = Flaky(failures=1, value="done")
    processor = branch("Work", Work={"Type": "Task", "Resource": FN, "End": True})
    state = map_state(processor, MaxConcurrency=1, Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}])
    result = stepflow.run(single(state), [1, 2], handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == ["done", "done"]
    assert fn.calls == 3  # item 0 fails, then the retry runs items 0 and 1


def test_nested_map():
    inner = branch("Inner", Inner=map_state(ItemSelector={"v.$": "$$.Map.Item.Value"}, End=True))
    result = stepflow.run(single(map_state(inner)), [[1, 2], [3]])
    assert result.output == [[{"v": 1}, {"v": 2}], [{"v": 3}]]


def test_map_state_history_shape():
    result = stepflow.run(single(map_state(MaxConcurrency=1)), ["a", "b"])
    assert types(result) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded",
    ]
    assert events_of(result, "MapStateStarted")[0]["mapStateStartedEventDetails"] == {"length": 2}
    started = [e["mapIterationStartedEventDetails"] for e in events_of(result, "MapIterationStarted")]
    assert started == [{"name": "S", "index": 0}, {"name": "S", "index": 1}]


def test_item_batcher_groups_items_with_batch_input():
    state = map_state(
        ItemProcessor={"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **PASS_ITEM},
        ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"job": "j1"}},
    )
    result = stepflow.run(single(state), [1, 2, 3])
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == [
        {"BatchInput": {"job": "j1"}, "Items": [1, 2]},
        {"BatchInput": {"job": "j1"}, "Items": [3]},
    ]


def test_item_batcher_without_batch_input():
    state = map_state(
        ItemProcessor={"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **PASS_ITEM},
        ItemBatcher={"MaxItemsPerBatch": 3},
    )
    result = stepflow.run(single(state), [1, 2, 3, 4])
    assert result.output == [{"Items": [1, 2, 3]}, {"Items": [4]}]


def test_max_concurrency_path():
    probe = ConcurrencyProbe()
    processor = branch("Work", Work={"Type": "Task", "Resource": FN, "End": True})
    state = map_state(processor, ItemsPath="$.xs", MaxConcurrencyPath="$.limit")
    result = stepflow.run(single(state), {"xs": [1, 2, 3, 4], "limit": 1}, handlers={"fn": probe})
    assert result.output == [1, 2, 3, 4]
    assert probe.peak == 1


def test_legacy_iterator_with_distributed_processor_config_runs_as_a_map_run():
    # AWS reads ProcessorConfig inside the older Iterator field too: the iterations become a
    # Map Run (MapRunStarted/MapRunSucceeded in the parent history, no MapIteration* events).
    state = {"Type": "Map", "Iterator": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **PASS_ITEM}}
    result = stepflow.run(single(state), ["Hello", "World"])
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == ["Hello", "World"]
    types = [event["type"] for event in result.history]
    assert "MapRunStarted" in types and "MapRunSucceeded" in types
    assert "MapIterationStarted" not in types


def test_jsonata_items_that_are_not_an_array_fail_the_map_with_map_state_failed():
    state = {"Type": "Map", "Items": "{% $states.input.items %}", "ItemProcessor": PASS_ITEM}
    result = stepflow.run(single(state, QueryLanguage="JSONata"), {"items": None})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert "specified for the field 'Items' returned an unexpected result type. Expected 'array'" in result.cause
    assert types(result) == ["ExecutionStarted", "MapStateEntered", "EvaluationFailed", "MapStateFailed", "ExecutionFailed"]


def test_jsonpath_items_that_are_not_an_array_fail_without_map_state_failed():
    result = stepflow.run(single(map_state(ItemsPath="$.items")), {"items": 3})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert types(result) == ["ExecutionStarted", "MapStateEntered", "ExecutionFailed"]

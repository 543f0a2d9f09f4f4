"""AWS limits (256 KiB payloads, 25,000 history events) and the execution's TimeoutSeconds."""

from __future__ import annotations

import time

import pytest
from engine_helpers import lambda_arn, machine, single, types

import stepflow
from stepflow import FakeClock, Limits
from stepflow.errors import ApiError

KIB = 1024
BIG = "x" * (200 * KIB)  # under the limit alone, over it twice


def test_state_output_over_256_kib_fails_with_data_limit_exceeded():
    definition = single({"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}})
    result = stepflow.run(definition, {"s": BIG})
    assert result.status == "FAILED"
    assert result.error == "States.DataLimitExceeded"
    assert "'S'" in result.cause


def test_data_limit_exceeded_can_be_caught():
    definition = machine(
        ("Big", {"Type": "Task", "Resource": lambda_arn("fn"), "End": True,
                 "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Small"}]}),
        ("Small", {"Type": "Pass", "Result": "caught", "End": True}),
    )
    result = stepflow.run(definition, {}, handlers={"fn": lambda e, c: "y" * (300 * KIB)})
    assert result.output == "caught"


def test_task_result_over_256_kib_fails():
    result = stepflow.run(single({"Type": "Task", "Resource": lambda_arn("fn")}), {}, handlers={"fn": lambda e, c: "y" * (300 * KIB)})
    assert result.status == "FAILED"
    assert result.error == "States.DataLimitExceeded"


def test_relaxed_limits_lift_the_payload_limit():
    definition = single({"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}})
    result = stepflow.run(definition, {"s": BIG}, limits=Limits.relaxed())
    assert result.status == "SUCCEEDED"
    assert len(result.output["a"]) == len(BIG)


def test_execution_input_over_256_kib_is_rejected():
    with pytest.raises(ApiError) as raised:
        stepflow.run(single({"Type": "Pass"}), {"s": "z" * (257 * KIB)})
    assert raised.value.code == "InvalidExecutionInput"


def test_payload_just_under_the_limit_is_fine():
    result = stepflow.run(single({"Type": "Pass"}), {"s": "z" * (250 * KIB)})
    assert result.status == "SUCCEEDED"


def test_large_payloads_in_history_are_kept_whole_under_the_limit():
    result = stepflow.run(single({"Type": "Pass"}), {"s": "z" * (100 * KIB)})
    exited = result.history[2]["stateExitedEventDetails"]
    assert exited["outputDetails"] == {"truncated": False}
    assert len(exited["output"]) > 100 * KIB


MAP_OF_PASS = single({"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})


def test_history_over_25000_events_fails_the_execution():
    # 7,000 iterations x 4 events each: past AWS's 25,000-event history limit.
    result = stepflow.run(MAP_OF_PASS, list(range(7000)))
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "25000" in result.cause
    assert result.history[-1]["type"] == "ExecutionFailed"
    assert 25_000 < len(result.history) <= 25_002


def test_a_custom_history_limit_ends_the_history_with_execution_failed():
    result = stepflow.run(MAP_OF_PASS, list(range(30)), limits=Limits(history_events=20))
    assert result.status == "FAILED"
    assert types(result)[-1] == "ExecutionFailed"
    assert types(result).count("ExecutionFailed") == 1
    assert [e["id"] for e in result.history] == list(range(1, len(result.history) + 1))


def test_relaxed_limits_lift_the_history_limit():
    result = stepflow.run(MAP_OF_PASS, list(range(7000)), limits=Limits.relaxed())
    assert result.status == "SUCCEEDED"
    assert len(result.history) > 25_000


# -- the execution's TimeoutSeconds --------------------------------------------------------------


def test_execution_timeout_with_a_fake_clock():
    definition = machine(("W", {"Type": "Wait", "Seconds": 50, "Next": "Done"}), ("Done", {"Type": "Succeed"}), TimeoutSeconds=10)
    result = stepflow.run(definition, {}, clock=FakeClock())
    assert result.status == "TIMED_OUT"
    assert result.error == "States.Timeout"
    assert types(result) == ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]
    assert result.history[-1]["timestamp"] - result.history[0]["timestamp"] == 10


def test_execution_timeout_does_not_overtake_a_shorter_wait():
    definition = machine(("W", {"Type": "Wait", "Seconds": 5, "Next": "Done"}), ("Done", {"Type": "Succeed"}), TimeoutSeconds=10)
    result = stepflow.run(definition, {"a": 1}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == {"a": 1}


def test_execution_timeout_does_not_fire_while_a_task_runs_in_virtual_time():
    def slowish(event, context):
        time.sleep(0.05)
        return "done"

    definition = single({"Type": "Task", "Resource": lambda_arn("fn")}, TimeoutSeconds=1)
    result = stepflow.run(definition, {}, handlers={"fn": slowish}, clock=FakeClock())
    assert result.status == "SUCCEEDED"


def test_execution_timeout_in_scaled_real_time():
    def sleeper(event, context):
        time.sleep(1.0)
        return "late"

    definition = single({"Type": "Task", "Resource": lambda_arn("fn")}, TimeoutSeconds=1)
    result = stepflow.run(definition, {}, handlers={"fn": sleeper}, time_scale=0.02)
    assert result.status == "TIMED_OUT"
    assert types(result)[-1] == "ExecutionTimedOut"


def test_timeouts_are_off_at_time_scale_zero():
    definition = machine(("W", {"Type": "Wait", "Seconds": 500, "Next": "Done"}), ("Done", {"Type": "Succeed"}), TimeoutSeconds=1)
    assert stepflow.run(definition, {}, time_scale=0).status == "SUCCEEDED"

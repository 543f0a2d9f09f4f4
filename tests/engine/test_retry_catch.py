"""Retry (MaxAttempts, BackoffRate, MaxDelaySeconds, JitterStrategy) and Catch.

Retry delays are read from history timestamps under a FakeClock: virtual time only moves when a
timer fires, so the gap between a failure and the next attempt is exactly the backoff.
"""

from __future__ import annotations

import time

import pytest
from engine_helpers import Flaky, Recorder, events_of, lambda_arn, machine, single, types

import stepflow
from stepflow import FakeClock

FN = lambda_arn("fn")


def task(**fields) -> dict:
    return {"Type": "Task", "Resource": FN, **fields}


def retry_delays(result) -> list[float]:
    """Seconds between each LambdaFunctionFailed and the next LambdaFunctionScheduled."""
    delays, failed_at = [], None
    for event in result.history:
        if event["type"] == "LambdaFunctionFailed":
            failed_at = event["timestamp"]
        elif event["type"] == "LambdaFunctionScheduled" and failed_at is not None:
            delays.append(round(event["timestamp"] - failed_at, 6))
            failed_at = None
    return delays


# -- Retry ---------------------------------------------------------------------------------------


def test_retry_succeeds_after_transient_failures():
    fn = Flaky(failures=2)
    state = task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}])
    result = stepflow.run(single(state), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == {"ok": True}
    assert fn.calls == 3
    assert types(result).count("LambdaFunctionScheduled") == 3


def test_retry_gives_up_after_max_attempts():
    fn = Flaky(failures=10)
    state = task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}])
    result = stepflow.run(single(state), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "FAILED"
    assert result.error == "RuntimeError"
    assert fn.calls == 3  # the first attempt plus two retries


def test_max_attempts_zero_never_retries():
    fn = Flaky(failures=1)
    state = task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}])
    result = stepflow.run(single(state), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "FAILED"
    assert fn.calls == 1


def test_default_retry_is_three_attempts_one_second_doubling():
    state = task(Retry=[{"ErrorEquals": ["States.ALL"]}])
    result = stepflow.run(single(state), {}, handlers={"fn": Flaky(failures=10)}, clock=FakeClock())
    assert retry_delays(result) == [1.0, 2.0, 4.0]


def test_backoff_rate_multiplies_the_interval():
    state = task(Retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}])
    result = stepflow.run(single(state), {}, handlers={"fn": Flaky(failures=10)}, clock=FakeClock())
    assert retry_delays(result) == [2.0, 6.0, 18.0]


def test_max_delay_seconds_caps_the_backoff():
    retrier = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 4, "MaxDelaySeconds": 5}
    result = stepflow.run(single(task(Retry=[retrier])), {}, handlers={"fn": Flaky(failures=10)}, clock=FakeClock())
    assert retry_delays(result) == [2.0, 5.0, 5.0, 5.0]


def test_full_jitter_waits_a_random_part_of_the_backoff():
    retrier = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 2, "MaxAttempts": 5, "JitterStrategy": "FULL"}
    result = stepflow.run(single(task(Retry=[retrier])), {}, handlers={"fn": Flaky(failures=10)}, clock=FakeClock())
    delays = retry_delays(result)
    nominal = [10.0, 20.0, 40.0, 80.0, 160.0]
    assert len(delays) == 5
    assert all(0 <= d <= n for d, n in zip(delays, nominal))
    assert delays != nominal  # with five uniform draws, all five at the maximum does not happen


def test_only_the_first_matching_retrier_counts():
    retriers = [
        {"ErrorEquals": ["RuntimeError"], "MaxAttempts": 1, "IntervalSeconds": 1},
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5, "IntervalSeconds": 1},
    ]
    fn = Flaky(failures=10)
    result = stepflow.run(single(task(Retry=retriers)), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "FAILED"
    assert fn.calls == 2  # RuntimeError's own retrier is used up; States.ALL is not consulted


def test_retriers_count_attempts_separately():
    class Alternating:
        def __init__(self):
            self.calls = 0

        def __call__(self, event, context):
            self.calls += 1
            if self.calls > 4:
                return "done"
            raise (KeyError if self.calls % 2 else IndexError)("x")

    fn = Alternating()
    retriers = [
        {"ErrorEquals": ["KeyError"], "MaxAttempts": 2, "IntervalSeconds": 1},
        {"ErrorEquals": ["IndexError"], "MaxAttempts": 2, "IntervalSeconds": 1},
    ]
    result = stepflow.run(single(task(Retry=retriers)), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert fn.calls == 5


def test_retry_count_is_in_the_context_object():
    fn = Recorder(lambda event: (_ for _ in ()).throw(RuntimeError("again")) if event["n"] < 2 else event)
    state = task(Parameters={"n.$": "$$.State.RetryCount"}, Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}])
    result = stepflow.run(single(state), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert [call["n"] for call in fn.calls] == [0, 1, 2]


def test_retry_does_not_match_other_errors():
    fn = Flaky(failures=1, error=ValueError("v"))
    state = task(Retry=[{"ErrorEquals": ["KeyError"], "MaxAttempts": 3}])
    result = stepflow.run(single(state), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "FAILED"
    assert result.error == "ValueError"
    assert fn.calls == 1


def test_states_runtime_is_never_retried():
    fn = Recorder()
    state = task(InputPath="$.missing", Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}])
    result = stepflow.run(single(state), {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.error == "States.Runtime"
    assert fn.calls == []


# -- Catch ---------------------------------------------------------------------------------------


def caught_machine(catchers: list[dict], **task_fields) -> dict:
    """Work (a Task) with the catchers; Handler passes the error output on, Other outputs "other"."""
    targets = {"Handler": {"Type": "Pass", "End": True}, "Other": {"Type": "Pass", "Result": "other", "End": True}}
    used = [(name, targets[name]) for name in targets if any(c["Next"] == name for c in catchers)]
    return machine(("Work", task(Catch=catchers, **task_fields, End=True)), *used)


def raiser(error: Exception):
    def handler(event, context):
        raise error

    return handler


def test_catch_replaces_the_output_with_the_error_output_by_default():
    definition = caught_machine([{"ErrorEquals": ["States.ALL"], "Next": "Handler"}])
    result = stepflow.run(definition, {"in": 1}, handlers={"fn": raiser(KeyError("k"))})
    assert result.status == "SUCCEEDED"
    assert set(result.output) == {"Error", "Cause"}
    assert result.output["Error"] == "KeyError"


def test_catch_result_path_keeps_the_input():
    definition = caught_machine([{"ErrorEquals": ["States.ALL"], "Next": "Handler", "ResultPath": "$.error"}])
    result = stepflow.run(definition, {"in": 1}, handlers={"fn": raiser(KeyError("k"))})
    assert result.output["in"] == 1
    assert result.output["error"]["Error"] == "KeyError"


def test_catch_result_path_null_keeps_only_the_input():
    definition = caught_machine([{"ErrorEquals": ["States.ALL"], "Next": "Handler", "ResultPath": None}])
    result = stepflow.run(definition, {"in": 1}, handlers={"fn": raiser(KeyError("k"))})
    assert result.output == {"in": 1}


def test_first_matching_catcher_wins():
    catchers = [
        {"ErrorEquals": ["ValueError"], "Next": "Other"},
        {"ErrorEquals": ["States.ALL"], "Next": "Handler"},
    ]
    result = stepflow.run(caught_machine(catchers), {}, handlers={"fn": raiser(ValueError("v"))})
    assert result.output == "other"
    result = stepflow.run(caught_machine(catchers), {}, handlers={"fn": raiser(KeyError("k"))})
    assert result.output["Error"] == "KeyError"


def test_states_task_failed_catches_handler_errors():
    definition = caught_machine([{"ErrorEquals": ["States.TaskFailed"], "Next": "Other"}])
    result = stepflow.run(definition, {}, handlers={"fn": raiser(ValueError("v"))})
    assert result.output == "other"


def test_states_all_does_not_catch_states_runtime():
    definition = caught_machine([{"ErrorEquals": ["States.ALL"], "Next": "Handler"}], InputPath="$.missing")
    fn = Recorder()
    result = stepflow.run(definition, {}, handlers={"fn": fn})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert fn.calls == []


def test_catch_after_retries_are_exhausted():
    fn = Flaky(failures=10)
    definition = caught_machine(
        [{"ErrorEquals": ["States.ALL"], "Next": "Handler", "ResultPath": "$.err"}],
        Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
    )
    result = stepflow.run(definition, {}, handlers={"fn": fn}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert fn.calls == 3
    assert result.output["err"]["Error"] == "RuntimeError"


def test_catch_on_fail_of_parallel_branch_error_name():
    definition = machine(
        ("P", {"Type": "Parallel", "Branches": [
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Custom.Error", "Cause": "why"}}},
        ], "Catch": [{"ErrorEquals": ["Custom.Error"], "Next": "Handler"}], "End": True}),
        ("Handler", {"Type": "Pass", "End": True}),
    )
    result = stepflow.run(definition, {})
    assert result.output == {"Error": "Custom.Error", "Cause": "why"}


def sleeps(event, context):
    time.sleep(1.0)
    return "late"


def test_task_failed_does_not_catch_timeouts_but_all_does():
    catchers = [
        {"ErrorEquals": ["States.TaskFailed"], "Next": "Other"},
        {"ErrorEquals": ["States.ALL"], "Next": "Handler"},
    ]
    definition = caught_machine(catchers, TimeoutSeconds=1)
    result = stepflow.run(definition, {}, handlers={"fn": sleeps}, time_scale=0.02)
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "States.Timeout"


def test_states_timeout_can_be_caught_by_name():
    definition = caught_machine([{"ErrorEquals": ["States.Timeout"], "Next": "Other"}], TimeoutSeconds=1)
    result = stepflow.run(definition, {}, handlers={"fn": sleeps}, time_scale=0.02)
    assert result.output == "other"


@pytest.mark.parametrize("error_equals, caught", [
    (["States.ALL"], True),
    (["States.TaskFailed"], True),
    (["Custom.Thing"], True),
    (["Other"], False),
])
def test_fail_state_errors_inside_parallel_match_catchers(error_equals, caught):
    definition = machine(
        ("P", {"Type": "Parallel", "Branches": [
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Custom.Thing"}}},
        ], "Catch": [{"ErrorEquals": error_equals, "Next": "Handler"}], "End": True}),
        ("Handler", {"Type": "Pass", "Result": "caught", "End": True}),
    )
    result = stepflow.run(definition, {})
    assert (result.output == "caught") is caught
    assert result.status == ("SUCCEEDED" if caught else "FAILED")


def test_history_of_a_retried_then_caught_task():
    fn = Flaky(failures=10)
    definition = caught_machine(
        [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}],
        Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
    )
    result = stepflow.run(definition, {}, handlers={"fn": fn}, clock=FakeClock())
    assert types(result) == [
        "ExecutionStarted", "TaskStateEntered",
        "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
        "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
        "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]
    assert len(events_of(result, "TaskStateEntered")) == 1

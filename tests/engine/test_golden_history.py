"""Golden histories: the exact event list of representative executions, as AWS records them.

Each expected table is written by hand from AWS's history rules (event types, ids, the
previousEventId links, the details objects): the first state's Entered event links to 0; a
retried Lambda is scheduled again after the failure with no extra event; a Map's next
MapIterationStarted links to the previous iteration's last state event, MapStateFailed to the
failed iteration's last state event; a Map/Parallel state's Exited event links to the same event
as its *Succeeded event. Runs use a FakeClock so timestamps are exact.
"""

from __future__ import annotations

import json

from engine_helpers import START, Flaky, lambda_arn

import stepflow
from stepflow import FakeClock

ROLE = "arn:aws:iam::123456789012:role/stepflow"
NOT_TRUNCATED = {"truncated": False}


def shape(result) -> list[tuple[int, str, int]]:
    return [(e["id"], e["type"], e["previousEventId"]) for e in result.history]


def detail(result, event_id: int) -> dict | None:
    event = result.history[event_id - 1]
    assert event["id"] == event_id
    values = [v for k, v in event.items() if k.endswith("EventDetails")]
    return values[0] if values else None


def offsets(result) -> list[float]:
    """Each event's timestamp, in seconds after the FakeClock's start."""
    return [e["timestamp"] - START for e in result.history]


# -- 1. Pass -> Lambda Task retried once -> Choice -> Succeed ------------------------------------

RETRY_MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 2}, "ResultPath": "$.cfg", "Next": "Work"},
        "Work": {
            "Type": "Task", "Resource": lambda_arn("fn"),
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 2}],
            "Next": "Check",
        },
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}]},
        "Done": {"Type": "Succeed"},
    },
}


def test_golden_lambda_retry_choice_succeed():
    result = stepflow.run(RETRY_MACHINE, {"id": 7}, handlers={"fn": Flaky(failures=1, value={"ok": True})}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert shape(result) == [
        (1, "ExecutionStarted", 0),
        (2, "PassStateEntered", 0),
        (3, "PassStateExited", 2),
        (4, "TaskStateEntered", 3),
        (5, "LambdaFunctionScheduled", 4),
        (6, "LambdaFunctionStarted", 5),
        (7, "LambdaFunctionFailed", 6),
        (8, "LambdaFunctionScheduled", 7),
        (9, "LambdaFunctionStarted", 8),
        (10, "LambdaFunctionSucceeded", 9),
        (11, "TaskStateExited", 10),
        (12, "ChoiceStateEntered", 11),
        (13, "ChoiceStateExited", 12),
        (14, "SucceedStateEntered", 13),
        (15, "SucceedStateExited", 14),
        (16, "ExecutionSucceeded", 15),
    ]
    assert offsets(result) == [0.0] * 7 + [3.0] * 9  # the retry waited IntervalSeconds
    entered = '{"id":7,"cfg":{"n":2}}'
    assert detail(result, 1) == {"input": '{"id":7}', "inputDetails": NOT_TRUNCATED, "roleArn": ROLE}
    assert detail(result, 2) == {"name": "Prepare", "input": '{"id":7}', "inputDetails": NOT_TRUNCATED}
    assert detail(result, 3) == {"name": "Prepare", "output": entered, "outputDetails": NOT_TRUNCATED}
    assert detail(result, 4) == {"name": "Work", "input": entered, "inputDetails": NOT_TRUNCATED}
    scheduled = {"resource": lambda_arn("fn"), "input": entered, "inputDetails": NOT_TRUNCATED}
    assert detail(result, 5) == scheduled
    assert detail(result, 6) is None
    failed = detail(result, 7)
    assert failed["error"] == "RuntimeError"
    assert json.loads(failed["cause"])["errorMessage"] == "flaky"
    assert detail(result, 8) == scheduled
    assert detail(result, 10) == {"output": '{"ok":true}', "outputDetails": NOT_TRUNCATED}
    assert detail(result, 11) == {"name": "Work", "output": '{"ok":true}', "outputDetails": NOT_TRUNCATED}
    assert detail(result, 13) == {"name": "Check", "output": '{"ok":true}', "outputDetails": NOT_TRUNCATED}
    assert detail(result, 16) == {"output": '{"ok":true}', "outputDetails": NOT_TRUNCATED}


# -- 2. Map (one at a time) whose second item fails; Catch with ResultPath -----------------------

MAP_MACHINE = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Check",
                "States": {
                    "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "Reject"}], "Default": "Accept"},
                    "Reject": {"Type": "Fail", "Error": "Too.Big", "Cause": "item > 1"},
                    "Accept": {"Type": "Pass", "End": True},
                },
            },
            "Catch": [{"ErrorEquals": ["Too.Big"], "ResultPath": "$.error", "Next": "Recover"}],
            "Next": "Recover",
        },
        "Recover": {"Type": "Pass", "End": True},
    },
}


def test_golden_map_failure_caught():
    result = stepflow.run(MAP_MACHINE, {"items": [1, 2, 3]}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert shape(result) == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "MapStateStarted", 2),
        (4, "MapIterationStarted", 3),
        (5, "ChoiceStateEntered", 4),
        (6, "ChoiceStateExited", 5),
        (7, "PassStateEntered", 6),
        (8, "PassStateExited", 7),
        (9, "MapIterationSucceeded", 8),
        (10, "MapIterationStarted", 8),
        (11, "ChoiceStateEntered", 10),
        (12, "ChoiceStateExited", 11),
        (13, "FailStateEntered", 12),
        (14, "MapIterationFailed", 13),
        (15, "MapStateFailed", 13),
        (16, "MapStateExited", 15),
        (17, "PassStateEntered", 16),
        (18, "PassStateExited", 17),
        (19, "ExecutionSucceeded", 18),
    ]
    assert detail(result, 3) == {"length": 3}
    assert detail(result, 4) == {"name": "Fan", "index": 0}
    assert detail(result, 5) == {"name": "Check", "input": "1", "inputDetails": NOT_TRUNCATED}
    assert detail(result, 9) == {"name": "Fan", "index": 0}
    assert detail(result, 10) == {"name": "Fan", "index": 1}
    assert detail(result, 13) == {"name": "Reject", "input": "2", "inputDetails": NOT_TRUNCATED}
    assert detail(result, 14) == {"name": "Fan", "index": 1}
    assert detail(result, 15) is None
    caught = '{"items":[1,2,3],"error":{"Error":"Too.Big","Cause":"item > 1"}}'
    assert detail(result, 16) == {"name": "Fan", "output": caught, "outputDetails": NOT_TRUNCATED}
    assert result.output == json.loads(caught)


def test_golden_map_retry_has_no_map_state_failed_between_attempts():
    machine = json.loads(json.dumps(MAP_MACHINE))
    fan = machine["States"]["Fan"]
    del fan["Catch"]
    fan["Retry"] = [{"ErrorEquals": ["Too.Big"], "IntervalSeconds": 2, "MaxAttempts": 1}]
    result = stepflow.run(machine, {"items": [2]}, clock=FakeClock())
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("Too.Big", "item > 1")
    assert shape(result) == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "MapStateStarted", 2),
        (4, "MapIterationStarted", 3),
        (5, "ChoiceStateEntered", 4),
        (6, "ChoiceStateExited", 5),
        (7, "FailStateEntered", 6),
        (8, "MapIterationFailed", 7),
        (9, "MapStateStarted", 7),
        (10, "MapIterationStarted", 9),
        (11, "ChoiceStateEntered", 10),
        (12, "ChoiceStateExited", 11),
        (13, "FailStateEntered", 12),
        (14, "MapIterationFailed", 13),
        (15, "MapStateFailed", 13),
        (16, "ExecutionFailed", 15),
    ]
    assert offsets(result)[8] == 2.0  # the second attempt started after IntervalSeconds
    assert detail(result, 16) == {"error": "Too.Big", "cause": "item > 1"}


# -- 3. Parallel: one branch waits, the other passes ---------------------------------------------

PARALLEL_MACHINE = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
                {"StartAt": "W", "States": {
                    "W": {"Type": "Wait", "Seconds": 10, "Next": "B"},
                    "B": {"Type": "Pass", "Result": "b", "End": True},
                }},
            ],
            "End": True,
        },
    },
}


def test_golden_parallel():
    result = stepflow.run(PARALLEL_MACHINE, {}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == ["a", "b"]
    assert shape(result) == [
        (1, "ExecutionStarted", 0),
        (2, "ParallelStateEntered", 0),
        (3, "ParallelStateStarted", 2),
        (4, "PassStateEntered", 3),
        (5, "PassStateExited", 4),
        (6, "WaitStateEntered", 3),
        (7, "WaitStateExited", 6),
        (8, "PassStateEntered", 7),
        (9, "PassStateExited", 8),
        (10, "ParallelStateSucceeded", 9),
        (11, "ParallelStateExited", 9),
        (12, "ExecutionSucceeded", 11),
    ]
    assert offsets(result) == [0.0] * 6 + [10.0] * 6
    assert detail(result, 3) is None
    assert detail(result, 10) is None
    assert detail(result, 11) == {"name": "Both", "output": '["a","b"]', "outputDetails": NOT_TRUNCATED}


# -- 4. JSONata: lambda:invoke fails, Catch assigns a variable, Fail reads it ---------------------

JSONATA_MACHINE = {
    "QueryLanguage": "JSONata",
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "fn", "Payload": "{% $states.input %}"},
            "Catch": [{
                "ErrorEquals": ["ValueError"], "Next": "Report",
                "Assign": {"reason": "{% $states.errorOutput.Error %}"},
                "Output": {"why": "{% $states.errorOutput.Error %}"},
            }],
            "End": True,
        },
        "Report": {"Type": "Fail", "Error": "{% 'Wrapped.' & $reason %}", "Cause": "{% $states.input.why %}"},
    },
}


def reject(event, context):
    raise ValueError("no")


def test_golden_jsonata_catch_assign_fail():
    result = stepflow.run(JSONATA_MACHINE, {"k": 1}, handlers={"fn": reject}, clock=FakeClock())
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("Wrapped.ValueError", "ValueError")
    assert shape(result) == [
        (1, "ExecutionStarted", 0),
        (2, "TaskStateEntered", 0),
        (3, "TaskScheduled", 2),
        (4, "TaskStarted", 3),
        (5, "TaskFailed", 4),
        (6, "TaskStateExited", 5),
        (7, "FailStateEntered", 6),
        (8, "ExecutionFailed", 7),
    ]
    assert detail(result, 3) == {
        "resourceType": "lambda", "resource": "invoke", "region": "us-east-1",
        "parameters": '{"FunctionName":"fn","Payload":{"k":1}}',
    }
    assert detail(result, 4) == {"resourceType": "lambda", "resource": "invoke"}
    failed = detail(result, 5)
    assert {k: failed[k] for k in ("resourceType", "resource", "error")} == {"resourceType": "lambda", "resource": "invoke", "error": "ValueError"}
    assert json.loads(failed["cause"])["errorMessage"] == "no"
    assert detail(result, 6) == {
        "name": "Call", "output": '{"why":"ValueError"}', "outputDetails": NOT_TRUNCATED,
        "assignedVariables": {"reason": '"ValueError"'}, "assignedVariablesDetails": NOT_TRUNCATED,
    }
    assert detail(result, 7) == {"name": "Report", "input": '{"why":"ValueError"}', "inputDetails": NOT_TRUNCATED}
    assert detail(result, 8) == {"error": "Wrapped.ValueError", "cause": "ValueError"}

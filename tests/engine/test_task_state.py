"""Task with in-process Lambda handlers: the legacy function ARN and ``lambda:invoke``."""

from __future__ import annotations

import json
import time

import pytest
from engine_helpers import Recorder, details, events_of, lambda_arn, single, types

import stepflow

INVOKE = "arn:aws:states:::lambda:invoke"


def boom(event, context):
    raise ValueError("bad input: " + json.dumps(event))


class CustomError(Exception):
    pass


# -- legacy ARN ------------------------------------------------------------------------------


def test_legacy_arn_passes_the_effective_input_and_returns_the_handler_result():
    fn = Recorder(lambda event: {"got": event})
    state = {"Type": "Task", "Resource": lambda_arn("fn"), "Parameters": {"v.$": "$.x"}}
    result = stepflow.run(single(state), {"x": 5}, handlers={"fn": fn})
    assert result.status == "SUCCEEDED"
    assert fn.calls == [{"v": 5}]
    assert result.output == {"got": {"v": 5}}


def test_legacy_arn_history_uses_the_lambda_event_family():
    result = stepflow.run(single({"Type": "Task", "Resource": lambda_arn("fn")}), {"a": 1}, handlers={"fn": Recorder()})
    assert types(result) == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
        "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]
    scheduled = details(events_of(result, "LambdaFunctionScheduled")[0])
    assert scheduled["resource"] == lambda_arn("fn")
    assert json.loads(scheduled["input"]) == {"a": 1}
    assert json.loads(details(events_of(result, "LambdaFunctionSucceeded")[0])["output"]) == {"a": 1}


def test_legacy_arn_with_a_qualifier_finds_the_function():
    state = {"Type": "Task", "Resource": lambda_arn("fn") + ":live"}
    result = stepflow.run(single(state), {"a": 1}, handlers={"fn": Recorder()})
    assert result.status == "SUCCEEDED"
    assert result.output == {"a": 1}


def test_handlers_may_be_keyed_by_arn():
    result = stepflow.run(single({"Type": "Task", "Resource": lambda_arn("fn")}), {}, handlers={lambda_arn("fn"): lambda e, c: 42})
    assert result.output == 42


def test_a_raising_handler_fails_with_the_exception_name_and_lambda_cause():
    result = stepflow.run(single({"Type": "Task", "Resource": lambda_arn("fn")}), {"k": 1}, handlers={"fn": boom})
    assert result.status == "FAILED"
    assert result.error == "ValueError"
    cause = json.loads(result.cause)
    assert cause["errorType"] == "ValueError"
    assert cause["errorMessage"] == 'bad input: {"k": 1}'
    assert isinstance(cause["requestId"], str) and cause["requestId"]
    assert isinstance(cause["stackTrace"], list) and any("boom" in line for line in cause["stackTrace"])
    # The legacy integration keeps the function's own JSON text (Python's ", " separators).
    assert result.cause.startswith('{"errorMessage": ')
    failed = details(events_of(result, "LambdaFunctionFailed")[0])
    assert failed == {"error": "ValueError", "cause": result.cause}


def test_a_custom_exception_class_name_is_the_error():
    def handler(event, context):
        raise CustomError("nope")

    result = stepflow.run(single({"Type": "Task", "Resource": lambda_arn("fn")}), {}, handlers={"fn": handler})
    assert result.error == "CustomError"


def test_unknown_legacy_function_is_resource_not_found():
    result = stepflow.run(single({"Type": "Task", "Resource": lambda_arn("nope")}), {}, handlers={"fn": Recorder()})
    assert result.status == "FAILED"
    assert result.error == "Lambda.ResourceNotFoundException"
    assert result.cause.startswith(f"Function not found: {lambda_arn('nope')}")
    assert "Status Code: 404" in result.cause


def test_handler_gets_a_lambda_context():
    seen = {}

    def handler(event, context):
        seen.update(name=context.function_name, arn=context.invoked_function_arn,
                    remaining=context.get_remaining_time_in_millis(), request=context.aws_request_id)
        return None

    result = stepflow.run(single({"Type": "Task", "Resource": lambda_arn("fn")}), {}, handlers={"fn": handler})
    assert result.status == "SUCCEEDED"
    assert result.output is None
    assert seen["name"] == "fn"
    assert seen["arn"] == lambda_arn("fn")
    assert seen["remaining"] > 0
    assert seen["request"]


# -- lambda:invoke ---------------------------------------------------------------------------


def invoke_state(function_name: str = "fn", **extra) -> dict:
    return {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": function_name, "Payload.$": "$"}, **extra}


def test_invoke_wraps_the_payload_in_the_lambda_invoke_response():
    result = stepflow.run(single(invoke_state()), {"n": 1}, handlers={"fn": lambda e, c: {"double": e["n"] * 2}})
    assert result.status == "SUCCEEDED"
    out = result.output
    assert out["Payload"] == {"double": 2}
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert out["SdkResponseMetadata"]["RequestId"]


def test_invoke_history_uses_the_task_event_family():
    result = stepflow.run(single(invoke_state()), {"n": 1}, handlers={"fn": Recorder()})
    assert types(result) == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded",
    ]
    scheduled = details(events_of(result, "TaskScheduled")[0])
    assert scheduled["resourceType"] == "lambda"
    assert scheduled["resource"] == "invoke"
    assert scheduled["region"] == "us-east-1"
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "fn", "Payload": {"n": 1}}
    assert details(events_of(result, "TaskStarted")[0]) == {"resourceType": "lambda", "resource": "invoke"}


def test_invoke_result_selector_picks_the_payload():
    state = invoke_state(ResultSelector={"value.$": "$.Payload"}, ResultPath="$.result")
    result = stepflow.run(single(state), {"n": 3}, handlers={"fn": lambda e, c: e["n"] + 1})
    assert result.output == {"n": 3, "result": {"value": 4}}


def test_invoke_accepts_a_function_arn():
    result = stepflow.run(single(invoke_state(lambda_arn("fn") + ":$LATEST")), {}, handlers={"fn": lambda e, c: "ok"})
    assert result.output["Payload"] == "ok"


def test_invoke_failure_cause_is_compact_json():
    result = stepflow.run(single(invoke_state()), {"k": 1}, handlers={"fn": boom})
    assert result.status == "FAILED"
    assert result.error == "ValueError"
    cause = json.loads(result.cause)
    assert set(cause) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert result.cause.startswith('{"errorMessage":"')
    failed = details(events_of(result, "TaskFailed")[0])
    assert failed["resourceType"] == "lambda" and failed["resource"] == "invoke"
    assert failed["error"] == "ValueError"


def test_invoke_unknown_function_is_resource_not_found():
    result = stepflow.run(single(invoke_state("nope")), {}, handlers={"fn": Recorder()})
    assert result.status == "FAILED"
    assert result.error == "Lambda.ResourceNotFoundException"
    assert "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope" in result.cause


def test_unsupported_service_resource_fails_the_state_clearly():
    resource = "arn:aws:states:::aws-sdk:dynamodb:putItem"
    state = {"Type": "Task", "Resource": resource, "Parameters": {"TableName": "t", "Item": {}}}
    result = stepflow.run(single(state), {})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert resource in result.cause and "does not support" in result.cause


# -- TimeoutSeconds (small real time; only statuses are asserted) ---------------------------


def sleepy(seconds: float):
    def handler(event, context):
        time.sleep(seconds)
        return "late"

    return handler


def test_task_timeout_fails_with_states_timeout():
    state = {"Type": "Task", "Resource": lambda_arn("fn"), "TimeoutSeconds": 1}
    result = stepflow.run(single(state), {}, handlers={"fn": sleepy(1.0)}, time_scale=0.02)
    assert result.status == "FAILED"
    assert result.error == "States.Timeout"
    assert "LambdaFunctionTimedOut" in types(result)


def test_task_timeout_path_reads_the_timeout_from_input():
    state = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "fn"}, "TimeoutSecondsPath": "$.t"}
    result = stepflow.run(single(state), {"t": 1}, handlers={"fn": sleepy(1.0)}, time_scale=0.02)
    assert result.error == "States.Timeout"
    assert "TaskTimedOut" in types(result)


def test_a_fast_task_finishes_within_its_timeout():
    state = {"Type": "Task", "Resource": lambda_arn("fn"), "TimeoutSeconds": 100}
    result = stepflow.run(single(state), {}, handlers={"fn": lambda e, c: "quick"}, time_scale=0.02)
    assert result.status == "SUCCEEDED"
    assert result.output == "quick"


@pytest.mark.parametrize("bad", [0, -1, "x"])
def test_timeout_seconds_path_must_be_a_positive_integer(bad):
    state = {"Type": "Task", "Resource": lambda_arn("fn"), "TimeoutSecondsPath": "$.t"}
    result = stepflow.run(single(state), {"t": bad}, handlers={"fn": Recorder()})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"

"""TestState: one state, its data flow at DEBUG, mocks, Retry/Catch outcomes, checks."""

from __future__ import annotations

import asyncio
import json

import pytest
from api_helpers import make_runtime

from stepflow.errors import ApiError

IO_INPUT = {"initialData": {"fieldFromInput": "value from input", "otherField": "other"}, "unrelatedData": {"someOtherField": 1234}}
IO_PASS = {"Type": "Pass", "InputPath": "$.initialData", "ResultPath": "$.modifiedData", "End": True,
           "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"}}
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:double"


def run(svc, state, value=None, **kw):
    return asyncio.run(svc.test_state(definition=json.dumps(state), input=json.dumps(value if value is not None else {}), **kw))


def loads(inspection):
    return {k: json.loads(v) if isinstance(v, str) else v for k, v in inspection.items()}


def test_info_level_gives_output_only(svc):
    out = run(svc, IO_PASS, IO_INPUT)
    assert out["status"] == "SUCCEEDED" and "inspectionData" not in out
    assert json.loads(out["output"])["modifiedData"] == {"staticValue": "some value", "inputValue": "value from input"}


def test_debug_shows_each_data_flow_step_as_aws_records_it(svc):
    out = run(svc, IO_PASS, IO_INPUT, inspectionLevel="DEBUG")
    data = loads(out["inspectionData"])
    assert data == {
        "input": IO_INPUT,
        "afterInputPath": IO_INPUT["initialData"],
        "afterParameters": {"staticValue": "some value", "inputValue": "value from input"},
        "afterResultSelector": {"staticValue": "some value", "inputValue": "value from input"},
        "afterResultPath": {**IO_INPUT, "modifiedData": {"staticValue": "some value", "inputValue": "value from input"}},
    }


def test_pass_with_result_shows_result_not_parameters(svc):
    out = run(svc, {"Type": "Pass", "Result": {"r": 1}, "Next": "After"}, {"v": 0}, inspectionLevel="TRACE")
    assert out["nextState"] == "After"
    assert set(out["inspectionData"]) == {"input", "result", "afterResultSelector", "afterResultPath"}


def test_choice_gives_next_state_and_fail_gives_error(svc):
    choice = {"Type": "Choice", "Choices": [{"Variable": "$.value", "NumericGreaterThan": 19, "Next": "Twenties"}], "Default": "Other"}
    assert run(svc, choice, {"value": 22})["nextState"] == "Twenties"
    assert run(svc, choice, {"value": 2})["nextState"] == "Other"
    failed = run(svc, {"Type": "Fail", "Error": "SomeFailure", "Cause": "because"}, {}, inspectionLevel="DEBUG")
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "SomeFailure", "because")
    assert set(failed["inspectionData"]) == {"input", "afterInputPath"}


def test_task_runs_the_real_lambda_handler():
    rt = make_runtime(handlers={"double": lambda event, context: {"n": event["n"] * 2}})
    state = {"Type": "Task", "Resource": LAMBDA, "ResultSelector": {"doubled.$": "$.n"}, "ResultPath": "$.out", "End": True}
    out = run(rt.service, state, {"n": 21}, inspectionLevel="DEBUG")
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"n": 21, "out": {"doubled": 42}}
    assert json.loads(out["inspectionData"]["result"]) == {"n": 42}


def test_mocked_result_skips_the_resource(svc):
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "End": True,
             "Parameters": {"FunctionName": "nowhere", "Payload": {"token.$": "$$.Task.Token"}}}
    out = run(svc, state, {}, mock={"result": '{"ok": true}'}, inspectionLevel="DEBUG")
    assert out["status"] == "SUCCEEDED" and json.loads(out["output"]) == {"ok": True}


RETRY_CATCH = {
    "Type": "Task", "Resource": LAMBDA, "Next": "Success",
    "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "HandleError"}],
}


def test_mocked_error_is_retriable_then_caught(svc):
    mock = {"errorOutput": {"error": "Lambda.ServiceException", "cause": "Service error"}}
    retriable = run(svc, RETRY_CATCH, {"data": "value"}, mock=mock, stateConfiguration={"retrierRetryCount": 1}, inspectionLevel="DEBUG")
    assert retriable["status"] == "RETRIABLE"
    assert retriable["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 4}
    caught = run(svc, RETRY_CATCH, {"data": "value"}, mock=mock, stateConfiguration={"retrierRetryCount": 3}, inspectionLevel="DEBUG")
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "HandleError")
    assert json.loads(caught["output"]) == {"data": "value", "error": {"Error": "Lambda.ServiceException", "Cause": "Service error"}}
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    other = run(svc, {**RETRY_CATCH, "Catch": []}, {}, mock={"errorOutput": {"error": "Other"}})
    assert (other["status"], other["error"]) == ("FAILED", "Other")


def test_variables_and_assign(svc):
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "Assign": {"total": "{% $count + 1 %}"}, "Output": "{% $count %}", "End": True}
    out = run(svc, state, {}, variables=json.dumps({"count": 4}), inspectionLevel="DEBUG")
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == 4
    assert json.loads(out["inspectionData"]["variables"]) == {"count": 4, "total": 5}


def test_map_and_parallel_need_a_mock_and_check_its_shape(svc):
    parallel = {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}
    with pytest.raises(ApiError) as err:
        run(svc, parallel, {})
    assert err.value.code == "InvalidDefinition" and "does not support Map or Parallel" in err.value.message
    with pytest.raises(ApiError) as err:
        run(svc, parallel, {}, mock={"result": "[1]"})
    assert err.value.message == "Mocked result must contain the same number of items as number of Parallel branches."
    assert json.loads(run(svc, parallel, {}, mock={"result": "[1, 2]"})["output"]) == [1, 2]
    map_state = {"Type": "Map", "ItemsPath": "$.xs", "MaxConcurrency": 1, "End": True,
                 "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    out = run(svc, map_state, {"xs": [1, 2, 3]}, mock={"result": "[1, 1, 1]"}, inspectionLevel="DEBUG")
    assert out["inspectionData"]["maxConcurrency"] == 1 and json.loads(out["inspectionData"]["afterItemsPath"]) == [1, 2, 3]


@pytest.mark.parametrize("kwargs, code, message", [
    ({"mock": {"result": "{}"}}, "ValidationException", "State type 'Pass' is not supported when a mock is specified"),
    ({"context": "{}"}, "ValidationException", "The context field may only be specified if a mock is specified."),
    ({"inspectionLevel": "LOUD"}, "ValidationException", None),
])
def test_request_checks(svc, kwargs, code, message):
    with pytest.raises(ApiError) as err:
        run(svc, {"Type": "Pass", "End": True}, {}, **kwargs)
    assert err.value.code == code
    if message:
        assert err.value.message == message


def test_both_mock_fields_and_invalid_definitions(svc):
    task = {"Type": "Task", "Resource": LAMBDA, "End": True}
    with pytest.raises(ApiError) as err:
        run(svc, task, {}, mock={"result": "{}", "errorOutput": {"error": "E"}})
    assert err.value.message == "A test mock should have only one of the following fields: [result, errorOutput]."
    with pytest.raises(ApiError) as err:
        run(svc, {"Type": "Pass", "Bogus": 1, "End": True}, {})
    assert err.value.code == "InvalidDefinition"
    with pytest.raises(ApiError) as err:
        asyncio.run(svc.test_state(definition=json.dumps({"Type": "Pass", "End": True}), input="{nope"))
    assert err.value.code == "InvalidExecutionInput"


def test_state_name_picks_a_state_of_a_whole_machine(svc):
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "Next": "B"}, "B": {"Type": "Pass", "Result": 2, "End": True}}}
    out = asyncio.run(svc.test_state(definition=json.dumps(machine), stateName="B", input="{}"))
    assert json.loads(out["output"]) == 2 and "nextState" not in out

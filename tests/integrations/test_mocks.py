"""Mocks: the Step Functions Local MockConfigFile (its exact rules) and Python mock functions.

Rules under test (AWS, "Using mocked service integrations for testing in Step Functions Local"):
one invocation counter per state per execution, advanced by every invocation (retries, Map
iterations, re-entries); "N" and inclusive "A-B" keys; Return (the task's whole result) and Throw;
the ``#TestCase`` suffix on StartExecution's state machine ARN; states a test case does not name
call the real integration; an invocation with no response fails with States.Runtime.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import stepflow
from stepflow.cli.main import cli
from stepflow.errors import ApiError, ConfigurationError
from stepflow.integrations.mocks import MockConfig
from stepflow.testing import Server, wait_for_execution

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEMPLATE = FIXTURES / "sam_app" / "template.yaml"
ROLE_ARN = "arn:aws:iam::123456789012:role/test"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def throw(error: str, cause: str = "") -> dict:
    return {"Throw": {"Error": error, "Cause": cause}}


def returns(value) -> dict:
    return {"Return": value}


def invoke_lambda(name: str, **fields) -> dict:
    """A Task state calling ``lambda:invoke`` on the function ``echo``."""
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName": LAMBDA_ARN, "Payload.$": "$"}}
    state.update(fields)
    return state


def machine(states: dict, start: str) -> dict:
    return {"StartAt": start, "States": states}


def config(cases: dict, responses: dict, name: str = "Machine") -> dict:
    return {"StateMachines": {name: {"TestCases": cases}}, "MockedResponses": responses}


def events(result, *types: str) -> list[dict]:
    return [e for e in result.history if e["type"] in types]


def details(event: dict) -> dict:
    return next(v for k, v in event.items() if k.endswith("EventDetails"))


def never_called(event, context):
    raise AssertionError("the real integration was called for a mocked state")


# AWS's documented example: LambdaState retried three times, then SQSState.
RETRY_ALL = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]
LAMBDA_SQS = machine({
    "LambdaState": invoke_lambda("LambdaState", Retry=RETRY_ALL, Next="SQSState"),
    "SQSState": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody.$": "$"},
                 "End": True},
}, "LambdaState")
LAMBDA_OK = {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}
SQS_OK = {"MD5OfMessageBody": "3bcb6e8e", "MessageId": "3bcb6e8e-8b51"}
AWS_EXAMPLE = {
    "StateMachines": {"LambdaSQSIntegration": {"TestCases": {
        "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
        "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
        "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
    }}},
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": returns(LAMBDA_OK)},
        "MockedSQSSuccess": {"0": returns(SQS_OK)},
        "MockedLambdaRetry": {
            "0": throw("Lambda.ResourceNotReadyException", "Lambda resource is not ready."),
            "1-2": throw("Lambda.TimeoutException", "Lambda timed out."),
            "3": returns(LAMBDA_OK),
        },
    },
}


# -- the file format ---------------------------------------------------------------------------------


def test_load_reads_a_file_and_finds_each_invocation(tmp_path):
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(AWS_EXAMPLE))
    loaded = MockConfig.load(path)
    assert loaded.response_name("LambdaSQSIntegration", "RetryPath", "LambdaState") == "MockedLambdaRetry"
    assert loaded.response_name("LambdaSQSIntegration", "HybridPath", "SQSState") is None
    kinds = [loaded.answer("MockedLambdaRetry", n) for n in range(5)]
    assert [a.error if a else None for a in kinds[:3]] == [
        "Lambda.ResourceNotReadyException", "Lambda.TimeoutException", "Lambda.TimeoutException"]
    assert kinds[3].returns == LAMBDA_OK and kinds[3].error is None
    assert kinds[4] is None


@pytest.mark.parametrize("responses, message", [
    ({"R": {"x": returns(1)}}, "numbers"),
    ({"R": {"2-1": returns(1)}}, "ends before it starts"),
    ({"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}}, "exactly one field"),
    ({"R": {"0": {"Returns": 1}}}, "exactly one field"),
    ({"R": {"0": {"Throw": {"Cause": "no error"}}}}, "Error string"),
    ({"R": {"0-2": returns(1), "2": returns(2)}}, "overlapping"),
    ({"R": []}, "JSON object"),
])
def test_malformed_responses_are_refused_with_their_location(responses, message):
    with pytest.raises(ConfigurationError, match=message):
        MockConfig.load({"StateMachines": {}, "MockedResponses": responses})


def test_a_test_case_must_name_responses_by_string():
    with pytest.raises(ConfigurationError, match=r"StateMachines\.M\.TestCases\.C\.S"):
        MockConfig.load(config({"C": {"S": 3}}, {}, name="M"))


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        MockConfig.load(path)


def test_return_can_be_any_json_value_and_is_not_shared_between_invocations():
    loaded = MockConfig.load(config({}, {"R": {"0-1": returns([1, {"a": None}])}}))
    first = loaded.answer("R", 0).result().output
    first[1]["a"] = "changed"
    assert loaded.answer("R", 1).result().output == [1, {"a": None}]


# -- the rules, through stepflow.run ----------------------------------------------------------------


def run_case(definition, mock_config, case, **kwargs):
    kwargs.setdefault("handlers", {"echo": never_called})
    return stepflow.run(definition, {"in": 1}, mock_config=mock_config, test_case=case, **kwargs)


def test_happy_path_mocks_every_named_state_with_the_whole_result():
    result = run_case(LAMBDA_SQS, AWS_EXAMPLE, "HappyPath")
    assert result.status == "SUCCEEDED"
    assert result.output == SQS_OK
    lambda_done = events(result, "TaskSucceeded")[0]
    assert json.loads(details(lambda_done)["output"]) == LAMBDA_OK  # the Return as written, Payload and all
    sqs_sent = json.loads(details(events(result, "TaskScheduled")[1])["parameters"])
    assert sqs_sent["MessageBody"] == LAMBDA_OK


def test_history_of_a_mocked_task_is_the_history_of_a_real_call():
    types = [e["type"] for e in run_case(LAMBDA_SQS, AWS_EXAMPLE, "HappyPath").history]
    assert types == [
        "ExecutionStarted",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_retries_consume_the_next_responses_and_ranges_cover_several():
    result = run_case(LAMBDA_SQS, AWS_EXAMPLE, "RetryPath")
    assert result.status == "SUCCEEDED"
    failures = [(details(e)["error"], details(e)["cause"]) for e in events(result, "TaskFailed")]
    assert failures == [
        ("Lambda.ResourceNotReadyException", "Lambda resource is not ready."),
        ("Lambda.TimeoutException", "Lambda timed out."),
        ("Lambda.TimeoutException", "Lambda timed out."),
    ]
    assert len(events(result, "TaskScheduled")) == 5  # 4 Lambda attempts + SQS


def test_running_out_of_responses_fails_with_states_runtime_whatever_the_retry_says():
    short = {**AWS_EXAMPLE["MockedResponses"], "MockedLambdaRetry": {"0-1": throw("Lambda.TimeoutException", "t")}}
    result = run_case(LAMBDA_SQS, {**AWS_EXAMPLE, "MockedResponses": short}, "RetryPath")
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "invocation 2 of state 'LambdaState'" in result.cause
    assert "MockedLambdaRetry" in result.cause
    assert len(events(result, "TaskScheduled")) == 3  # States.ALL does not retry States.Runtime


def test_a_response_with_no_entries_fails_when_the_state_runs():
    mock = config({"C": {"LambdaState": "Empty"}}, {"Empty": {}})
    result = run_case(machine({"LambdaState": invoke_lambda("LambdaState", End=True)}, "LambdaState"), mock, "C")
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_a_response_name_missing_from_mocked_responses_fails_when_the_state_runs():
    mock = config({"C": {"LambdaState": "Nowhere"}}, {})
    result = run_case(machine({"LambdaState": invoke_lambda("LambdaState", End=True)}, "LambdaState"), mock, "C")
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "Nowhere" in result.cause


def test_a_thrown_error_is_caught_by_catch():
    definition = machine({
        "Call": invoke_lambda("Call", Retry=[{"ErrorEquals": ["Busy"], "MaxAttempts": 1}],
                              Catch=[{"ErrorEquals": ["Order.Invalid"], "ResultPath": "$.error", "Next": "Handle"}],
                              Next="Done"),
        "Handle": {"Type": "Pass", "End": True},
        "Done": {"Type": "Succeed"},
    }, "Call")
    mock = config({"C": {"Call": "R"}}, {"R": {"0": throw("Busy", "later"), "1": throw("Order.Invalid", "no items")}})
    result = run_case(definition, mock, "C")
    assert result.status == "SUCCEEDED"
    assert result.output == {"in": 1, "error": {"Error": "Order.Invalid", "Cause": "no items"}}
    assert [e["type"] for e in result.history][-3:] == ["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_map_iterations_and_their_retries_share_the_state_counter():
    definition = machine({
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": True,
                 "ItemProcessor": {"StartAt": "Work", "States": {
                     "Work": invoke_lambda("Work", Retry=[{"ErrorEquals": ["Flaky"], "MaxAttempts": 2}], End=True)}}},
    }, "Each")
    responses = {"R": {"0": throw("Flaky"), "1": returns("a"), "2-3": returns("b"), "4": returns("c")}}
    result = stepflow.run(definition, {"items": [1, 2, 3, 4]}, mock_config=config({"C": {"Work": "R"}}, responses),
                          test_case="C", handlers={"echo": never_called})
    assert result.status == "SUCCEEDED"
    assert result.output == ["a", "b", "b", "c"]  # invocations 0 (Throw) and 1 by item 0, then 2, 3, 4


def test_re_entering_a_state_takes_the_next_response():
    definition = {"QueryLanguage": "JSONata", "StartAt": "Poll", "States": {
        "Poll": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Arguments": {"FunctionName": LAMBDA_ARN, "Payload": {}},
                 "Assign": {"status": "{% $states.result.Payload.status %}"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $status = 'done' %}", "Next": "Finish"}], "Default": "Poll"},
        "Finish": {"Type": "Succeed"},
    }}
    responses = {"R": {"0-1": returns({"Payload": {"status": "running"}}), "2": returns({"Payload": {"status": "done"}})}}
    result = run_case(definition, config({"C": {"Poll": "R"}}, responses), "C")
    assert result.status == "SUCCEEDED"
    assert len(events(result, "TaskSucceeded")) == 3


def test_states_a_test_case_does_not_name_call_the_real_integration():
    calls = []

    def echo(event, context):
        calls.append(event)
        return {"echoed": event}

    definition = machine({
        "LambdaState": invoke_lambda("LambdaState", Next="Real"),
        "Real": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True},
    }, "LambdaState")
    mock = config({"HybridPath": {"LambdaState": "Ok"}}, {"Ok": {"0": returns(LAMBDA_OK)}})
    result = run_case(definition, mock, "HybridPath", handlers={"echo": echo})
    assert result.status == "SUCCEEDED"
    assert calls == [LAMBDA_OK]  # only the state the test case does not name reached the function
    assert result.output == {"echoed": LAMBDA_OK}


def test_without_a_test_case_nothing_from_the_config_is_used():
    definition = machine({"Real": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True}}, "Real")
    mock = config({"C": {"Real": "Ok"}}, {"Ok": {"0": returns("mocked")}})
    result = stepflow.run(definition, {"x": 1}, mock_config=mock, handlers={"echo": lambda e, c: "real"})
    assert result.output == "real"


def test_a_legacy_lambda_resource_keeps_its_lambda_history_events():
    definition = machine({"Fn": {"Type": "Task", "Resource": LAMBDA_ARN, "Next": "Fn2"},
                          "Fn2": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True}}, "Fn")
    mock = config({"C": {"Fn": "Ok", "Fn2": "Bad"}}, {"Ok": {"0": returns({"x": 1})}, "Bad": {"0": throw("Boom", "b")}})
    result = run_case(definition, mock, "C")
    assert (result.status, result.error, result.cause) == ("FAILED", "Boom", "b")
    types = [e["type"] for e in result.history]
    assert types.count("LambdaFunctionScheduled") == 2
    assert "LambdaFunctionSucceeded" in types and "LambdaFunctionFailed" in types


def test_a_mocked_callback_task_answers_without_waiting_for_a_token():
    definition = machine({"Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                                  "Parameters": {"FunctionName": LAMBDA_ARN, "Payload": {"token.$": "$$.Task.Token"}},
                                  "End": True}}, "Ask")
    result = run_case(definition, config({"C": {"Ask": "R"}}, {"R": {"0": returns({"approved": True})}}), "C")
    assert (result.status, result.output) == ("SUCCEEDED", {"approved": True})


def test_an_unknown_test_case_is_refused_at_start():
    with pytest.raises(ApiError, match="Test case 'Nope'") as caught:
        run_case(LAMBDA_SQS, AWS_EXAMPLE, "Nope")
    assert caught.value.code == "ValidationException"


def test_a_state_machine_missing_from_the_config_is_refused_at_start():
    with pytest.raises(ApiError, match="'Other' is not defined"):
        run_case(LAMBDA_SQS, AWS_EXAMPLE, "HappyPath", state_machine_name="Other")


def test_a_config_with_several_state_machines_needs_a_name():
    two = {**AWS_EXAMPLE, "StateMachines": {**AWS_EXAMPLE["StateMachines"], "Second": {"TestCases": {}}}}
    with pytest.raises(ApiError, match=r"'stepflow-run' is not defined .*LambdaSQSIntegration, Second"):
        run_case(LAMBDA_SQS, two, "HappyPath")
    result = run_case(LAMBDA_SQS, two, "HappyPath", state_machine_name="LambdaSQSIntegration")
    assert result.output == SQS_OK


def test_a_template_state_machine_is_looked_up_by_its_own_name():
    both = {"StateMachines": {"Machine": {"TestCases": {"Hi": {"Greet": "Hello"}}}, "Other": {"TestCases": {}}},
            "MockedResponses": {"Hello": {"0": returns({"Payload": {"message": "mocked", "stage": "none"}})}}}
    result = stepflow.run("Machine", {"name": "x"}, template=str(TEMPLATE), mock_config=both, test_case="Hi")
    assert result.output == {"message": "mocked", "stage": "none"}


def test_a_test_case_without_a_mock_config_is_refused():
    with pytest.raises(ApiError, match="no mock configuration"):
        stepflow.run(LAMBDA_SQS, {}, test_case="HappyPath")


# -- Python mocks ---------------------------------------------------------------------------------


def test_a_python_mock_by_state_name_gets_the_parameters_and_gives_the_result():
    seen = []

    def sqs(parameters):
        seen.append(parameters)
        return {"MessageId": "m-1"}

    result = stepflow.run(LAMBDA_SQS, {"n": 1}, mocks={"SQSState": sqs, "LambdaState": lambda p: {"Payload": p["Payload"]}})
    assert result.status == "SUCCEEDED"
    assert result.output == {"MessageId": "m-1"}
    assert seen == [{"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody": {"Payload": {"n": 1}}}]


@pytest.mark.parametrize("key", ["echo", LAMBDA_ARN, "arn:aws:states:::lambda:invoke", "lambda:invoke"])
def test_a_python_mock_by_function_name_function_arn_resource_or_service_action(key):
    definition = machine({"Call": invoke_lambda("Call", End=True)}, "Call")
    result = stepflow.run(definition, {"v": 2}, mocks={key: lambda p: {"StatusCode": 200, "Payload": p["Payload"]["v"] * 10}},
                          handlers={"echo": never_called})
    assert result.output == {"StatusCode": 200, "Payload": 20}


def test_a_python_mock_for_a_legacy_lambda_resource_by_function_name():
    definition = machine({"Fn": {"Type": "Task", "Resource": LAMBDA_ARN + ":live", "End": True}}, "Fn")
    result = stepflow.run(definition, {"a": 1}, mocks={"echo": lambda event: {"got": event}}, handlers={"echo": never_called})
    assert result.output == {"got": {"a": 1}}
    assert "LambdaFunctionSucceeded" in [e["type"] for e in result.history]


def test_a_python_mock_fails_the_task_by_raising_states_error_and_catch_sees_it():
    def reject(parameters):
        raise stepflow.StatesError("Order.Rejected", "total is negative")

    definition = machine({
        "Call": invoke_lambda("Call", Catch=[{"ErrorEquals": ["Order.Rejected"], "Next": "Caught"}], End=True),
        "Caught": {"Type": "Pass", "End": True},
    }, "Call")
    result = stepflow.run(definition, {}, mocks={"Call": reject})
    assert result.status == "SUCCEEDED"
    assert result.output == {"Error": "Order.Rejected", "Cause": "total is negative"}
    failed = details(events(result, "TaskFailed")[0])
    assert (failed["error"], failed["cause"]) == ("Order.Rejected", "total is negative")


def test_any_other_exception_in_a_python_mock_fails_the_task_with_its_class_name():
    def broken(parameters):
        raise KeyError("missing")

    result = stepflow.run(machine({"Call": invoke_lambda("Call", End=True)}, "Call"), {}, mocks={"Call": broken})
    assert (result.status, result.error) == ("FAILED", "KeyError")


def test_an_async_python_mock_is_awaited():
    async def later(parameters):
        return "async result"

    result = stepflow.run(machine({"Call": invoke_lambda("Call", End=True)}, "Call"), {}, mocks={"Call": later})
    assert result.output == "async result"


def test_the_mock_config_comes_before_python_mocks():
    result = stepflow.run(LAMBDA_SQS, {}, mock_config=AWS_EXAMPLE, test_case="HybridPath",
                          mocks={"LambdaState": lambda p: "python", "SQSState": lambda p: {"python": True}})
    assert result.output == {"python": True}
    assert json.loads(details(events(result, "TaskSucceeded")[0])["output"]) == LAMBDA_OK


# -- stepflow run ---------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    definition = tmp_path / "statemachine.asl.json"
    definition.write_text(json.dumps(LAMBDA_SQS))
    mock = tmp_path / "MockConfigFile.json"
    mock.write_text(json.dumps(AWS_EXAMPLE))
    return str(definition), str(mock)


def cli_run(*args: str):
    return CliRunner().invoke(cli, ["run", *args], catch_exceptions=False)


def test_cli_run_with_a_mock_config_and_test_case(files):
    definition, mock = files
    result = cli_run(definition, "--mock-config", mock, "--test-case", "RetryPath", "--history")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == SQS_OK
    history = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["type"] for e in history].count("TaskFailed") == 3


def test_cli_run_names_the_state_machine_of_the_config(files, tmp_path):
    definition, _ = files
    two = tmp_path / "two.json"
    two.write_text(json.dumps({**AWS_EXAMPLE, "StateMachines": {**AWS_EXAMPLE["StateMachines"], "B": {"TestCases": {"X": {}}}}}))
    unnamed = cli_run(definition, "--mock-config", str(two), "--test-case", "HappyPath")
    assert unnamed.exit_code == 2 and "B, LambdaSQSIntegration" in unnamed.stderr
    named = cli_run(definition, "--mock-config", str(two), "--test-case", "HappyPath", "--state-machine-name", "LambdaSQSIntegration")
    assert named.exit_code == 0 and json.loads(named.stdout) == SQS_OK


def test_cli_run_refuses_an_unknown_test_case_and_half_the_options(files):
    definition, mock = files
    unknown = cli_run(definition, "--mock-config", mock, "--test-case", "Nope")
    assert unknown.exit_code == 2 and "Test case 'Nope'" in unknown.stderr
    assert cli_run(definition, "--test-case", "HappyPath").exit_code == 2
    assert cli_run(definition, "--mock-config", mock).exit_code == 2


def test_cli_run_exits_1_when_the_mocks_run_out(files, tmp_path):
    definition, _ = files
    short = tmp_path / "short.json"
    short.write_text(json.dumps({**AWS_EXAMPLE, "MockedResponses": {**AWS_EXAMPLE["MockedResponses"], "MockedSQSSuccess": {}}}))
    result = cli_run(definition, "--mock-config", str(short), "--test-case", "HappyPath")
    assert result.exit_code == 1 and "States.Runtime" in result.stderr


def test_cli_run_reports_a_malformed_mock_config(files, tmp_path):
    definition, _ = files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"MockedResponses": {"R": {"zero": {"Return": 1}}}}))
    result = cli_run(definition, "--mock-config", str(bad), "--test-case", "C")
    assert result.exit_code == 2 and "MockedResponses.R.zero" in result.stderr


# -- stepflow serve --mock-config, driven by boto3 -----------------------------------------------------


@pytest.fixture
def serve(tmp_path):
    """``serve(mock_config, store, time_scale)``: a running ``stepflow serve --mock-config`` with
    that MockConfigFile and the fixture SAM template; every one started is stopped after the test."""
    started: list[Server] = []

    def _serve(mock_config: dict, store: str = "memory://", time_scale: float = 0.0) -> Server:
        path = tmp_path / "MockConfigFile.json"
        path.write_text(json.dumps(mock_config))
        started.append(Server("--template", str(TEMPLATE), "--mock-config", str(path), "--time-scale", str(time_scale),
                              "--log-level", "error", store=store, cwd=tmp_path))
        return started[-1].start()

    yield _serve
    for server in started:
        server.stop()


def test_serve_runs_the_test_case_named_by_the_arn_suffix(serve):
    sfn = serve(AWS_EXAMPLE).client()
    arn = sfn.create_state_machine(name="LambdaSQSIntegration", definition=json.dumps(LAMBDA_SQS), roleArn=ROLE_ARN)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=f"{arn}#RetryPath", name="retry-path", input="{}")
    assert started["executionArn"] == arn.replace(":stateMachine:", ":execution:") + ":retry-path"
    described = wait_for_execution(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["stateMachineArn"] == arn
    assert json.loads(described["output"]) == SQS_OK
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert [e["type"] for e in history].count("TaskFailed") == 3


def test_serve_hybrid_path_calls_the_real_function_for_states_the_case_does_not_name(serve):
    sfn = serve(AWS_EXAMPLE).client()
    definition = machine({"LambdaState": invoke_lambda("LambdaState", Next="SQSState"),
                          "SQSState": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True}}, "LambdaState")
    arn = sfn.create_state_machine(name="LambdaSQSIntegration", definition=json.dumps(definition), roleArn=ROLE_ARN)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=f"{arn}#HybridPath", input="{}")
    described = wait_for_execution(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == LAMBDA_OK  # the echo function of the SAM template, for real


def test_serve_refuses_unknown_test_cases_and_state_machines(serve):
    from botocore.exceptions import ClientError

    sfn = serve(AWS_EXAMPLE).client()
    arn = sfn.create_state_machine(name="LambdaSQSIntegration", definition=json.dumps(LAMBDA_SQS), roleArn=ROLE_ARN)["stateMachineArn"]
    other = sfn.create_state_machine(name="NotInTheFile", definition=json.dumps(LAMBDA_SQS), roleArn=ROLE_ARN)["stateMachineArn"]
    for target in (f"{arn}#Nope", f"{other}#HappyPath"):
        with pytest.raises(ClientError) as caught:
            sfn.start_execution(stateMachineArn=target, input="{}")
        assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_serve_without_the_suffix_calls_the_real_integrations(serve):
    sfn = serve(AWS_EXAMPLE).client()
    definition = machine({"LambdaState": invoke_lambda("LambdaState", End=True, OutputPath="$.Payload")}, "LambdaState")
    arn = sfn.create_state_machine(name="LambdaSQSIntegration", definition=json.dumps(definition), roleArn=ROLE_ARN)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, input='{"real": true}')
    assert json.loads(wait_for_execution(sfn, started["executionArn"])["output"]) == {"real": True}


COUNTING = machine({
    "Count": invoke_lambda("Count", Next="Pause"),
    "Pause": {"Type": "Wait", "Seconds": 4, "Next": "Enough"},
    "Enough": {"Type": "Choice", "Choices": [{"Variable": "$.Payload", "NumericEquals": 2, "Next": "Done"}], "Default": "Count"},
    "Done": {"Type": "Succeed"},
}, "Count")
COUNTING_MOCKS = config({"Counting": {"Count": "Numbers"}}, {"Numbers": {"0": returns({"Payload": 0}), "1": returns({"Payload": 1}),
                                                                          "2": returns({"Payload": 2})}}, name="Counter")


def test_counters_survive_a_crash_so_no_response_is_used_twice(serve, tmp_path):
    store = f"sqlite:///{tmp_path}/mocks.db"
    first = serve(COUNTING_MOCKS, store=store, time_scale=0.5)
    sfn = first.client()
    arn = sfn.create_state_machine(name="Counter", definition=json.dumps(COUNTING), roleArn=ROLE_ARN)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=f"{arn}#Counting", name="crash", input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while len(_outputs(sfn, execution)) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.kill()  # SIGKILL during the first Wait: invocation 0 is recorded, its counter with it

    sfn = serve(COUNTING_MOCKS, store=store, time_scale=0.5).client()
    described = wait_for_execution(sfn, execution, timeout=40)
    assert described["status"] == "SUCCEEDED", described
    assert _outputs(sfn, execution) == [{"Payload": 0}, {"Payload": 1}, {"Payload": 2}]


def _outputs(sfn, arn: str) -> list:
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [json.loads(e["taskSucceededEventDetails"]["output"]) for e in history if e["type"] == "TaskSucceeded"]

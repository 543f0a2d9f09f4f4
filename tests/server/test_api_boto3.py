"""The Step Functions API of ``stepflow serve``, driven by boto3 exactly as against AWS."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.exceptions import ClientError

from stepflow.testing import wait_for_execution

ROLE_ARN = "arn:aws:iam::123456789012:role/test"

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"done": True}, "End": True}}}
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "End": True}}}
BOOM = {"StartAt": "Boom", "States": {"Boom": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:boom", "End": True}}}
LONG_WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def create(sfn, name: str, definition: dict = PASS, **extra) -> str:
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN, **extra)["stateMachineArn"]


def error_code(raised: pytest.ExceptionInfo) -> str:
    return raised.value.response["Error"]["Code"]


# -- state machines --------------------------------------------------------------------------------


def test_create_and_describe_state_machine(sfn, unique):
    name = f"sm-{unique}"
    arn = create(sfn, name, tags=[{"key": "team", "value": "data"}])
    assert arn == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == name
    assert described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD"
    assert described["roleArn"] == ROLE_ARN
    assert json.loads(described["definition"]) == PASS
    assert described["creationDate"].year >= 2023


def test_invalid_definition_names_the_location(sfn, unique):
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    with pytest.raises(ClientError) as raised:
        create(sfn, f"bad-{unique}", bad)
    assert error_code(raised) == "InvalidDefinition"
    message = raised.value.response["Error"]["Message"]
    assert "/States/A/Next" in message
    assert "MISSING_TRANSITION_TARGET" in message


def test_definition_that_is_not_json_is_invalid(sfn, unique):
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name=f"bad-{unique}", definition="{not json", roleArn=ROLE_ARN)
    assert error_code(raised) == "InvalidDefinition"


@pytest.mark.parametrize("name", ["has space", "semi;colon", "slash/name", "wild*card", "brace{"])
def test_invalid_names_are_rejected(sfn, name):
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN)
    assert error_code(raised) == "InvalidName"


def test_names_longer_than_80_characters_are_rejected(sfn):
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name="x" * 81, definition=json.dumps(PASS), roleArn=ROLE_ARN)
    assert error_code(raised) in ("InvalidName", "ValidationException")


def test_state_machine_already_exists_with_another_definition(sfn, unique):
    name = f"dup-{unique}"
    arn = create(sfn, name)
    assert create(sfn, name) == arn  # the same request again is idempotent
    with pytest.raises(ClientError) as raised:
        create(sfn, name, ECHO)
    assert error_code(raised) == "StateMachineAlreadyExists"


def test_update_state_machine(sfn, unique):
    arn = create(sfn, f"upd-{unique}")
    before = sfn.describe_state_machine(stateMachineArn=arn)
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(ECHO))
    assert updated["updateDate"]
    after = sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(after["definition"]) == ECHO
    assert after["revisionId"] != before["revisionId"]


def test_update_with_an_invalid_definition_fails(sfn, unique):
    arn = create(sfn, f"upd-bad-{unique}")
    with pytest.raises(ClientError) as raised:
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps({"StartAt": "Missing", "States": {}}))
    assert error_code(raised) == "InvalidDefinition"


def test_delete_state_machine(sfn, unique):
    arn = create(sfn, f"del-{unique}")
    sfn.delete_state_machine(stateMachineArn=arn)
    names = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    assert arn not in names
    with pytest.raises(ClientError) as raised:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert error_code(raised) == "StateMachineDoesNotExist"


def test_list_state_machines_paginates(sfn, unique):
    arns = {create(sfn, f"page-{unique}-{i}") for i in range(5)}
    first = sfn.list_state_machines(maxResults=2)
    assert len(first["stateMachines"]) == 2
    assert "nextToken" in first
    seen = []
    for page in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2}):
        assert len(page["stateMachines"]) <= 2
        seen += [m["stateMachineArn"] for m in page["stateMachines"]]
    assert arns <= set(seen)
    assert len(seen) == len(set(seen))


def test_describe_unknown_state_machine(sfn):
    with pytest.raises(ClientError) as raised:
        sfn.describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:nope-nope")
    assert error_code(raised) == "StateMachineDoesNotExist"


# -- executions --------------------------------------------------------------------------------------


def test_start_and_describe_execution(sfn, unique):
    arn = create(sfn, f"run-{unique}", ECHO)
    started = sfn.start_execution(stateMachineArn=arn, name="first", input=json.dumps({"x": 1}))
    assert started["executionArn"] == f"arn:aws:states:us-east-1:123456789012:execution:run-{unique}:first"
    described = wait_for_execution(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"x": 1}
    assert json.loads(described["input"]) == {"x": 1}
    assert described["stateMachineArn"] == arn
    assert described["stopDate"] >= described["startDate"]


def test_execution_already_exists(sfn, unique):
    arn = create(sfn, f"exists-{unique}", LONG_WAIT)
    first = sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 1}')
    # The same name and input while RUNNING: idempotent, the same execution.
    again = sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 1}')
    assert again["executionArn"] == first["executionArn"]
    with pytest.raises(ClientError) as raised:
        sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 2}')
    assert error_code(raised) == "ExecutionAlreadyExists"
    sfn.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(ClientError) as raised:  # closed: even the same input is refused
        sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 1}')
    assert error_code(raised) == "ExecutionAlreadyExists"


def test_invalid_execution_input(sfn, unique):
    arn = create(sfn, f"input-{unique}")
    with pytest.raises(ClientError) as raised:
        sfn.start_execution(stateMachineArn=arn, input="{not json")
    assert error_code(raised) == "InvalidExecutionInput"


def test_start_execution_on_unknown_machine(sfn):
    with pytest.raises(ClientError) as raised:
        sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:ghost-machine")
    assert error_code(raised) == "StateMachineDoesNotExist"


def test_start_sync_execution_on_express(sfn, unique):
    arn = create(sfn, f"express-{unique}", ECHO, type="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps({"hello": "sync"}))
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"hello": "sync"}
    assert ":express:" in result["executionArn"]


def test_start_sync_execution_failure(sfn, unique):
    arn = create(sfn, f"express-fail-{unique}", BOOM, type="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=arn, input='{"why": "sync"}')
    assert result["status"] == "FAILED"
    assert result["error"] == "RuntimeError"
    assert "boom: sync" in result["cause"]


def test_start_sync_execution_needs_express(sfn, unique):
    arn = create(sfn, f"std-{unique}")
    with pytest.raises(ClientError) as raised:
        sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert error_code(raised) == "StateMachineTypeNotSupported"


def test_describe_state_machine_for_execution_keeps_the_old_definition(sfn, unique):
    arn = create(sfn, f"for-exe-{unique}")
    started = sfn.start_execution(stateMachineArn=arn)
    wait_for_execution(sfn, started["executionArn"])
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(ECHO))
    described = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert described["stateMachineArn"] == arn
    assert json.loads(described["definition"]) == PASS


def test_stop_execution(sfn, unique):
    arn = create(sfn, f"stop-{unique}", LONG_WAIT)
    started = sfn.start_execution(stateMachineArn=arn)
    assert sfn.describe_execution(executionArn=started["executionArn"])["status"] == "RUNNING"
    stopped = sfn.stop_execution(executionArn=started["executionArn"], error="User.Stop", cause="enough")
    assert stopped["stopDate"]
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "ABORTED"
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "User.Stop", "cause": "enough"}


def test_a_raising_handler_fails_the_execution_not_the_server(sfn, unique, server_url):
    arn = create(sfn, f"boom-{unique}", BOOM)
    started = sfn.start_execution(stateMachineArn=arn, input='{"why": "test"}')
    described = wait_for_execution(sfn, started["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "RuntimeError"
    assert json.loads(described["cause"])["errorMessage"] == "boom: test"
    assert httpx.get(f"{server_url}/health").status_code == 200
    assert sfn.list_state_machines(maxResults=1)["stateMachines"]


def test_list_executions_with_status_filter_and_pages(sfn, unique):
    arn = create(sfn, f"list-{unique}", PASS)
    done = [sfn.start_execution(stateMachineArn=arn, name=f"done-{i}")["executionArn"] for i in range(3)]
    for execution in done:
        wait_for_execution(sfn, execution)
    waiting = create(sfn, f"list-wait-{unique}", LONG_WAIT)
    running = sfn.start_execution(stateMachineArn=waiting, name="running")["executionArn"]

    succeeded = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]
    assert {e["executionArn"] for e in succeeded} == set(done)
    assert all(e["status"] == "SUCCEEDED" for e in succeeded)
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    running_list = sfn.list_executions(stateMachineArn=waiting, statusFilter="RUNNING")["executions"]
    assert [e["executionArn"] for e in running_list] == [running]

    first = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert len(first["executions"]) == 2 and "nextToken" in first
    second = sfn.list_executions(stateMachineArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert len(second["executions"]) == 1 and "nextToken" not in second
    paged = {e["executionArn"] for e in first["executions"] + second["executions"]}
    assert paged == set(done)
    sfn.stop_execution(executionArn=running)


def test_get_execution_history_pages_and_reverse_order(sfn, unique):
    chain = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Pass", "End": True}}}
    arn = create(sfn, f"hist-{unique}", chain)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"k": "v"}')["executionArn"]
    wait_for_execution(sfn, execution)
    whole = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["id"] for e in whole] == list(range(1, 9))
    assert [e["type"] for e in whole] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited",
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]
    assert whole[0]["executionStartedEventDetails"]["input"] == '{"k": "v"}'
    assert whole[0]["timestamp"].year >= 2023

    paged, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = sfn.get_execution_history(executionArn=execution, maxResults=3, **kwargs)
        assert len(page["events"]) <= 3
        paged += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    assert [e["id"] for e in paged] == list(range(1, 9))

    reverse = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert [e["id"] for e in reverse] == list(range(8, 0, -1))


def test_describe_unknown_execution(sfn):
    with pytest.raises(ClientError) as raised:
        sfn.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:nope:nope")
    assert error_code(raised) == "ExecutionDoesNotExist"


# -- validation and protocol -------------------------------------------------------------------------


def test_validate_state_machine_definition_ok(sfn):
    result = sfn.validate_state_machine_definition(definition=json.dumps(PASS))
    assert result["result"] == "OK"
    assert result["diagnostics"] == []


def test_validate_state_machine_definition_fail(sfn):
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Bogus"}}}
    result = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert result["result"] == "FAIL"
    diagnostics = result["diagnostics"]
    assert len(diagnostics) >= 2
    assert all(d["severity"] == "ERROR" for d in diagnostics)
    locations = {d["location"] for d in diagnostics}
    assert "/States/A/Next" in locations
    assert any(loc.startswith("/States/B") for loc in locations)
    assert all(d["code"] and d["message"] for d in diagnostics)


def test_unknown_operation(server_url):
    response = httpx.post(server_url + "/", content=b"{}", headers={
        "X-Amz-Target": "AWSStepFunctions.DoSomethingImpossible",
        "Content-Type": "application/x-amz-json-1.0",
    })
    assert response.status_code == 400
    assert response.json()["__type"].endswith("UnknownOperationException")


def test_malformed_body_is_a_client_error(server_url):
    response = httpx.post(server_url + "/", content=b"[not json", headers={
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0",
    })
    assert 400 <= response.status_code < 500
    assert "__type" in response.json()

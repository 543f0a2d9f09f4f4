"""Nested executions (``states:startExecution`` plain, .sync, .sync:2, .waitForTaskToken) run
through a whole Runtime: the child is a real execution of the same service."""

from __future__ import annotations

import asyncio
import json

from integration_helpers import create_machine, execute, history_types, task

from stepflow.runtime import Runtime, Settings

PASS_CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}}
ECHO_CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
FAIL_CHILD = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "SomeFailure", "Cause": "it broke"}}}
WAIT_CHILD = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def runtime() -> Runtime:
    return Runtime(Settings(time_scale=1.0))


def start(resource: str, child_arn: str, input_value=None, **params) -> dict:
    parameters = {"StateMachineArn": child_arn, **params}
    if input_value is not None:
        parameters["Input"] = input_value
    return task(f"arn:aws:states:::states:{resource}", parameters)


def test_plain_start_returns_the_execution_arn_and_start_date_with_sdk_metadata():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, PASS_CHILD, name="child")
        parent = await execute(rt, start("startExecution", child, {"Hello": "World"}, Name="TestStartTarget"))
        output = json.loads(parent["output"])
        assert output["ExecutionArn"].endswith(":execution:child:TestStartTarget")
        assert isinstance(output["StartDate"], int)
        assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
        assert output["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"
        assert output["SdkResponseMetadata"]["RequestId"] == output["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
        described = rt.service.describe_execution(executionArn=output["ExecutionArn"])
        assert json.loads(described["input"]) == {"Hello": "World"}
        if described["status"] == "RUNNING":
            await rt.runner.wait(output["ExecutionArn"])

    asyncio.run(scenario())


def test_sync_outputs_describe_execution_with_json_text():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, PASS_CHILD)
        parent = await execute(rt, start("startExecution.sync", child, {"a": 1}, Name="kid"))
        assert parent["status"] == "SUCCEEDED"
        output = json.loads(parent["output"])
        assert output["Output"] == '{"Arg1":"argument1"}'
        assert output["Input"] == '{"a":1}'
        assert output["Status"] == "SUCCEEDED"
        assert set(output) == {"ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails",
                               "RedriveCount", "RedriveStatus", "RedriveStatusReason",
                               "StartDate", "StateMachineArn", "Status", "StopDate"}
        assert output["RedriveStatus"] == "NOT_REDRIVABLE" and output["RedriveCount"] == 0
        assert history_types(rt, parent["executionArn"])[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]

    asyncio.run(scenario())


def test_sync2_outputs_parsed_json_and_null_input_is_an_empty_object():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, PASS_CHILD)
        parent = await execute(rt, task("arn:aws:states:::states:startExecution.sync:2",
                                         {"StateMachineArn": child, "Input": None}))
        output = json.loads(parent["output"])
        assert output["Output"] == {"Arg1": "argument1"}
        assert output["Input"] == {}
        assert not any(key.startswith("Redrive") for key in output)

    asyncio.run(scenario())


def test_child_failure_fails_the_task_with_the_childs_description_as_cause():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, FAIL_CHILD, name="failing")
        parent = await execute(rt, start("startExecution.sync", child, {"x": 1}, Name="bad"))
        assert parent["status"] == "FAILED"
        assert parent["error"] == "States.TaskFailed"
        cause = json.loads(parent["cause"])
        assert cause["Error"] == "SomeFailure" and cause["Cause"] == "it broke"
        assert cause["Status"] == "FAILED" and cause["Input"] == '{"x":1}'
        assert cause["ExecutionArn"].endswith(":execution:failing:bad")
        assert "Output" not in cause

    asyncio.run(scenario())


def test_child_failure_is_catchable_as_task_failed():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, FAIL_CHILD)
        definition = start("startExecution.sync:2", child)
        definition["States"]["T"]["Catch"] = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Caught"}]
        del definition["States"]["T"]["End"]
        definition["States"]["T"]["Next"] = "Caught"
        definition["States"]["Caught"] = {"Type": "Pass", "End": True}
        parent = await execute(rt, definition)
        assert parent["status"] == "SUCCEEDED"
        assert json.loads(json.loads(parent["output"])["err"]["Cause"])["Error"] == "SomeFailure"

    asyncio.run(scenario())


def test_wait_for_task_token_child_completes_the_parent_with_send_task_success():
    async def scenario():
        rt = runtime()
        child_definition = {"StartAt": "Reply", "States": {"Reply": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
            "Parameters": {"TaskToken.$": "$.token", "Output": "{\"answer\": 42}"}, "End": True}}}
        child = create_machine(rt, child_definition)
        parent = await execute(rt, start("startExecution.waitForTaskToken", child, {"token.$": "$$.Task.Token"}))
        assert parent["status"] == "SUCCEEDED", parent
        assert json.loads(parent["output"]) == {"answer": 42}
        submitted = [e for e in rt.store.history(parent["executionArn"]) if e["type"] == "TaskSubmitted"]
        assert "ExecutionArn" in json.loads(submitted[0]["taskSubmittedEventDetails"]["output"])

    asyncio.run(scenario())


def test_started_by_parent_is_recorded_when_the_input_names_it():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, ECHO_CHILD)
        parent = await execute(rt, start("startExecution.sync:2", child,
                                         {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}))
        child_arn = json.loads(parent["output"])["ExecutionArn"]
        link = rt.store.get_resource("execution-parent", child_arn)
        assert link == {"childArn": child_arn, "parentArn": parent["executionArn"]}
        assert json.loads(parent["output"])["Output"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == parent["executionArn"]

    asyncio.run(scenario())


def test_stopping_the_parent_stops_a_sync_child():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, WAIT_CHILD)
        arn = create_machine(rt, start("startExecution.sync", child, Name="long"))
        started = rt.service.start_execution(stateMachineArn=arn, input="{}")
        while not any(e["type"] == "TaskSubmitted" for e in rt.store.history(started["executionArn"])):
            await asyncio.sleep(0.01)
        child_arn = child.replace(":stateMachine:", ":execution:") + ":long"
        assert rt.service.describe_execution(executionArn=child_arn)["status"] == "RUNNING"
        rt.service.stop_execution(executionArn=started["executionArn"])
        while rt.service.describe_execution(executionArn=child_arn)["status"] == "RUNNING":
            await asyncio.sleep(0.01)
        assert rt.service.describe_execution(executionArn=child_arn)["status"] == "ABORTED"

    asyncio.run(scenario())


def test_unknown_state_machine_is_a_step_functions_exception():
    async def scenario():
        rt = runtime()
        missing = "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
        parent = await execute(rt, start("startExecution.sync", missing))
        assert parent["error"] == "StepFunctions.StateMachineDoesNotExistException"
        assert parent["cause"].startswith(f"State Machine Does Not Exist: '{missing}' (Service: AWSStepFunctions; Status Code: 400;")

    asyncio.run(scenario())


def test_a_named_child_that_already_exists_fails_with_execution_already_exists():
    async def scenario():
        rt = runtime()
        child = create_machine(rt, ECHO_CHILD)
        definition = start("startExecution.sync", child, {"n": 1}, Name="same")
        first = await execute(rt, definition)
        second = await execute(rt, definition)
        assert first["status"] == "SUCCEEDED"
        assert second["error"] == "StepFunctions.ExecutionAlreadyExistsException"

    asyncio.run(scenario())


def test_aws_sdk_sfn_send_task_failure_with_unknown_token():
    async def scenario():
        rt = runtime()
        parent = await execute(rt, task("arn:aws:states:::aws-sdk:sfn:sendTaskFailure", {"TaskToken": "NoSuchTaskToken"}))
        assert parent["error"].startswith("Sfn.") and parent["error"].endswith("Exception")
        assert "(Service: Sfn, Status Code: 400, Request ID: " in parent["cause"]

    asyncio.run(scenario())


def test_other_aws_sdk_services_fail_with_a_clear_error():
    async def scenario():
        rt = runtime()
        parent = await execute(rt, task("arn:aws:states:::aws-sdk:s3:listBuckets", {}))
        assert parent["error"] == "States.Runtime"
        assert "does not support the resource 'arn:aws:states:::aws-sdk:s3:listBuckets'" in parent["cause"]

    asyncio.run(scenario())


def test_a_reissued_sync_task_waits_for_the_child_it_started_instead_of_starting_another():
    from stepflow.engine.tasks import TaskRequest, parse_resource

    async def scenario():
        rt = Runtime(Settings(time_scale=0.2))
        child = create_machine(rt, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}})
        nested = rt.integrations._services[("states", "startExecution")]

        def request(submitted: bool) -> TaskRequest:
            return TaskRequest(step="/T@2#1", execution_arn="arn:aws:states:us-east-1:123456789012:execution:p:1",
                               state_name="T", resource=parse_resource("arn:aws:states:::states:startExecution.sync:2"),
                               parameters={"StateMachineArn": child}, submitted=submitted)

        first = asyncio.get_running_loop().create_task(nested.invoke(request(False)))
        await asyncio.sleep(0)
        running = await nested.invoke(request(True))  # re-issued after a restart, child still running
        done = await first
        finished = await nested.invoke(request(True))  # re-issued after a restart, child already ended
        assert running.output["ExecutionArn"] == done.output["ExecutionArn"] == finished.output["ExecutionArn"]
        assert finished.output["Status"] == "SUCCEEDED"
        assert len(rt.service.list_executions(stateMachineArn=child)["executions"]) == 1

    asyncio.run(scenario())

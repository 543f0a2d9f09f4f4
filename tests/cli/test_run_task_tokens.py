"""`stepflow run` with a `.waitForTaskToken` task whose Lambda answers the token itself with
boto3, unchanged from AWS (no endpoint_url in the handler): the run serves the Step Functions API
while it lasts and the worker process finds it through AWS_ENDPOINT_URL_SFN."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

HANDLER = '''
import json
import boto3

sfn = boto3.client("stepfunctions")  # as in AWS: no endpoint, no credentials in the code


def approve(event, context):
    if event["amount"] < 0:  # nonsense: abort the whole run
        sfn.stop_execution(executionArn=event["execution"], error="Cancelled", cause="negative amount")
        return {"answered": False}
    if event["amount"] > 100:
        sfn.send_task_failure(taskToken=event["token"], error="TooExpensive", cause=f"amount {event['amount']}")
    else:
        sfn.send_task_success(taskToken=event["token"], output=json.dumps({"approved": True, "amount": event["amount"]}))
    return {"answered": True}
'''

TEMPLATE = '''
Transform: AWS::Serverless-2016-10-31
Resources:
  Approver:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: approver
      Handler: approver.approve
      CodeUri: .
      Runtime: python3.12
      Timeout: 30
'''

DEFINITION = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "approver", "Payload": {"token.$": "$$.Task.Token", "amount.$": "$.amount",
                                                                "execution.$": "$$.Execution.Id"}},
            "TimeoutSeconds": 60,
            "End": True,
        }
    },
}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "approver.py").write_text(textwrap.dedent(HANDLER))
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "sm.asl.json").write_text(json.dumps(DEFINITION))
    return tmp_path


def run_cli(project, amount: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(project)  # no ~/.aws: the worker gets placeholder credentials
    return subprocess.run(
        [sys.executable, "-m", "stepflow", "run", "sm.asl.json", "--template", "template.yaml",
         "--input", json.dumps({"amount": amount}), "--time-scale", "1"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )


def test_a_handler_answers_its_task_token_with_send_task_success(project):
    done = run_cli(project, 5)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"approved": True, "amount": 5}


def test_a_handler_fails_its_task_with_send_task_failure(project):
    done = run_cli(project, 500)
    assert done.returncode == 1, done.stderr
    assert "TooExpensive: amount 500" in done.stderr


def test_a_handler_that_stops_its_execution_ends_the_run_aborted_with_exit_4(project):
    done = run_cli(project, -1)
    assert done.returncode == 4, done.stderr
    assert "ABORTED: Cancelled: negative amount" in done.stderr


def test_under_serve_the_handler_answers_the_server_it_runs_under(project):
    from stepflow.testing import serve, wait_for_execution

    env = {k: None for k in os.environ if k.startswith("AWS_")}
    env["HOME"] = str(project)
    with serve("--template", str(project / "template.yaml"), env=env) as server:
        sfn = server.client()
        machine = sfn.create_state_machine(name="approve", definition=json.dumps(DEFINITION),
                                           roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        started = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"amount": 7}))
        described = wait_for_execution(sfn, started["executionArn"], timeout=60)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"approved": True, "amount": 7}

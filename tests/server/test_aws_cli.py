"""The same server driven by the ``aws`` CLI (awscli from PyPI), unchanged, with --endpoint-url."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

AWS = Path(sys.executable).parent / "aws"
ROLE_ARN = "arn:aws:iam::123456789012:role/test"
GREET = {
    "StartAt": "Greet",
    "States": {"Greet": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:greet-test", "End": True,
    }},
}

pytestmark = pytest.mark.skipif(not AWS.exists(), reason="the aws CLI (awscli) is not installed in this environment")


@pytest.fixture
def aws(server_url, aws_env):
    """``aws(*args)``: run ``aws stepfunctions ARGS`` against the server; returns parsed JSON."""

    def run(*args: str) -> dict:
        command = [str(AWS), "--endpoint-url", server_url, "--output", "json", "stepfunctions", *args]
        done = subprocess.run(command, env=aws_env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    return run


def test_aws_cli_end_to_end(aws, unique):
    created = aws("create-state-machine", "--name", f"cli-{unique}", "--definition", json.dumps(GREET), "--role-arn", ROLE_ARN)
    machine = created["stateMachineArn"]
    assert machine.endswith(f":stateMachine:cli-{unique}")

    started = aws("start-execution", "--state-machine-arn", machine, "--name", "by-cli", "--input", json.dumps({"name": "CLI"}))
    execution = started["executionArn"]
    assert execution.endswith(f":execution:cli-{unique}:by-cli")

    deadline = time.monotonic() + 20
    described = aws("describe-execution", "--execution-arn", execution)
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
        described = aws("describe-execution", "--execution-arn", execution)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["message"] == "Hello, CLI!"
    assert output["function"] == "greet-test"

    history = aws("get-execution-history", "--execution-arn", execution)["events"]
    assert [e["type"] for e in history] == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
        "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]
    assert [e["id"] for e in history] == list(range(1, 8))

    listed = aws("list-executions", "--state-machine-arn", machine, "--status-filter", "SUCCEEDED")["executions"]
    assert [e["executionArn"] for e in listed] == [execution]


def test_aws_cli_reports_api_errors(server_url, aws_env, unique):
    command = [str(AWS), "--endpoint-url", server_url, "stepfunctions", "describe-execution",
               "--execution-arn", f"arn:aws:states:us-east-1:123456789012:execution:none-{unique}:none"]
    done = subprocess.run(command, env=aws_env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ExecutionDoesNotExist" in done.stderr

"""Two `stepflow serve` processes on one SQLite store: each execution runs in exactly one of
them (leases), and when one is killed the other adopts its executions and finishes them; a
StopExecution through the other one (or `stepflow stop`) stops it where it runs."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time

import pytest

from stepflow.testing import Server

DEFINITION = {
    "StartAt": "Items",
    "States": {
        "Items": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 2, "End": True}}}, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "done", "End": True},
    },
}


def _server(db: str, log) -> Server:
    """A ``stepflow serve`` on the shared SQLite file, with short leases."""
    return Server("--lambda-mode", "inprocess", store=f"sqlite:///{db}", env={"STEPFLOW_LEASE_SECONDS": "3"}, log=log)


def _client(server: Server):
    return server.client(retries={"max_attempts": 0})


@pytest.fixture
def shared(tmp_path):
    """``shared(n)``: n more started servers on one SQLite file, all stopped after the test;
    ``shared.db`` is the file's path."""
    servers = []

    def start(n: int) -> list[Server]:
        new = [_server(start.db, tmp_path / "serve.log") for _ in range(n)]
        servers.extend(new)
        return [server.start() for server in new]

    start.db = str(tmp_path / "shared.db")
    yield start
    for server in servers:
        server.stop()


@pytest.mark.slow
def test_second_process_adopts_a_killed_process_executions(shared):
    a, b = shared(2)
    sfn_a = _client(a)
    machine = sfn_a.create_state_machine(name="shared", definition=json.dumps(DEFINITION),
                                         roleArn="arn:aws:iam::123456789012:role/x")["stateMachineArn"]
    arns = [sfn_a.start_execution(stateMachineArn=machine, input=json.dumps({"items": [1, 2, 3]}))["executionArn"]
            for _ in range(4)]
    time.sleep(0.5)
    a.kill()
    sfn_b = _client(b)
    deadline = time.time() + 60
    while time.time() < deadline:
        statuses = [sfn_b.describe_execution(executionArn=arn)["status"] for arn in arns]
        if all(s != "RUNNING" for s in statuses):
            break
        time.sleep(0.2)
    assert statuses == ["SUCCEEDED"] * 4
    for arn in arns:
        events = sfn_b.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        entered = collections.Counter(e["type"] for e in events if e["type"].endswith("StateEntered"))
        assert entered == {"MapStateEntered": 1, "WaitStateEntered": 3, "PassStateEntered": 1}


LONG_WAIT = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": True}}}


def _start_long_wait(sfn, name: str) -> str:
    machine = sfn.create_state_machine(name=name, definition=json.dumps(LONG_WAIT),
                                       roleArn="arn:aws:iam::123456789012:role/x")["stateMachineArn"]
    return sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]


def _aborted_soon(sfn, arn: str, within: float = 10.0) -> dict:
    """DescribeExecution until it is no longer RUNNING (the lease maintenance of the process that
    ran it runs every lease_seconds / 3 = 1 s)."""
    deadline = time.time() + within
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.time() > deadline:
            return described
        time.sleep(0.1)


def _aborted_events(sfn, arn: str) -> list[dict]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e for e in events if e["type"] == "ExecutionAborted"]


@pytest.mark.slow
def test_stop_execution_through_another_process_stops_it_where_it_runs(shared):
    a, b = shared(2)
    sfn_a, sfn_b = _client(a), _client(b)
    arn = _start_long_wait(sfn_a, "stop-elsewhere")
    assert sfn_a.describe_execution(executionArn=arn)["status"] == "RUNNING"
    stopped = sfn_b.stop_execution(executionArn=arn, error="User.Stop", cause="enough")
    assert stopped["stopDate"]
    described_b = sfn_b.describe_execution(executionArn=arn)
    assert (described_b["status"], described_b["error"], described_b["cause"]) == ("ABORTED", "User.Stop", "enough")
    described_a = _aborted_soon(sfn_a, arn)
    assert (described_a["status"], described_a["error"], described_a["cause"]) == ("ABORTED", "User.Stop", "enough")
    assert described_a["stopDate"] == described_b["stopDate"]
    [aborted] = _aborted_events(sfn_a, arn)
    assert aborted["executionAbortedEventDetails"] == {"error": "User.Stop", "cause": "enough"}
    time.sleep(1.5)  # another lease maintenance of each: nothing runs it again, nothing writes more
    assert sfn_a.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert len(_aborted_events(sfn_b, arn)) == 1


@pytest.mark.slow
def test_cli_stop_stops_an_execution_a_server_runs(shared):
    [a] = shared(1)
    sfn = _client(a)
    arn = _start_long_wait(sfn, "stop-from-cli")
    done = subprocess.run([sys.executable, "-m", "stepflow", "stop", arn, "--store", f"sqlite:///{shared.db}", "--cause", "from the CLI"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ABORTED", arn]
    described = _aborted_soon(sfn, arn)
    assert (described["status"], described["cause"]) == ("ABORTED", "from the CLI")
    assert len(_aborted_events(sfn, arn)) == 1

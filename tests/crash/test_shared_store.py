"""Two `stepflow serve` processes on one SQLite store: each execution runs in exactly one of
them (leases), and when one is killed the other adopts its executions and finishes them."""

from __future__ import annotations

import collections
import json
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


@pytest.mark.slow
def test_second_process_adopts_a_killed_process_executions(tmp_path):
    db = str(tmp_path / "shared.db")
    a, b = _server(db, tmp_path / "serve.log"), _server(db, tmp_path / "serve.log")
    try:
        a.start()
        b.start()
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
    finally:
        a.stop()
        b.stop()

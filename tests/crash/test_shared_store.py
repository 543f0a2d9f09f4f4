"""Two `stepflow serve` processes on one SQLite store: each execution runs in exactly one of
them (leases), and when one is killed the other adopts its executions and finishes them."""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config

DEFINITION = {
    "StartAt": "Items",
    "States": {
        "Items": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 2, "End": True}}}, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "done", "End": True},
    },
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(db: str, port: int, log) -> subprocess.Popen:
    env = dict(os.environ, STEPFLOW_LEASE_SECONDS="3")
    proc = subprocess.Popen([sys.executable, "-m", "stepflow", "serve", "--port", str(port), "--store", f"sqlite:///{db}",
                             "--lambda-mode", "inprocess"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("serve did not start")


def _client(port: int):
    return boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x", config=Config(retries={"max_attempts": 0}))


@pytest.mark.slow
def test_second_process_adopts_a_killed_process_executions(tmp_path):
    db = str(tmp_path / "shared.db")
    log = open(tmp_path / "serve.log", "w")
    a_port, b_port = _port(), _port()
    a = _serve(db, a_port, log)
    b = _serve(db, b_port, log)
    try:
        sfn_a = _client(a_port)
        machine = sfn_a.create_state_machine(name="shared", definition=json.dumps(DEFINITION),
                                             roleArn="arn:aws:iam::123456789012:role/x")["stateMachineArn"]
        arns = [sfn_a.start_execution(stateMachineArn=machine, input=json.dumps({"items": [1, 2, 3]}))["executionArn"]
                for _ in range(4)]
        time.sleep(0.5)
        a.send_signal(signal.SIGKILL)
        a.wait()
        sfn_b = _client(b_port)
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
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.close()

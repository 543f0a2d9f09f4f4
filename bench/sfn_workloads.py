"""The speed workloads of issue 2 and how each is timed, through the Step Functions API (boto3).

Every figure is wall-clock on the client: from the StartExecution call until DescribeExecution
first reports a terminal status, polled with a lag of at most 2% of the elapsed time (2 ms to
100 ms). The same code drives ``stepflow serve`` and moto in-process, so the ratio compares the
engines behind the same client.

    chain  one execution of N Pass states in sequence                  -> transitions/s
    map    one inline Map over N items (MaxConcurrency 0 or 10), a
           Choice -> Pass iterator; the Map's result is dropped          -> items/s
    loop   a Choice + Pass loop counting to N with States.MathAdd         -> transitions/s
    many   M executions of Pass -> Wait 0 s -> Succeed started at once
           (32 client threads), then polled until all are terminal       -> executions/s

Transitions are ``*StateEntered`` events, counted from GetExecutionHistory after the timed part.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

ROLE_ARN = "arn:aws:iam::123456789012:role/stepflow-bench"
REGION = "us-east-1"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
CLIENT_THREADS = 32


# definitions ---------------------------------------------------------------------------------


def chain_definition(n: int) -> dict:
    """N Pass states, each leading to the next."""
    states = {f"P{i}": {"Type": "Pass", "Next": f"P{i + 1}"} for i in range(n - 1)}
    states[f"P{n - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "P0", "States": states}


def map_definition(max_concurrency: int) -> dict:
    """An inline Map over ``$.items`` whose iterator is Choice -> Pass; outputs only ``$.n``."""
    iterator = {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Default": "Echo",
                      "Choices": [{"Variable": "$", "NumericGreaterThanEquals": 0, "Next": "Echo"}]},
            "Echo": {"Type": "Pass", "End": True},
        },
    }
    each = {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": max_concurrency,
            "ItemProcessor": iterator, "ResultPath": None, "OutputPath": "$.n", "End": True}
    return {"StartAt": "Each", "States": {"Each": each}}


def loop_definition() -> dict:
    """Count ``$.i`` up to ``$.n``: a Choice and a Pass with States.MathAdd per round."""
    return {
        "StartAt": "Test",
        "States": {
            "Test": {"Type": "Choice", "Default": "Done",
                     "Choices": [{"Variable": "$.i", "NumericLessThanPath": "$.n", "Next": "Add"}]},
            "Add": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "n.$": "$.n"}, "Next": "Test"},
            "Done": {"Type": "Succeed"},
        },
    }


def many_definition() -> dict:
    """The short execution the 'many' scenario starts M times."""
    return {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 0, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


# client helpers ------------------------------------------------------------------------------


def make_client(endpoint_url: str | None):
    """A boto3 Step Functions client with dummy credentials, no retries, a pool for the threads."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1}, max_pool_connections=CLIENT_THREADS + 8,
                    connect_timeout=10, read_timeout=300)
    return boto3.client("stepfunctions", region_name=REGION, endpoint_url=endpoint_url, config=config,
                        aws_access_key_id="bench", aws_secret_access_key="bench")


def create_machine(client, prefix: str, definition: dict) -> str:
    """A new STANDARD state machine; its ARN."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    reply = client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)
    return reply["stateMachineArn"]


def poll_lag(elapsed: float) -> float:
    """How long to sleep between two DescribeExecution calls: 2% of the elapsed time, 2-100 ms."""
    return min(0.1, max(0.002, elapsed * 0.02))


def seconds(value) -> float | None:
    return value.timestamp() if isinstance(value, dt.datetime) else None


@dataclass
class Run:
    """One timed execution."""

    status: str
    wall_s: float
    engine_s: float | None = None
    arn: str = ""


def run_to_end(client, machine_arn: str, payload: dict, timeout: float) -> Run:
    """Start one execution and poll until it is terminal (stopped after ``timeout`` seconds)."""
    body = json.dumps(payload, separators=(",", ":"))
    started = time.perf_counter()
    arn = client.start_execution(stateMachineArn=machine_arn, name=f"r-{uuid.uuid4().hex[:16]}", input=body)["executionArn"]
    while True:
        reply = client.describe_execution(executionArn=arn)
        elapsed = time.perf_counter() - started
        if reply["status"] in TERMINAL:
            break
        if elapsed > timeout:
            stop_quietly(client, arn)
            return Run("DID_NOT_FINISH", elapsed, arn=arn)
        time.sleep(poll_lag(elapsed))
    begin, end = seconds(reply.get("startDate")), seconds(reply.get("stopDate"))
    engine = end - begin if begin is not None and end is not None else None
    return Run(reply["status"], elapsed, engine, arn)


def stop_quietly(client, arn: str) -> None:
    try:
        client.stop_execution(executionArn=arn, error="Bench.Timeout", cause="the benchmark's time ran out")
    except Exception:  # noqa: BLE001 - an engine that cannot stop it still gets its figure: did not finish
        pass


def count_transitions(client, arn: str) -> int:
    """The ``*StateEntered`` events of an execution's history (all pages)."""
    count, token = 0, None
    while True:
        kwargs = {"executionArn": arn, "maxResults": 1000, **({"nextToken": token} if token else {})}
        page = client.get_execution_history(**kwargs)
        count += sum(1 for event in page["events"] if event["type"].endswith("StateEntered"))
        token = page.get("nextToken")
        if not token:
            return count


# the 'many' scenario ---------------------------------------------------------------------------


@dataclass
class Batch:
    """One 'many' run: how many of M succeeded and when the last one was seen terminal."""

    m: int
    succeeded: int = 0
    wall_s: float = 0.0
    start_phase_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "SUCCEEDED" if self.succeeded == self.m else f"{self.succeeded}/{self.m} SUCCEEDED"


def run_many(client, machine_arn: str, m: int, timeout: float) -> Batch:
    """Start M executions from 32 threads, then poll each until terminal."""
    batch, arns, lock = Batch(m), [], threading.Lock()

    def start(i: int) -> None:
        try:
            arn = client.start_execution(stateMachineArn=machine_arn, name=f"m{i}-{uuid.uuid4().hex[:12]}",
                                         input=json.dumps({"i": i}))["executionArn"]
            with lock:
                arns.append(arn)
        except Exception as err:  # noqa: BLE001 - counted, shown in the report
            with lock:
                batch.errors.append(repr(err)[:200])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(m, CLIENT_THREADS)) as pool:
        list(pool.map(start, range(m)))
    batch.start_phase_s = time.perf_counter() - t0
    last_seen = poll_all(client, arns, batch, t0 + timeout)
    batch.wall_s = last_seen - t0
    return batch


def poll_all(client, arns: list[str], batch: Batch, deadline: float) -> float:
    """Describe every pending execution in turn until none is left; when the last was seen done."""
    pending, last_seen = list(arns), time.perf_counter()
    while pending and time.perf_counter() < deadline:
        still = []
        for arn in pending:
            status = client.describe_execution(executionArn=arn)["status"]
            if status in TERMINAL:
                last_seen = time.perf_counter()
                batch.succeeded += status == "SUCCEEDED"
            else:
                still.append(arn)
        pending = still
        if pending:
            time.sleep(0.02)
    for arn in pending:
        stop_quietly(client, arn)
    return last_seen

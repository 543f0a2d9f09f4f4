"""Crash workload: executions mixing Map, Parallel, Wait, Retry and Catch on a real
``stepflow serve`` process that is killed with SIGKILL at random moments and at named fault
points, restarted each time; at the end every execution must have finished with exactly the
status and output of an uninterrupted run, and no state may have run twice.

Used by ``tests/crash/test_crash.py`` (small) and on its own as a benchmark-sized run:

    .venv/bin/python bench/crash_workload.py --executions 200 --kills 50 --store sqlite:///tmp/crash.db
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from stepflow.testing import Server, ServeError

FAULT_POINTS = ("store.commit.before", "store.commit.after", "task.result.before_commit")
ROLE = "arn:aws:iam::123456789012:role/crash"
FN = "arn:aws:lambda:us-east-1:123456789012:function:"

HANDLERS = '''
import time

def work(event, context):
    time.sleep(0.01)
    return {"v": event["v"] * 2}

def flaky(event, context):
    """Fails until its third attempt, deterministically (the attempt comes from RetryCount)."""
    time.sleep(0.005)
    if event["attempt"] < 2:
        raise RuntimeError(f"transient failure on attempt {event['attempt']}")
    return {"ok": event["n"], "attempts": event["attempt"] + 1}

def broken(event, context):
    raise ValueError("always broken")
'''

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    CodeUri: .
    Timeout: 30
Resources:
  Work: {Type: AWS::Serverless::Function, Properties: {FunctionName: work, Handler: handlers.work}}
  Flaky: {Type: AWS::Serverless::Function, Properties: {FunctionName: flaky, Handler: handlers.flaky}}
  Broken: {Type: AWS::Serverless::Function, Properties: {FunctionName: broken, Handler: handlers.broken}}
"""

DEFINITION = {
    "Comment": "crash workload: Map, Parallel, Wait, Retry, Catch",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"n.$": "$.n", "items.$": "$.items"}, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Items", "States": {"Items": {
                    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 3,
                    "ItemSelector": {"v.$": "$$.Map.Item.Value"},
                    "ItemProcessor": {"StartAt": "Work", "States": {
                        "Work": {"Type": "Task", "Resource": FN + "work", "Next": "Pause"},
                        "Pause": {"Type": "Wait", "Seconds": 1, "End": True},
                    }},
                    "End": True}}},
                {"StartAt": "Flaky", "States": {
                    "Flaky": {"Type": "Task", "Resource": FN + "flaky",
                              "Parameters": {"n.$": "$.n", "attempt.$": "$$.State.RetryCount"},
                              "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 1, "BackoffRate": 1.5, "MaxAttempts": 3}],
                              "Next": "Broken"},
                    "Broken": {"Type": "Task", "Resource": FN + "broken",
                               "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Recovered"}],
                               "End": True},
                    "Recovered": {"Type": "Pass", "Parameters": {"error.$": "$.caught.Error"}, "End": True},
                }},
            ],
            "Next": "Settle",
        },
        "Settle": {"Type": "Wait", "Seconds": 2, "Next": "Sum"},
        "Sum": {"Type": "Pass", "Parameters": {"doubled.$": "$[0]", "recovered.$": "$[1]"}, "End": True},
    },
}


def write_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "handlers.py").write_text(HANDLERS)
    (folder / "template.yaml").write_text(TEMPLATE)
    return folder / "template.yaml"


def inputs(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [{"n": i, "items": [rng.randint(1, 100) for _ in range(rng.randint(1, 6))]} for i in range(count)]


def expected_runs(template: Path, payloads: list[dict]) -> list[tuple[str, object, collections.Counter]]:
    """Status, output and history multiset of each input, from an uninterrupted in-memory run."""
    from stepflow.runtime import run

    out = []
    for payload in payloads:
        result = run(DEFINITION, payload, template=str(template), time_scale=0)
        out.append((result.status, result.output, state_events(result.history)))
    return out


def state_events(events: list[dict]) -> collections.Counter:
    """What must not repeat: every state entered/exited and every task outcome."""
    counted = collections.Counter()
    for event in events:
        kind = event["type"]
        if kind.endswith(("StateEntered", "StateExited", "Succeeded", "Failed")) or kind.startswith("MapIteration"):
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
            counted[(kind, details.get("name"), details.get("index"))] += 1
    return counted


def new_server(store_url: str, template: Path, time_scale: float, log: Path) -> Server:
    """A ``stepflow serve`` subprocess on a free port that we can kill and start again."""
    return Server("--template", str(template), "--time-scale", str(time_scale), store=store_url,
                  env={"STEPFLOW_FAULTS": None}, log=log)


def start_armed(server: Server, fault: str) -> None:
    """Start with a fault point armed; the server may die at it before it answers (resuming)."""
    try:
        server.start(env={"STEPFLOW_FAULTS": fault})
    except ServeError:
        if server.process.returncode != -signal.SIGKILL:
            raise


def client(server: Server):
    return server.client(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=10)


def crash_run(store_url: str, executions: int, kills: int, seed: int = 1, time_scale: float = 0.1,
              workdir: Path | None = None, verbose: bool = False) -> dict:
    """Run the workload with kills; returns a report (``ok`` True when everything matched)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="stepflow-crash-"))
    template = write_project(workdir / "project")
    payloads = inputs(executions, seed)
    expected = expected_runs(template, payloads)
    server = new_server(store_url, template, time_scale, workdir / "serve.log")
    try:
        rng = random.Random(seed)
        server.start()
        sfn = client(server)
        arn = sfn.create_state_machine(name="crash", definition=json.dumps(DEFINITION), roleArn=ROLE)["stateMachineArn"]
        names = [f"crash-{i}" for i in range(executions)]
        executed_arns = [arn.replace(":stateMachine:", ":execution:") + ":" + name for name in names]
        kill_plan = [("random", None)] * kills + [("fault", f"{point}:{rng.randint(1, 5)}") for point in FAULT_POINTS]
        rng.shuffle(kill_plan)
        # Executions start in batches between kills, so that every kill hits work in progress.
        batch = -(-executions // (len(kill_plan) + 1))
        pending = list(zip(names, payloads))
        done_kills = 0
        for kind, fault in kill_plan:
            _start_batch(server, arn, pending, batch)
            if kind == "random":
                time.sleep(rng.uniform(0.05, 0.6))
                server.kill()
                server.start()
            else:
                server.kill()
                start_armed(server, fault)
                _wait_until_dead(server, 5.0)
                server.kill()
                server.start()
            sfn = client(server)
            done_kills += 1
            if verbose:
                print(f"kill {done_kills}: {kind} {fault or ''}", file=sys.stderr)
        _start_batch(server, arn, pending, len(pending))
        deadline = time.time() + 300
        while not _all_done(sfn, executed_arns) and time.time() < deadline:
            time.sleep(0.2)
        report = _verify(sfn, executed_arns, expected)
        report["kills"] = done_kills
        return report
    finally:
        server.kill()


def _start_batch(server: Server, machine_arn: str, pending: list, count: int) -> None:
    """Start the next executions; a start whose reply was lost in a crash is retried (the
    name makes it idempotent: ExecutionAlreadyExists means it was recorded)."""
    for _ in range(min(count, len(pending))):
        name, payload = pending[0]
        for _attempt in range(100):
            try:
                client(server).start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload))
                break
            except Exception as err:  # noqa: BLE001 - server restarting, or already recorded
                if "ExecutionAlreadyExists" in str(err):
                    break
                time.sleep(0.1)
        pending.pop(0)


def _wait_until_dead(server: Server, seconds: float) -> None:
    end = time.time() + seconds
    while server.alive() and time.time() < end:
        time.sleep(0.05)


def _all_done(sfn, arns: list[str]) -> bool:
    try:
        listed = {e["executionArn"]: e["status"] for e in _list_all(sfn)}
    except Exception:  # the server may be restarting
        return False
    return all(listed.get(a) not in (None, "RUNNING") for a in arns)


def _list_all(sfn) -> list[dict]:
    machines = sfn.list_state_machines()["stateMachines"]
    return [e for m in machines for e in _paged(sfn, "list_executions", "executions", stateMachineArn=m["stateMachineArn"])]


def _history(sfn, arn: str) -> list[dict]:
    return _paged(sfn, "get_execution_history", "events", executionArn=arn)


def _paged(sfn, operation: str, key: str, **params) -> list[dict]:
    """Every item of a paginated call: boto3's paginator follows nextToken."""
    pages = sfn.get_paginator(operation).paginate(**params, PaginationConfig={"PageSize": 1000})
    return [item for page in pages for item in page[key]]


def _verify(sfn, arns: list[str], expected: list) -> dict:
    problems = []
    for arn, (status, output, counted) in zip(arns, expected):
        described = sfn.describe_execution(executionArn=arn)
        got_output = json.loads(described["output"]) if described.get("output") else None
        if described["status"] != status or got_output != output:
            problems.append(f"{arn}: {described['status']} {got_output!r} != {status} {output!r}")
            continue
        seen = state_events(_history(sfn, arn))
        if seen != counted:
            extra = seen - counted
            missing = counted - seen
            problems.append(f"{arn}: history differs: repeated {dict(extra)} missing {dict(missing)}")
    return {"ok": not problems, "executions": len(arns), "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=None, help="store URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="stepflow-crash-"))
    store = args.store or f"sqlite:///{workdir}/crash.db"
    started = time.time()
    report = crash_run(store, args.executions, args.kills, args.seed, args.time_scale, workdir, args.verbose)
    report["seconds"] = round(time.time() - started, 1)
    report["store"] = store
    print(json.dumps(report, indent=1))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()

"""Executions survive the death of the process running them (issue 3, "Resume after a crash").

A child process runs an execution through ``stepflow.runtime.Runtime`` on a real store until it
waits in a Wait state, and is killed with SIGKILL. A new Runtime on the same store resumes it:
it must finish with the right output, keep the Wait's original due time, and not enter any
state twice (finished Map iterations are not run again).
"""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import subprocess
import sys
import textwrap

import pytest

from stepflow.runtime import Runtime, Settings

WAIT_SECONDS = 1
DEFINITION = json.dumps({
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"items.$": "$.items"}, "Next": "Square"},
        "Square": {
            "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.squares",
            "ItemProcessor": {"StartAt": "Sq", "States": {
                "Sq": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": True},
            }},
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": WAIT_SECONDS, "Next": "Double"},
        "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "End": True},
    },
})

CHILD = textwrap.dedent("""
    import asyncio, sys
    from stepflow.runtime import Runtime, Settings

    async def main():
        rt = Runtime(Settings(store_url=sys.argv[1], time_scale=1.0, handlers={"double": lambda e, c: None}))
        made = rt.service.create_state_machine(name="durable", definition=sys.argv[2], roleArn="arn:aws:iam::123456789012:role/r")
        started = rt.service.start_execution(stateMachineArn=made["stateMachineArn"], name="e1", input='{"items":[1,2,3]}')
        print(started["executionArn"], flush=True)
        await asyncio.sleep(60)  # killed long before

    asyncio.run(main())
""")


def double(event, context):
    return {"total": sum(item["v"] * 2 for item in event["squares"])}


@pytest.fixture(params=["sqlite", "postgres"])
def durable_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/durable.db"
    return request.getfixturevalue("fresh_postgres_url")


def start_and_kill(url: str) -> str:
    """Run the execution in a child until it waits, SIGKILL the child, return the execution ARN."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, DEFINITION], stdout=subprocess.PIPE, text=True)
    try:
        arn = child.stdout.readline().strip()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert arn.startswith("arn:aws:states:"), "the child did not start the execution"
    return arn


async def resume(url: str, arn: str):
    """Resume every RUNNING execution of the store; wait for ``arn``; then resume again (nothing left)."""
    runtime = Runtime(Settings(store_url=url, time_scale=1.0, handlers={"double": double}))
    assert runtime.resume_all() == 1
    exe = await asyncio.wait_for(runtime.runner.wait(arn), 20)
    later = Runtime(Settings(store_url=url))
    try:
        assert later.resume_all() == 0
    finally:
        later.store.close()
    return runtime, exe


def test_a_killed_execution_resumes_and_finishes_once(durable_url):
    arn = start_and_kill(durable_url)
    runtime, exe = asyncio.run(resume(durable_url, arn))
    try:
        history = runtime.store.history(arn)
        stored = runtime.store.get_execution(arn)
    finally:
        runtime.store.close()
    assert exe.status == stored.status == "SUCCEEDED", (exe.error, exe.cause)
    assert json.loads(stored.output_text) == {"total": 12}
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    entered = collections.Counter(e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered"))
    assert entered == {"Prepare": 1, "Square": 1, "Sq": 3, "Pause": 1, "Double": 1}
    assert sum(e["type"] == "MapIterationSucceeded" for e in history) == 3
    assert sum(e["type"] == "ExecutionStarted" for e in history) == 1
    waited = next(e for e in history if e["type"] == "WaitStateExited")["timestamp"] - next(
        e for e in history if e["type"] == "WaitStateEntered")["timestamp"]
    assert WAIT_SECONDS - 0.05 <= waited < WAIT_SECONDS + 5

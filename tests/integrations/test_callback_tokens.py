"""Task tokens of ``.waitForTaskToken`` tasks: the token is valid from the moment the task is
scheduled, as in AWS, so the called service may send the callback before its own call returns
(a Lambda that calls SendTaskSuccess itself)."""

from __future__ import annotations

import asyncio
import json

from integration_helpers import execute, task

from stepflow.engine.tasks import TaskResult
from stepflow.runtime import Runtime, Settings


class RepliesBeforeReturning:
    """A service that completes the task token it was given before its call returns."""

    def __init__(self, rt: Runtime, fail: bool = False):
        self.rt, self.fail = rt, fail

    async def invoke(self, request):
        token = request.parameters["token"]
        if self.fail:
            self.rt.service.send_task_failure(taskToken=token, error="Rejected", cause="numbers look wrong")
        else:
            self.rt.service.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
        return TaskResult(output={"StatusCode": 200})


def scenario(fail: bool) -> dict:
    async def go():
        rt = Runtime(Settings(time_scale=1.0))
        rt.integrations.register("test", "reply", RepliesBeforeReturning(rt, fail))
        definition = task("arn:aws:states:::test:reply.waitForTaskToken", {"token.$": "$$.Task.Token"})
        try:
            return await asyncio.wait_for(execute(rt, definition), timeout=10)
        finally:
            rt.close()

    return asyncio.run(go())


def test_a_callback_sent_during_the_call_completes_the_task():
    described = scenario(fail=False)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"approved": True}


def test_a_failure_sent_during_the_call_fails_the_task():
    described = scenario(fail=True)
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Rejected", "numbers look wrong")

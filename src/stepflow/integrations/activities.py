"""Activity tasks (``arn:aws:states:REGION:ACCOUNT:activity:NAME``): queued for workers that call
GetActivityTask, completed by SendTaskSuccess / SendTaskFailure with the task token."""

from __future__ import annotations

import asyncio

from stepflow.engine.tasks import TaskRequest, TaskResult
from stepflow.errors import StatesError
from stepflow.integrations.callbacks import CallbackHub


class ActivityIntegration:
    """Puts the task in the activity's queue (any object with check/put/cancel), then waits for
    the worker's callback; ActivityStarted is recorded when a worker takes the task."""

    def __init__(self, queue, callbacks: CallbackHub):
        self.queue = queue
        self.callbacks = callbacks

    async def invoke(self, request: TaskRequest) -> TaskResult:
        arn = request.resource.arn
        try:
            self.queue.check(arn)
        except StatesError as err:
            return TaskResult(error=err.error, cause=err.cause)
        if not request.submitted:
            self.queue.put(arn, request.task_token, _input_text(request), on_started=self._started(request))
        try:
            return await self.callbacks.wait(request)
        except asyncio.CancelledError:
            self.queue.cancel(request.task_token)
            raise

    @staticmethod
    def _started(request: TaskRequest):
        def started(worker_name):
            if request.on_submitted is not None:
                request.on_submitted(worker=worker_name)

        return started


def _input_text(request: TaskRequest) -> str:
    from stepflow.asl.json_text import dumps

    return dumps(request.parameters)

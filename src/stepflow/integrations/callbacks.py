"""Task tokens: tasks that wait for SendTaskSuccess / SendTaskFailure (``.waitForTaskToken``
integrations and activities).

The hub maps each outstanding token to the waiting request; the API's SendTask* actions complete
it. After a restart the engine re-issues waiting tasks with ``submitted=True`` and they register
their token again, so a callback sent after the restart still finds them.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from stepflow.engine.tasks import TaskRequest, TaskResult


@dataclass
class Waiting:
    request: TaskRequest
    future: asyncio.Future


class CallbackHub:
    """Outstanding task tokens of this process."""

    def __init__(self):
        self._waiting: dict[str, Waiting] = {}

    async def wait(self, request: TaskRequest, future: asyncio.Future | None = None) -> TaskResult:
        """Wait for the callback of ``request.task_token`` (on ``future`` when :meth:`register`
        gave one, so a callback that came before this call is not lost)."""
        future = future or self.register(request)
        try:
            return await future
        finally:
            self.release(request, future)

    def register(self, request: TaskRequest) -> asyncio.Future:
        """Make the token valid now (AWS accepts it from the moment the task is scheduled, so a
        service may send the callback before its own call has returned)."""
        future = asyncio.get_running_loop().create_future()
        self._waiting[request.task_token] = Waiting(request, future)
        return future

    def release(self, request: TaskRequest, future: asyncio.Future) -> None:
        """Forget the token if ``future`` is still the one waiting for it."""
        current = self._waiting.get(request.task_token)
        if current is not None and current.future is future:
            del self._waiting[request.task_token]

    def find(self, token: str) -> TaskRequest | None:
        waiting = self._waiting.get(token)
        return waiting.request if waiting is not None else None

    def succeed(self, token: str, output_text: str) -> bool:
        """SendTaskSuccess: False when no task waits for this token."""
        return self._complete(token, TaskResult(output=json.loads(output_text)))

    def fail(self, token: str, error: str | None, cause: str | None) -> bool:
        """SendTaskFailure: False when no task waits for this token."""
        return self._complete(token, TaskResult(error=error or "", cause=cause))

    def _complete(self, token: str, result: TaskResult) -> bool:
        waiting = self._waiting.get(token)
        if waiting is None or waiting.future.done():
            return False
        waiting.future.set_result(result)
        return True

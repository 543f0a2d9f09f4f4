"""All task resources behind the engine's one TaskExecutor protocol.

Dispatches a request by resource: Lambda (legacy ARN and ``lambda:invoke``) and the services
registered with :meth:`Integrations.register`. Anything else fails with a clear error naming
what stepflow does not support.
"""

from __future__ import annotations

from dataclasses import replace

from stepflow.engine.tasks import (
    ACTIVITY,
    LAMBDA,
    WAIT_FOR_TASK_TOKEN,
    TaskExecutor,
    TaskRequest,
    TaskResult,
)
from stepflow.errors import RUNTIME
from stepflow.integrations.callbacks import CallbackHub


class Integrations:
    """The TaskExecutor the runner uses."""

    def __init__(self, lambda_integration: TaskExecutor | None = None, callbacks: CallbackHub | None = None):
        self._services: dict[tuple[str, str], TaskExecutor] = {}
        self._lambda = lambda_integration
        self.callbacks = callbacks or CallbackHub()
        self.activities = None  # set to an executor for activity resources
        if lambda_integration is not None:
            self.register("lambda", "invoke", lambda_integration)

    def register(self, service: str, action: str, executor: TaskExecutor) -> None:
        """Route ``arn:aws:states:::SERVICE:ACTION[.pattern]`` to an executor."""
        self._services[(service, action)] = executor

    async def invoke(self, request: TaskRequest) -> TaskResult:
        resource = request.resource
        if resource.kind == ACTIVITY:
            if self.activities is None:
                return TaskResult(error=RUNTIME, cause="stepflow: activities are not enabled in this runtime")
            return await self.activities.invoke(request)
        if resource.pattern == WAIT_FOR_TASK_TOKEN:
            return await self._callback(request)
        return await self._direct(request)

    async def _callback(self, request: TaskRequest) -> TaskResult:
        """Call the service with the token in its input, then wait for SendTask*. The token is
        registered before the call: the service may use it before its call returns."""
        future = self.callbacks.register(request)
        if not request.submitted:
            plain = replace(request, resource=replace(request.resource, pattern=""))
            try:
                sent = await self._direct(plain)
            except BaseException:
                self.callbacks.release(request, future)
                raise
            if sent.failed:
                self.callbacks.release(request, future)
                return sent
            if request.on_submitted is not None:
                request.on_submitted(sent.output)
        return await self.callbacks.wait(request, future)

    async def _direct(self, request: TaskRequest) -> TaskResult:
        resource = request.resource
        if resource.kind == LAMBDA and self._lambda is not None:
            return await self._lambda.invoke(request)
        executor = self._services.get((resource.service, resource.action))
        if executor is None:
            return TaskResult(error=RUNTIME, cause=_unsupported(resource.arn, sorted(self._services)))
        return await executor.invoke(request)


def _unsupported(arn: str, supported: list[tuple[str, str]]) -> str:
    names = ", ".join(f"arn:aws:states:::{s}:{a}" for s, a in supported) or "none"
    return (
        f"stepflow does not support the resource '{arn}' locally. Supported: Lambda function ARNs, {names}. "
        "Use a mock (--mock-config) for other services."
    )

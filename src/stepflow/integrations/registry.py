"""All task resources behind the engine's one TaskExecutor protocol.

Dispatches a request by resource: Lambda (legacy ARN and ``lambda:invoke``) and the services
registered with :meth:`Integrations.register`. Anything else fails with a clear error naming
what stepflow does not support.
"""

from __future__ import annotations

from stepflow.engine.tasks import LAMBDA, TaskExecutor, TaskRequest, TaskResult
from stepflow.errors import RUNTIME


class Integrations:
    """The TaskExecutor the runner uses."""

    def __init__(self, lambda_integration: TaskExecutor | None = None):
        self._services: dict[tuple[str, str], TaskExecutor] = {}
        self._lambda = lambda_integration
        if lambda_integration is not None:
            self.register("lambda", "invoke", lambda_integration)

    def register(self, service: str, action: str, executor: TaskExecutor) -> None:
        """Route ``arn:aws:states:::SERVICE:ACTION[.pattern]`` to an executor."""
        self._services[(service, action)] = executor

    async def invoke(self, request: TaskRequest) -> TaskResult:
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

"""Registers the local AWS service integrations on an :class:`Integrations` registry:
nested executions, SNS, SQS, Glue, the HTTP Task and the ``aws-sdk:sfn`` actions.

The project (a :class:`stepflow.sam.Project`, or None) is read through a provider each time a
task runs, so a runtime may load or reload its template after the integrations are built.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepflow.engine.tasks import TaskRequest, parse_resource
from stepflow.integrations.delivery import Deliveries, DeliveryFailed, SmtpSettings
from stepflow.integrations.glue import GlueJobs, GlueStartJobRun
from stepflow.integrations.http_task import HttpTask
from stepflow.integrations.nested import SDK_ACTIONS, NestedExecutions, SfnSdk
from stepflow.integrations.sns import SnsPublish, Topics
from stepflow.integrations.sqs import LocalQueues, SqsSendMessage


@dataclass
class LocalServices:
    """The service integrations of one runtime, for draining and shutting down."""

    queues: LocalQueues
    deliveries: Deliveries
    sns: SnsPublish
    glue: GlueJobs

    async def drain(self) -> None:
        """Wait for background work: Glue runs started without ``.sync``, then SNS deliveries."""
        await self.glue.drain()
        await self.deliveries.drain()

    def shutdown(self) -> None:
        """Kill Glue runs still going (the process is exiting)."""
        self.glue.shutdown()


def _project_list(project: Callable[[], Any], attribute: str) -> Callable[[], tuple]:
    return lambda: tuple(getattr(project(), attribute, ()) or ())


def register_services(integrations, *, service, runner, store, settings, time_scale: float,
                      project: Callable[[], Any] = lambda: None) -> LocalServices:
    """Build the local services and register each ``(service, action)`` on ``integrations``."""
    queues = LocalQueues(_project_list(project, "queues"), store)
    smtp = SmtpSettings.parse(getattr(settings, "smtp", None), getattr(settings, "smtp_from", None))
    deliveries = Deliveries(store, smtp, queues, _lambda_invoker(integrations), time_scale=time_scale)
    sns = SnsPublish(Topics(_project_list(project, "topics")), store, deliveries, getattr(settings, "messages_sink", None))
    glue = GlueJobs(_project_list(project, "glue_jobs"), store, getattr(settings, "glue_log_dir", ".stepflow/glue"), time_scale)
    nested = NestedExecutions(service, runner, store)
    integrations.register("states", "startExecution", nested)
    integrations.register("sns", "publish", sns)
    integrations.register("sqs", "sendMessage", SqsSendMessage(queues))
    integrations.register("glue", "startJobRun", GlueStartJobRun(glue))
    integrations.register("http", "invoke", HttpTask(getattr(settings, "region", "us-east-1")))
    sdk = SfnSdk(service)
    for action in SDK_ACTIONS:
        integrations.register("aws-sdk:sfn", action, sdk)
    return LocalServices(queues, deliveries, sns, glue)


def _lambda_invoker(integrations):
    """SNS ``lambda`` subscriptions: an asynchronous ``lambda:invoke`` of the local function."""
    resource = parse_resource("arn:aws:states:::lambda:invoke")

    async def invoke(function_arn: str, payload: bytes) -> None:
        request = TaskRequest(step="sns-delivery", execution_arn="", state_name="", resource=resource,
                              parameters={"FunctionName": function_arn, "Payload": json.loads(payload),
                                          "InvocationType": "Event"})
        result = await integrations.invoke(request)
        if result.failed:
            raise DeliveryFailed(f"{result.error}: {result.cause}")

    return invoke

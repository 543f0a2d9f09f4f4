"""The AWS SAM template as stepflow's project file.

:func:`load_project` reads ``template.yaml`` (YAML with CloudFormation's short tags) into a
:class:`Project`: functions, state machines (with their schedules), SNS topics and their
subscriptions, SQS queues and Glue jobs, every intrinsic resolved to local names and ARNs (see
:mod:`stepflow.sam.resources` for the forms). Template errors are
:class:`~stepflow.errors.TemplateError` naming the resource and property.
"""

from stepflow.sam.project import functions, load_project
from stepflow.sam.specs import (
    DEFAULT_ACCOUNT,
    DEFAULT_MEMORY,
    DEFAULT_REGION,
    DEFAULT_ROLE_ARN,
    DEFAULT_TIMEOUT,
    FunctionSpec,
    GlueJobSpec,
    Project,
    QueueSpec,
    ScheduleSpec,
    StateMachineSpec,
    SubscriptionSpec,
    TopicSpec,
)
from stepflow.sam.template import load_template, parse_parameter_overrides

__all__ = [
    "DEFAULT_ACCOUNT", "DEFAULT_MEMORY", "DEFAULT_REGION", "DEFAULT_ROLE_ARN", "DEFAULT_TIMEOUT",
    "FunctionSpec", "GlueJobSpec", "Project", "QueueSpec", "ScheduleSpec", "StateMachineSpec",
    "SubscriptionSpec", "TopicSpec", "functions", "load_project", "load_template", "parse_parameter_overrides",
]

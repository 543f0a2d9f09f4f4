"""load_project on the realistic fixture (tests/fixtures/sam_project): every resource type,
Globals, Mappings, Conditions, DefinitionSubstitutions, schedules, and parameter overrides."""

from __future__ import annotations

import pytest

from stepflow.sam import load_project
from stepflow.sam.specs import Project

from sam_helpers import FIXTURE, TEMPLATE

REGION, ACCOUNT = "us-east-1", "123456789012"


@pytest.fixture(scope="module")
def dev() -> Project:
    return load_project(TEMPLATE)


@pytest.fixture(scope="module")
def prod() -> Project:
    return load_project(TEMPLATE, {"Stage": "prod", "BatchSize": "25"}, region="eu-west-1", account="111122223333")


# -- functions --------------------------------------------------------------------------------------


def test_functions_get_globals_their_own_properties_and_resolved_environment(dev):
    validate = dev.function("ValidateFunction")
    assert validate.name == "orders-validate-dev"
    assert validate.handler == "app.validate"
    assert validate.code_uri == FIXTURE / "src"
    assert (validate.timeout, validate.memory_size, validate.runtime) == (30, 256, "python3.12")
    assert validate.environment == {
        "STAGE": "dev",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:orders-dev",
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dev",
        "BATCH_SIZE": "10",
    }
    assert validate.reserved_concurrency is None  # Fn::If -> AWS::NoValue in dev
    assert validate.arn == "arn:aws:lambda:us-east-1:123456789012:function:orders-validate-dev"


def test_a_function_without_a_name_is_named_by_its_logical_id(dev):
    summarise = dev.function("SummariseFunction")
    assert summarise.name == "SummariseFunction"
    assert summarise.timeout == 10  # its own Timeout replaces the global one


def test_layers_are_ignored_with_a_warning_naming_the_property(dev):
    assert "Resources/ValidateFunction/Properties/Layers" in " ".join(dev.warnings)


def test_overrides_change_names_mapping_lookups_and_conditional_properties(prod):
    validate = prod.function("ValidateFunction")
    assert validate.name == "orders-validate-prod"
    assert validate.memory_size == 1024  # Fn::FindInMap [StageConfig, prod, MemorySize]
    assert validate.reserved_concurrency == 50
    assert validate.environment["BATCH_SIZE"] == "25"
    assert validate.arn == "arn:aws:lambda:eu-west-1:111122223333:function:orders-validate-prod"


# -- state machines ---------------------------------------------------------------------------------


def test_state_machines_are_named_and_typed(dev):
    orders, report = dev.state_machines
    assert (orders.logical_id, orders.name, orders.type) == ("OrdersMachine", "orders-dev", "STANDARD")
    assert orders.arn == "arn:aws:states:us-east-1:123456789012:stateMachine:orders-dev"
    assert (report.name, report.type) == ("ReportMachine", "EXPRESS")
    assert orders.source == str(FIXTURE / "statemachines" / "orders.asl.json")


def test_definition_substitutions_put_local_arns_into_the_json_definition(dev):
    states = dev.state_machine("OrdersMachine").definition["States"]
    assert states["Validate"]["Parameters"]["FunctionName"] == "arn:aws:lambda:us-east-1:123456789012:function:orders-validate-dev"
    branches = {b["StartAt"]: b["States"][b["StartAt"]]["Parameters"] for b in states["Fan out"]["Branches"]}
    assert branches["Publish"]["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:orders-dev"
    assert branches["Enqueue"]["QueueUrl"] == "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dev"
    assert branches["Etl"]["JobName"] == "orders-etl-dev"
    assert branches["Report"]["StateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:ReportMachine"


def test_a_yaml_definition_file_is_read_and_substituted(dev):
    report = dev.state_machine("ReportMachine").definition
    assert report["Comment"] == "Summarises a batch of items (dev)"
    assert report["States"]["Summarise"]["Parameters"]["FunctionName"] == "SummariseFunction"
    assert report["States"]["Stamp"]["Parameters"]["stage"] == "dev"


def test_lookup_by_logical_id_name_or_arn(dev):
    orders = dev.state_machine("OrdersMachine")
    assert dev.state_machine("orders-dev") is orders
    assert dev.state_machine(orders.arn) is orders
    assert dev.state_machine("Nope") is None


# -- schedules -------------------------------------------------------------------------------------


def test_schedule_and_schedule_v2_events_become_schedules(dev):
    nightly, hourly = dev.schedules
    assert (nightly.name, nightly.expression, nightly.kind) == ("OrdersMachineNightly", "cron(0 2 * * ? *)", "Schedule")
    assert nightly.input == '{"source": "nightly"}'
    assert nightly.enabled is True and nightly.timezone is None
    assert nightly.state_machine_arn == dev.state_machine("OrdersMachine").arn
    assert (hourly.name, hourly.expression, hourly.kind) == ("orders-hourly-dev", "rate(1 hour)", "ScheduleV2")
    assert hourly.timezone == "Europe/Paris"
    assert hourly.enabled is False  # State: !If [IsProd, ENABLED, DISABLED]


def test_schedule_state_follows_the_condition(prod):
    assert [s.enabled for s in prod.schedules] == [True, True]
    assert prod.schedules[1].state_machine_arn == "arn:aws:states:eu-west-1:111122223333:stateMachine:orders-prod"


# -- topics, queues, Glue --------------------------------------------------------------------------


def test_topic_subscriptions_inline_resource_and_function_event(dev):
    (topic,) = dev.topics
    assert (topic.name, topic.arn) == ("orders-dev", "arn:aws:sns:us-east-1:123456789012:orders-dev")
    subs = [(s.protocol, s.endpoint) for s in topic.subscriptions]
    assert subs == [
        ("email", "ops@example.com"),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:orders-dev"),
        ("https", "https://hooks.example.com/orders"),
        ("lambda", "arn:aws:lambda:us-east-1:123456789012:function:SummariseFunction"),
    ]
    webhook = topic.subscriptions[2]
    assert webhook.raw_message_delivery is True
    assert webhook.filter_policy == {"size": ["large"]}
    assert webhook.logical_id == "WebhookSubscription"


def test_queues_fifo_names_and_conditions(dev, prod):
    orders, audit = dev.queues
    assert (orders.name, orders.visibility_timeout, orders.fifo) == ("orders-dev", 60, False)
    assert orders.url == "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dev"
    assert dev.queue(orders.url) is orders
    assert (audit.name, audit.fifo, audit.content_based_deduplication) == ("AuditQueue.fifo", True, True)
    assert audit.arn == "arn:aws:sqs:us-east-1:123456789012:AuditQueue.fifo"
    assert [q.logical_id for q in prod.queues] == ["OrdersQueue", "AuditQueue", "ProdOnlyQueue"]


def test_glue_job(dev):
    (job,) = dev.glue_jobs
    assert job.name == "orders-etl-dev"
    assert job.script == FIXTURE / "jobs" / "etl.py"
    assert job.default_arguments == {"--stage": "dev", "--batch_size": "10"}
    assert (job.timeout_minutes, job.max_concurrent_runs, job.command_name) == (30, 2, "glueetl")


def test_parameters_are_the_resolved_values(dev, prod):
    assert dev.parameters == {"Stage": "dev", "AlertEmail": "ops@example.com", "BatchSize": "10"}
    assert prod.parameters["Stage"] == "prod"

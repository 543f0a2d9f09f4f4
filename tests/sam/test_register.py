"""The template's state machines in the running service: Runtime.register_project_state_machines
(create, idempotent, update, replace on type change), `stepflow run <LogicalId> --template`,
and `stepflow serve --template` driven by boto3."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from stepflow.cli.main import cli
from stepflow.errors import TemplateError
from stepflow.runtime import Runtime, Settings, run
from stepflow.testing import ServeError, serve

from sam_helpers import PASS, TEMPLATE

ORDERS_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders-dev"
REPORT_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:ReportMachine"


def runtime(template=TEMPLATE, store="memory://", **overrides) -> Runtime:
    return Runtime(Settings(store_url=store, template=str(template), parameter_overrides=overrides))


# -- in process ------------------------------------------------------------------------------------


def test_register_creates_every_declared_state_machine():
    rt = runtime()
    assert rt.project is not None and rt.project.path == TEMPLATE
    assert rt.register_project_state_machines() == [ORDERS_ARN, REPORT_ARN]
    listed = {m["name"]: m["type"] for m in rt.service.list_state_machines()["stateMachines"]}
    assert listed == {"orders-dev": "STANDARD", "ReportMachine": "EXPRESS"}
    described = rt.service.describe_state_machine(stateMachineArn=REPORT_ARN)
    assert json.loads(described["definition"]) == rt.project.state_machine("ReportMachine").definition


def test_the_template_functions_are_the_runtime_functions():
    rt = runtime()
    assert rt.functions.find("orders-validate-dev") is not None
    assert rt.functions.find("arn:aws:lambda:us-east-1:123456789012:function:SummariseFunction") is not None


def test_register_is_idempotent():
    rt = runtime()
    rt.register_project_state_machines()
    revision = rt.service.describe_state_machine(stateMachineArn=ORDERS_ARN)["revisionId"]
    rt.register_project_state_machines()
    assert rt.service.describe_state_machine(stateMachineArn=ORDERS_ARN)["revisionId"] == revision
    assert len(rt.service.list_state_machines()["stateMachines"]) == 2


def test_a_changed_definition_updates_the_stored_state_machine(tmp_path):
    store = f"sqlite:///{tmp_path / 'stepflow.db'}"
    first = runtime(store=store)
    first.register_project_state_machines()
    before = first.service.describe_state_machine(stateMachineArn=REPORT_ARN)
    first.store.close()
    second = runtime(store=store, Stage="prod")  # ReportMachine keeps its name; its definition changes
    second.register_project_state_machines()
    after = second.service.describe_state_machine(stateMachineArn=REPORT_ARN)
    assert after["revisionId"] != before["revisionId"]
    assert json.loads(after["definition"])["States"]["Stamp"]["Parameters"]["stage"] == "prod"
    names = {m["name"] for m in second.service.list_state_machines()["stateMachines"]}
    assert names == {"orders-dev", "orders-prod", "ReportMachine"}


def test_a_changed_type_replaces_the_state_machine(project_dir, tmp_path):
    store = f"sqlite:///{tmp_path / 'types.db'}"
    text = "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties: {{Type: {t}, DefinitionUri: sm.json}}\n"
    first = runtime(project_dir(text.format(t="STANDARD"), {"sm.json": PASS}), store)
    (arn,) = first.register_project_state_machines()
    first.store.close()
    second = runtime(project_dir(text.format(t="EXPRESS"), {"sm.json": PASS}), store)
    second.register_project_state_machines()
    assert second.service.describe_state_machine(stateMachineArn=arn)["type"] == "EXPRESS"


def test_a_template_error_raises_before_anything_runs(project_dir):
    path = project_dir("Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties: {DefinitionUri: none.json}\n")
    with pytest.raises(TemplateError, match="Resources/M/Properties/DefinitionUri: file none.json not found"):
        runtime(path)


def test_python_run_accepts_a_logical_id_or_a_name():
    result = run("ReportMachine", {"items": [1, 2]}, template=str(TEMPLATE))
    assert result.status == "SUCCEEDED"
    assert result.output == {"stage": "dev", "count": 2, "function": "SummariseFunction"}
    assert result.execution_arn.startswith("arn:aws:states:us-east-1:123456789012:express:ReportMachine:")
    failed = run("orders-dev", {"order": {"total": 0}}, template=str(TEMPLATE))
    assert (failed.status, failed.error) == ("FAILED", "Order.Invalid")
    assert failed.execution_arn.startswith("arn:aws:states:us-east-1:123456789012:execution:orders-dev:")


def test_python_run_with_an_unknown_machine_name_lists_the_declared_ones():
    with pytest.raises(TemplateError, match=r"Nope: no state machine .* \(it declares: OrdersMachine, ReportMachine\)"):
        run("Nope", {}, template=str(TEMPLATE))


# -- stepflow run ----------------------------------------------------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_run_a_state_machine_of_the_template_by_logical_id():
    result = invoke("run", "ReportMachine", "--template", str(TEMPLATE), "--input", '{"items": [1, 2, 3]}')
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"stage": "dev", "count": 3, "function": "SummariseFunction"}


def test_cli_run_with_parameter_overrides():
    result = invoke("run", "ReportMachine", "--template", str(TEMPLATE), "--parameter-overrides", "Stage=prod BatchSize=5",
                    "--input", '{"items": []}')
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stage"] == "prod"


def test_cli_run_a_failing_template_machine_exits_1():
    result = invoke("run", "OrdersMachine", "--template", str(TEMPLATE), "--input", '{"order": {"total": -1}}')
    assert result.exit_code == 1
    assert "Order.Invalid" in result.stderr


@pytest.mark.parametrize("args, message", [
    (("run", "Nope", "--template", str(TEMPLATE)), "Nope: no state machine with this logical id or name in template.yaml"),
    (("run", "Nope"), "File 'Nope' does not exist."),
    (("run", "ReportMachine", "--template", str(TEMPLATE), "--parameter-overrides", "Stage=qa"),
     "Parameters/Stage: 'qa' is not one of the AllowedValues"),
])
def test_cli_run_usage_errors_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr


# -- stepflow serve --template, as a subprocess driven by boto3 -----------------------------------------


@pytest.fixture(scope="module")
def sfn(tmp_path_factory):
    """boto3 on a ``stepflow serve --template TEMPLATE --parameter-overrides Stage=prod``."""
    with serve("--template", str(TEMPLATE), "--parameter-overrides", "Stage=prod", "--log-level", "error",
               cwd=tmp_path_factory.mktemp("serve")) as server:
        yield server.client()


def test_serve_registers_every_state_machine_of_the_template(sfn):
    machines = {m["name"]: m for m in sfn.list_state_machines()["stateMachines"]}
    assert set(machines) == {"orders-prod", "ReportMachine"}
    assert machines["orders-prod"]["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:orders-prod"
    assert machines["ReportMachine"]["type"] == "EXPRESS"


def test_served_state_machines_run_with_the_overridden_parameters(sfn):
    report = sfn.start_sync_execution(stateMachineArn=REPORT_ARN, input=json.dumps({"items": ["a"]}))
    assert report["status"] == "SUCCEEDED"
    assert json.loads(report["output"]) == {"stage": "prod", "count": 1, "function": "SummariseFunction"}


def test_serve_with_a_broken_template_exits_2_naming_resource_and_property(project_dir):
    path = project_dir("Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties: {DefinitionUri: gone.json}\n")
    with pytest.raises(ServeError, match="exited with 2") as raised:
        with serve("--template", str(path)):
            pass
    assert "Resources/M/Properties/DefinitionUri: file gone.json not found" in str(raised.value)

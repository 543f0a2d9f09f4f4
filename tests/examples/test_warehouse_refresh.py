"""examples/warehouse_refresh: the one command of the README runs the whole refresh through
``stepflow serve`` (real Lambda worker processes, Glue subprocesses, HTTP, SMTP, SNS, SQS, a
nested execution and a task-token callback), and every test case of its MockConfigFile ends as
it should."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import stepflow
from stepflow.cli.main import cli
from stepflow.sam import load_project
from stepflow.store import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "warehouse_refresh"
TEMPLATE, MOCKS = str(EXAMPLE / "template.yaml"), str(EXAMPLE / "mocks.json")
CASES = list(json.loads(Path(MOCKS).read_text())["StateMachines"]["warehouse-refresh"]["TestCases"])


def run_example(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLE / "run.py"), *args], capture_output=True, text=True, timeout=120)


def test_one_command_runs_the_refresh_end_to_end(tmp_path):
    result = run_example("--workdir", str(tmp_path))
    workdir = tmp_path / ".stepflow"  # everything the run wrote
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WaitForExports" in result.stdout and "_SUCCESS written" in result.stdout
    store = open_store(f"sqlite:///{workdir / 'stepflow.db'}")
    try:
        [main] = [e for e in store.list_executions(None, None) if ":warehouse-refresh:" in e.arn]
        [child] = [e for e in store.list_executions(None, None) if ":warehouse-refresh-reports:" in e.arn]
        assert (main.status, child.status) == ("SUCCEEDED", "SUCCEEDED")
        output = json.loads(main.output_text)
        types = [event["type"] for event in store.history(main.arn)]
        notifications = store.list_resources("sns-message")
        table_events = store.list_resources("sqs-message")
        glue_runs = store.list_resources("glue-job-run")
    finally:
        store.close()
    assert output["export_checks"] == 2 and "WaitStateEntered" in types  # the export landed late
    assert output["rates"]["source"] == "api"  # the HTTP Task reached the runner's reference-data API
    assert output["quality"]["passed"] is True and output["quality"]["metrics"]["orders_rows"] == 41
    assert output["revenue_usd"] > 0 and output["reports"] == ["daily_revenue", "top_products", "revenue_by_country"]
    assert "TaskSubmitted" in types  # the quality gate's task token, answered by the Lambda through boto3
    [notification] = notifications
    assert notification["Subject"].endswith("succeeded")
    assert sorted((d["Protocol"], d["Status"]) for d in notification["Deliveries"]) == [
        ("email", "DELIVERED"), ("file", "DELIVERED"), ("http", "DELIVERED")]
    assert sorted(json.loads(m["Body"])["table"] for m in table_events) == ["customers", "orders", "products"]
    assert sorted((r["JobName"], r["JobRunState"]) for r in glue_runs) == [
        ("refresh-build-warehouse", "SUCCEEDED")] + [("refresh-load-table", "SUCCEEDED")] * 3
    current = workdir / "warehouse" / "current"
    assert current.resolve() == (workdir / "warehouse" / "snapshots" / output["snapshot_date"]).resolve()
    assert json.loads((current / "reports" / "top_products.json").read_text())["rows"][0]["product"] == "Standing desk"
    assert len((workdir / "notifications.jsonl").read_text().splitlines()) == 1
    assert "quality gate passed" in result.stdout  # `stepflow logs refresh-quality-gate --execution ARN`


def mocked_run(case: str, tmp_path: Path):
    return stepflow.run("WarehouseRefresh", {"snapshot_date": "2024-07-01"}, template=TEMPLATE, mock_config=MOCKS,
                        test_case=case, parameter_overrides={"NotificationsFile": str(tmp_path / "notifications.jsonl")})


def entered(result, state: str) -> int:
    return sum(1 for e in result.history if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state)


def notified_subjects(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "notifications.jsonl").read_text().splitlines()
    return [json.loads(line)["Subject"] for line in lines]


def test_happy_path(tmp_path):
    result = mocked_run("HappyPath", tmp_path)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["snapshot_date"] == "2024-07-01" and result.output["export_checks"] == 1
    assert result.output["rates"]["source"] == "api" and result.output["quality"]["passed"] is True
    assert [t["table"] for t in result.output["tables"]] == ["customers", "products", "orders"]
    assert notified_subjects(tmp_path) == ["Warehouse refresh 2024-07-01 succeeded"]


def test_late_exports_wait_and_check_again(tmp_path):
    result = mocked_run("LateExports", tmp_path)
    assert result.status == "SUCCEEDED" and result.output["export_checks"] == 2
    assert entered(result, "WaitForExports") == 1 and entered(result, "CheckExports") == 2


def test_exports_that_never_arrive_fail_after_three_checks(tmp_path):
    result = mocked_run("ExportsNeverArrive", tmp_path)
    assert (result.status, result.error) == ("FAILED", "ExportsNotReady")
    assert result.cause == 'Exports still missing after 3 checks: ["_SUCCESS","orders.csv"]'
    assert entered(result, "CheckExports") == 3 and entered(result, "StageTablesAndRates") == 0
    assert notified_subjects(tmp_path) == ["Warehouse refresh 2024-07-01 FAILED"]


def test_a_failing_glue_job_is_retried_then_caught_and_notified(tmp_path):
    result = mocked_run("GlueJobFails", tmp_path)
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert json.loads(result.cause)["JobRunState"] == "FAILED"
    assert entered(result, "NotifyFailure") == 1 and entered(result, "BuildWarehouse") == 0
    assert notified_subjects(tmp_path) == ["Warehouse refresh 2024-07-01 FAILED"]


def test_a_glue_job_that_fails_once_succeeds_on_retry(tmp_path):
    result = mocked_run("RetryThenSucceed", tmp_path)
    assert result.status == "SUCCEEDED", result.cause
    glue_attempts = [e for e in result.history if e["type"] == "TaskScheduled"
                     and e["taskScheduledEventDetails"]["resource"] == "startJobRun.sync"
                     and "refresh-load-table" in e["taskScheduledEventDetails"]["parameters"]]
    assert len(glue_attempts) == 4  # three tables, one of them twice ("0" Throw, "1-3" Return)


def test_rates_api_down_keeps_the_previous_rates(tmp_path):
    result = mocked_run("RatesApiDown", tmp_path)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["rates"]["source"] == "previous"
    assert entered(result, "FetchRates") == 1 and entered(result, "KeepPreviousRates") == 1 and entered(result, "StoreRates") == 0


def test_a_rejected_quality_gate_does_not_publish(tmp_path):
    result = mocked_run("QualityGateRejects", tmp_path)
    assert (result.status, result.error) == ("FAILED", "QualityCheckFailed")
    assert entered(result, "PublishWarehouse") == 0 and entered(result, "NotifyFailure") == 1


def test_the_runner_runs_every_test_case_through_the_cli(tmp_path):
    result = run_example("--mock-tests", "--workdir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split()[:3] for line in result.stdout.splitlines() if line.startswith(("ok", "FAIL"))] == [
        ["ok", case, status] for case, status in zip(CASES, ["SUCCEEDED", "SUCCEEDED", "FAILED", "FAILED", "SUCCEEDED",
                                                             "SUCCEEDED", "FAILED"])]


def test_the_nightly_schedule_is_declared():
    result = CliRunner().invoke(cli, ["schedules", "--template", TEMPLATE])
    assert result.exit_code == 0, result.output
    assert "warehouse-refresh-nightly  cron(0 2 * * ? *)  -> arn:aws:states:us-east-1:123456789012:stateMachine:warehouse-refresh" in result.output
    project = load_project(TEMPLATE)
    assert project.warnings == () and [s.input for s in project.schedules] == ['{"trigger": "schedule"}']

"""The ``stepflow`` command: run (exit codes, stdout/stderr, --input-file, --history, --template),
validate, and the help texts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepflow.cli.main import cli

SAM_APP = Path(__file__).resolve().parents[1] / "fixtures" / "sam_app"
TEMPLATE = SAM_APP / "template.yaml"

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"got.$": "$.x"}, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Order.Rejected", "Cause": "total is negative"}}}
SLOW = {"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}}
INVALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}


@pytest.fixture
def write(tmp_path):
    """``write(name, value)``: a JSON file in a temporary folder; returns its path as str."""

    def _write(name: str, value) -> str:
        path = tmp_path / name
        path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
        return str(path)

    return _write


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- run: exit codes and streams -------------------------------------------------------------------


def test_run_succeeded_prints_the_output_and_exits_0(write):
    result = invoke("run", write("m.json", PASS), "--input", '{"x": [1, 2]}')
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"got": [1, 2]}
    assert result.stderr == ""


def test_run_failed_exits_1_with_error_and_cause_on_stderr(write):
    result = invoke("run", write("m.json", FAIL))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Order.Rejected" in result.stderr
    assert "total is negative" in result.stderr


def test_run_invalid_definition_exits_2_with_the_location(write):
    result = invoke("run", write("m.json", INVALID))
    assert result.exit_code == 2
    assert "/States/A/Next" in result.stderr


def test_run_definition_that_is_not_json_exits_2(write):
    result = invoke("run", write("m.json", "{oops"))
    assert result.exit_code == 2


def test_run_invalid_input_exits_2(write):
    result = invoke("run", write("m.json", PASS), "--input", "{not json")
    assert result.exit_code == 2
    assert "Invalid" in result.stderr


def test_run_input_and_input_file_together_is_a_usage_error(write):
    result = invoke("run", write("m.json", PASS), "--input", "{}", "--input-file", write("in.json", {}))
    assert result.exit_code == 2


def test_run_timed_out_exits_3(write):
    # Scaled time: the 100 s Wait lasts 0.1 s, the machine's 1 s timeout 1 ms.
    result = invoke("run", write("m.json", SLOW), "--time-scale", "0.001")
    assert result.exit_code == 3
    assert "TIMED_OUT" in result.stderr
    assert "States.Timeout" in result.stderr


def test_run_with_input_file(write):
    result = invoke("run", write("m.json", PASS), "--input-file", write("input.json", {"x": "from file"}))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"got": "from file"}


def test_run_yaml_definition(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("StartAt: P\nStates:\n  P:\n    Type: Pass\n    Result: yaml\n    End: true\n", encoding="utf-8")
    result = invoke("run", str(path))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == "yaml"


def test_run_history_prints_events_as_json_lines_on_stderr(write):
    result = invoke("run", write("m.json", PASS), "--input", '{"x": 1}', "--history")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"got": 1}
    events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == [1, 2, 3, 4]


def test_run_name_sets_the_execution_name(write):
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"n.$": "$$.Execution.Name"}, "End": True}}}
    result = invoke("run", write("m.json", definition), "--name", "nightly-1")
    assert json.loads(result.stdout) == {"n": "nightly-1"}


# -- run with a SAM template -----------------------------------------------------------------------


def test_run_with_template_uses_handler_codeuri_environment_and_globals():
    result = invoke("run", str(SAM_APP / "greet.asl.json"), "--template", str(TEMPLATE), "--input", '{"name": "Ann"}')
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"message": "Hello, Ann!", "stage": "test"}


def test_run_with_template_legacy_arn_and_memory_size(write):
    definition = {"StartAt": "G", "States": {"G": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:greet-test", "End": True}}}
    result = invoke("run", write("m.json", definition), "--template", str(TEMPLATE), "--input", '{"name": "Bo"}')
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["function"] == "greet-test"
    assert out["memory"] == "256"  # from Globals


def test_run_with_template_handler_error_exits_1(write):
    definition = {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                   "Parameters": {"FunctionName": "boom", "Payload": {"why": "cli"}}, "End": True}}}
    result = invoke("run", write("m.json", definition), "--template", str(TEMPLATE))
    assert result.exit_code == 1
    assert "RuntimeError" in result.stderr
    assert "boom: cli" in result.stderr


def test_run_with_template_function_timeout_is_reported_as_lambda_does(write):
    definition = {"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow", "End": True}}}
    result = invoke("run", write("m.json", definition), "--template", str(TEMPLATE), "--input", '{"seconds": 2}')
    assert result.exit_code == 1
    assert "Sandbox.Timedout" in result.stderr
    assert "Task timed out after 1.00 seconds" in result.stderr


def test_run_with_a_missing_template_is_a_usage_error(write):
    result = invoke("run", write("m.json", PASS), "--template", "/nonexistent/template.yaml")
    assert result.exit_code == 2


# -- validate --------------------------------------------------------------------------------------


def test_validate_ok_exits_0(write):
    path = write("ok.json", PASS)
    result = invoke("validate", path)
    assert result.exit_code == 0
    assert "OK" in result.stdout


def test_validate_problems_exit_1_with_locations(write):
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Bogus"}}}
    path = write("bad.json", bad)
    result = invoke("validate", path)
    assert result.exit_code == 1
    assert "/States/A/Next" in result.stdout
    assert "/States/B" in result.stdout
    assert path in result.stdout


def test_validate_several_files_fails_if_any_fails(write):
    result = invoke("validate", write("ok.json", PASS), write("bad.json", INVALID))
    assert result.exit_code == 1
    assert "ok.json: OK" in result.stdout


def test_validate_not_json_exits_1(write):
    result = invoke("validate", write("broken.json", "{nope"))
    assert result.exit_code == 1


# -- help ------------------------------------------------------------------------------------------


def test_top_level_help_has_an_example():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_help_has_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"`stepflow {command} --help` shows no example"


def test_the_installed_entry_point_runs(write):
    done = subprocess.run([sys.executable, "-m", "stepflow", "run", write("m.json", FAIL)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Order.Rejected" in done.stderr


def test_run_with_a_store_keeps_its_executions_for_the_store_commands(write, tmp_path):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    assert invoke("run", write("pass.json", PASS), "--input", '{"x": 1}', "--store", store).exit_code == 0
    changed = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "changed", "End": True}}}
    second = invoke("run", write("changed.json", changed), "--store", store)  # same run machine, new definition
    assert (second.exit_code, second.output.strip()) == (0, '"changed"')
    listed = invoke("executions", "--store", store, "--json")
    arns = [json.loads(line)["executionArn"] for line in listed.output.splitlines()]
    assert len(arns) == 2  # newest first
    events = [json.loads(line) for line in invoke("history", arns[-1], "--store", store, "--json").output.splitlines()]
    assert events[-1]["type"] == "ExecutionSucceeded"
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == {"got": 1}


def test_a_store_that_cannot_be_reached_is_one_line_without_the_password():
    result = CliRunner().invoke(cli, ["executions", "--store", "postgresql://etl:s3cret@127.0.0.1:1/pipeline"])
    assert result.exit_code == 1
    assert "store postgresql://etl@127.0.0.1:1/pipeline is unavailable" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output

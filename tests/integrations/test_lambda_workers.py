"""The worker-process Lambda runtime with real worker processes (tests/integrations/lambda_app).

Each test names what it protects: warm reuse, one environment per concurrent invocation with its
own TMPDIR, the template's variables and Lambda's, ReservedConcurrentExecutions, a Timeout that
kills the whole process tree, AWS's error shapes, the context object, the per-function logs, and
the conformance-style path through ``stepflow.run``. Waiting is done by polling files or pool
state with a generous limit; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import stepflow
from stepflow import sam
from stepflow.cli.main import cli
from stepflow.integrations.lambda_environment import sweep_orphan_folders
from stepflow.integrations.lambda_logs import LambdaLogs
from stepflow.integrations.lambda_workers import (
    LambdaServiceError,
    LambdaWorkers,
    WorkerFunction,
)

APP = Path(__file__).resolve().parent / "lambda_app"
TEMPLATE = APP / "template.yaml"
SPECS = {spec.name: spec for spec in sam.load_project(TEMPLATE).functions}
EXECUTION_A = "arn:aws:states:us-east-1:123456789012:execution:machine:run-a"
EXECUTION_B = "arn:aws:states:us-east-1:123456789012:execution:machine:run-b"


@pytest.fixture
def workers(tmp_path):
    runtime = LambdaWorkers(LambdaLogs(tmp_path / "logs"))
    yield runtime
    runtime.close()


def call(workers: LambdaWorkers, name: str, event=None, request_id: str | None = None, execution_arn: str = ""):
    """One invocation; returns (FunctionError, decoded payload)."""
    payload = json.dumps({} if event is None else event).encode()
    response = asyncio.run(workers.invoke(SPECS[name], payload, request_id, execution_arn))
    return response.function_error, json.loads(response.payload)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (PID 1 here may not reap orphans)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")


def wait_until(predicate, limit: float = 20.0) -> bool:
    give_up = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.01)
    return True


# -- execution environments -----------------------------------------------------------------


def test_warm_environment_keeps_module_state_between_invocations(workers):
    results = [call(workers, "counter")[1] for _ in range(3)]
    assert [r["count"] for r in results] == [1, 2, 3]
    assert len({r["pid"] for r in results}) == 1
    assert results[0]["pid"] != os.getpid()


def test_concurrent_invocations_get_separate_environments_with_their_own_tmpdir(workers, tmp_path):
    folder = tmp_path / "meet"
    folder.mkdir()

    async def both():
        event = json.dumps({"folder": str(folder), "parties": 2}).encode()
        return await asyncio.gather(*(workers.invoke(SPECS["rendezvous"], event) for _ in range(2)))

    first, second = (json.loads(r.payload) for r in asyncio.run(both()))
    assert first["pid"] != second["pid"]
    assert first["tmpdir"] != second["tmpdir"]
    for mine, other in ((first, second), (second, first)):
        assert Path(mine["private_file"]).parent == Path(mine["tmpdir"])
        assert Path(mine["private_file"]).name in mine["sees"]
        assert Path(mine["private_file"]).name not in other["sees"]


def test_environment_variables_come_from_globals_the_function_and_lambda(workers):
    error, out = call(workers, "inspect")
    assert error is None
    env = out["env"]
    assert env["STAGE"] == "test"  # Globals
    assert env["GREETING"] == "Howdy"  # the function's own value wins over Globals
    assert env["PUNCTUATION"] == "!"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "inspect"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/inspect"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["LAMBDA_TASK_ROOT"] == str(APP / "src") == out["cwd"] == out["sys_path_0"]
    assert env["_HANDLER"] == "handlers.inspect"
    assert env["TZ"] == ":UTC" and out["local_hour_is_utc"]
    assert env["TMPDIR"] and not env["TMPDIR"].startswith(str(APP))


def test_context_has_aws_attributes_and_a_remaining_time_that_counts_down(workers):
    error, out = call(workers, "inspect", request_id="req-123")
    ctx = out["context"]
    assert error is None
    assert ctx["function_name"] == "inspect"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:inspect"
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["aws_request_id"] == "req-123"
    assert ctx["log_group_name"] == "/aws/lambda/inspect"
    assert ctx["log_stream_name"] == out["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert "CognitoIdentity" in ctx["identity"] and ctx["client_context"] is None
    first, later = out["remaining"]
    assert 0 < later < first <= 20_000  # Timeout 20 s (Globals); the handler slept in between


# -- concurrency ----------------------------------------------------------------------------


def test_reserved_concurrency_makes_the_extra_invocation_wait_for_a_free_environment(workers, tmp_path):
    (tmp_path / "running").mkdir()
    spec = SPECS["hold"]  # ReservedConcurrentExecutions: 2

    async def three():
        event = json.dumps({"folder": str(tmp_path)}).encode()
        tasks = [asyncio.create_task(workers.invoke(spec, event)) for _ in range(3)]
        assert await asyncio.to_thread(wait_until, lambda: len(os.listdir(tmp_path / "running")) == 2)
        await asyncio.sleep(0)
        assert workers.pool.counts("hold")[1] == 2  # two busy environments, the third invocation waits
        assert len(os.listdir(tmp_path / "running")) == 2
        (tmp_path / "release").touch()
        return [json.loads(r.payload) for r in await asyncio.gather(*tasks)]

    results = asyncio.run(three())
    assert all(r["peak"] <= 2 for r in results)
    assert len({r["pid"] for r in results}) == 2  # the third ran in a warm environment


def test_many_concurrent_invocations_over_a_small_cap_all_complete(tmp_path):
    workers = LambdaWorkers(LambdaLogs(tmp_path / "logs"), max_environments=3)
    names = ["counter", "raw", "chatty"] * 10

    async def burst():
        events = {"chatty": b'{"tag": "x"}'}
        return await asyncio.gather(*(workers.invoke(SPECS[n], events.get(n, b"{}")) for n in names))

    try:
        responses = asyncio.run(burst())
        assert all(r.function_error is None for r in responses)
        counts = [workers.pool.counts(name) for name in ("counter", "raw", "chatty")]
        assert all(busy == 0 for _, busy in counts)
        assert sum(idle for idle, _ in counts) <= 3
    finally:
        workers.close()


def test_reserved_concurrency_zero_is_throttled(workers):
    with pytest.raises(LambdaServiceError) as caught:
        call(workers, "throttled")
    assert caught.value.error == "Lambda.TooManyRequestsException"
    assert "Rate Exceeded." in caught.value.cause


def test_global_cap_evicts_the_least_recently_used_idle_environment(tmp_path):
    workers = LambdaWorkers(LambdaLogs(tmp_path / "logs"), max_environments=1)
    try:
        counter_pid = call(workers, "counter")[1]["pid"]
        assert call(workers, "raw")[0] is None
        assert wait_until(lambda: not alive(counter_pid))
        assert call(workers, "counter")[1]["count"] == 1  # a cold start: the old environment is gone
    finally:
        workers.close()


# -- timeouts and failures ------------------------------------------------------------------


def test_timeout_kills_the_worker_and_every_child_and_is_reported_as_lambda_does(workers, tmp_path):
    pids_file = tmp_path / "pids"
    error, body = call(workers, "sleeper", {"pids_file": str(pids_file)}, request_id="req-timeout")
    assert error == "Unhandled"
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": "RequestId: req-timeout Error: Task timed out after 1.00 seconds"}
    worker, child, escaped = (int(p) for p in pids_file.read_text().split())
    assert wait_until(lambda: not any(alive(pid) for pid in (worker, child, escaped)))
    assert workers.pool.counts("sleeper") == (0, 0)  # the environment was replaced, not kept


def test_unhandled_exception_has_the_python_runtime_shape(workers):
    error, body = call(workers, "boom", {"order": 7}, request_id="req-boom")
    assert error == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad order 7"
    assert body["requestId"] == "req-boom"
    assert len(body["stackTrace"]) == 1
    assert re.fullmatch(r'  File "/var/task/handlers\.py", line \d+, in boom\n    raise ValueError\(.*\)\n',
                        body["stackTrace"][0])


def test_exception_without_args_reports_its_message_attribute(workers):
    _, body = call(workers, "custom")
    assert (body["errorType"], body["errorMessage"]) == ("CustomError", "CustomError message")


def test_environment_survives_a_handler_exception(workers):
    call(workers, "boom", {"order": 1})
    call(workers, "boom", {"order": 2})
    assert workers.pool.counts("boom") == (1, 0)


@pytest.mark.parametrize(("name", "reason"), [("crash", "exit status 3"), ("segfault", "signal: segmentation fault")])
def test_worker_crash_is_a_runtime_exit_error(workers, name, reason):
    error, body = call(workers, name, request_id="req-crash")
    assert error == "Unhandled"
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: req-crash Error: Runtime exited with error: {reason}"}
    assert workers.pool.counts(name) == (0, 0)


def test_import_failures_use_the_runtime_error_types(workers):
    _, missing_module = call(workers, "missing-module")
    assert missing_module["errorType"] == "Runtime.ImportModuleError"
    assert missing_module["errorMessage"] == "Unable to import module 'nowhere': No module named 'nowhere'"
    _, missing_handler = call(workers, "missing-handler")
    assert missing_handler["errorType"] == "Runtime.HandlerNotFound"
    assert missing_handler["errorMessage"] == "Handler 'nothing_here' missing on module 'handlers'"


def test_results_are_marshalled_as_the_python_runtime_does(workers):
    error, body = call(workers, "unmarshalable")
    assert error == "Unhandled"
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"].startswith("Unable to marshal response: Object of type set is not JSON serializable")
    assert call(workers, "raw") == (None, "already JSON")  # bytes are the payload as they are


# -- lifecycle ------------------------------------------------------------------------------


def test_idle_environments_are_reaped(workers):
    pid = call(workers, "counter")[1]["pid"]
    assert workers.pool.reap(now=time.monotonic() + workers.pool.idle_seconds + 1) == 1
    assert not alive(pid)
    assert call(workers, "counter")[1]["count"] == 1


def test_close_shuts_every_environment_down_and_removes_its_tmpdir(tmp_path):
    workers = LambdaWorkers(LambdaLogs(tmp_path / "logs"))
    pid = call(workers, "counter")[1]["pid"]
    _, inspected = call(workers, "inspect")
    workers.close()
    assert wait_until(lambda: not alive(pid))
    assert not Path(inspected["env"]["TMPDIR"]).exists()


PARENT_SCRIPT = """
import asyncio, json, sys, time
from stepflow import sam
from stepflow.integrations.lambda_workers import LambdaWorkers
specs = {s.name: s for s in sam.load_project(sys.argv[1]).functions}
workers = LambdaWorkers()
out = [json.loads(asyncio.run(workers.invoke(specs[name], b"{}")).payload) for name in ("counter", "inspect")]
print(json.dumps({"pid": out[0]["pid"], "tmpdir": out[1]["env"]["TMPDIR"]}), flush=True)
time.sleep(120)
"""


def test_environments_end_with_their_parent_even_when_it_is_killed(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", PARENT_SCRIPT, str(TEMPLATE)], stdout=subprocess.PIPE, cwd=tmp_path)
    try:
        seen = json.loads(parent.stdout.readline())
        assert alive(seen["pid"]) and Path(seen["tmpdir"]).is_dir()
    finally:
        parent.kill()
        parent.wait()
    assert wait_until(lambda: not alive(seen["pid"]) and not Path(seen["tmpdir"]).exists())


def test_folders_of_dead_stepflow_processes_are_swept(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = tmp_path / f"stepflow-lambda-{gone.pid}-orders-abc123"
    ours = tmp_path / f"stepflow-lambda-{os.getpid()}-orders-def456"
    unrelated = tmp_path / "stepflow-lambda-notapid-x"
    for folder in (orphan, ours, unrelated):
        (folder / "tmp").mkdir(parents=True)
    assert sweep_orphan_folders() == 1
    assert not orphan.exists() and ours.exists() and unrelated.exists()


def test_blocking_invoke_for_plain_threads(workers):
    response = WorkerFunction(SPECS["counter"], workers).invoke(b"{}")
    assert response.function_error is None and json.loads(response.payload)["count"] == 1


# -- logs -----------------------------------------------------------------------------------


def test_logs_are_kept_per_function_with_cloudwatch_lines_and_filtered_by_execution(workers, tmp_path):
    call(workers, "chatty", {"tag": "first"}, request_id="req-a", execution_arn=EXECUTION_A)
    call(workers, "chatty", {"tag": "second"}, request_id="req-b", execution_arn=EXECUTION_B)
    call(workers, "counter", execution_arn=EXECUTION_A)
    logs = LambdaLogs(tmp_path / "logs")
    assert logs.functions() == ["chatty", "counter"]
    only_a = logs.lines("chatty", EXECUTION_A)
    assert only_a[:2] == ["module imported", "START RequestId: req-a Version: $LATEST"]
    assert {"print first", "stderr first"} <= set(only_a)
    assert any(re.fullmatch(r"\[WARNING\]\t\S+Z\treq-a\tlogged first", line) for line in only_a)
    assert not any("second" in line for line in only_a)
    assert only_a[-2] == "END RequestId: req-a"
    report = only_a[-1].split("\t")
    assert report[0] == "REPORT RequestId: req-a"
    assert re.fullmatch(r"Duration: \d+\.\d\d ms", report[1]) and re.fullmatch(r"Billed Duration: \d+ ms", report[2])
    assert report[3] == "Memory Size: 256 MB" and re.fullmatch(r"Max Memory Used: \d+ MB", report[4])
    assert re.fullmatch(r"Init Duration: \d+\.\d\d ms", report[5])  # the first invocation was a cold start
    second_report = logs.lines("chatty", EXECUTION_B)[-1]
    assert "Init Duration" not in second_report  # warm
    assert logs.lines("chatty", tail=1) == [second_report]


def test_timeout_and_crash_lines_in_the_log(workers, tmp_path):
    call(workers, "sleeper", {"pids_file": str(tmp_path / "pids")}, request_id="req-t")
    call(workers, "crash", request_id="req-c")
    logs = LambdaLogs(tmp_path / "logs")
    timeout = logs.lines("sleeper")
    assert any(line.endswith("req-t Task timed out after 1.00 seconds") for line in timeout)
    assert timeout[-1].endswith("\tStatus: timeout")
    crash = logs.lines("crash")
    assert "RequestId: req-c Error: Runtime exited with error: exit status 3" in crash
    assert crash[-1].endswith("\tStatus: error\tError Type: Runtime.ExitError")


def test_stepflow_logs_command_prints_one_execution(workers, tmp_path):
    call(workers, "chatty", {"tag": "first"}, execution_arn=EXECUTION_A)
    call(workers, "chatty", {"tag": "second"}, execution_arn=EXECUTION_B)
    folder = str(tmp_path / "logs")
    result = CliRunner().invoke(cli, ["logs", "chatty", "--execution", EXECUTION_B, "--logs-dir", folder])
    assert result.exit_code == 0, result.output
    assert "print second" in result.output and "print first" not in result.output
    tail = CliRunner().invoke(cli, ["logs", "arn:aws:lambda:us-east-1:123456789012:function:chatty:$LATEST",
                                    "--tail", "2", "--logs-dir", folder])
    assert tail.output.splitlines()[0].startswith("END RequestId:")
    missing = CliRunner().invoke(cli, ["logs", "nobody", "--logs-dir", folder])
    assert missing.exit_code == 1 and "chatty" in missing.output


# -- through the engine ---------------------------------------------------------------------


def test_stepflow_run_calls_template_functions_in_worker_processes_and_tags_their_logs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # logs go to ./.stepflow/logs
    definition = {"StartAt": "Count", "States": {
        "Count": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "counter", "Payload": {}}, "ResultSelector": {"p.$": "$.Payload"},
                  "ResultPath": "$.counted", "Next": "Fail"},
        "Fail": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:boom", "End": True}}}
    result = stepflow.run(definition, {"order": 9}, template=str(TEMPLATE), lambda_mode="process")
    assert result.status == "FAILED"
    assert result.error == "ValueError"
    assert json.loads(result.cause)["errorMessage"] == "bad order 9"
    logs = LambdaLogs(tmp_path / ".stepflow" / "logs")
    assert any(line.startswith("REPORT") for line in logs.lines("counter", result.execution_arn))
    assert any("ValueError: bad order 9" in line for line in logs.lines("boom", result.execution_arn))
    # run() closed its runtime: the pids its environments had are gone
    worker_pid = next(e for e in result.history if e["type"] == "TaskSucceeded")
    pid = json.loads(worker_pid["taskSucceededEventDetails"]["output"])["Payload"]["pid"]
    assert wait_until(lambda: not alive(pid))

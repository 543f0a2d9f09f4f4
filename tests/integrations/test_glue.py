"""glue:startJobRun runs a job's Python script as a real subprocess with Glue-style arguments."""

from __future__ import annotations

import asyncio
import json
import time
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from integration_helpers import create_machine, execute, task

from stepflow.cli.main import cli
from stepflow.engine.clock import Clock
from stepflow.glue import getResolvedOptions
from stepflow.runtime import Runtime, Settings
from stepflow.sam import GlueJobSpec, Project

START = "arn:aws:states:::glue:startJobRun"

GLUE_STYLE = """
import json, sys
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "SNAPSHOT_DT", "DATABASE"])
print(json.dumps(args))
"""

FAILING = """
def transform(rows):
    raise ValueError("bad snapshot date: " + rows)

transform("2025-13-45")
"""

SLEEPER = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[0] + ".pids", "w") as out:
    out.write(f"{os.getpid()} {child.pid}")
time.sleep(600)
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def runtime(tmp_path: Path, *jobs: GlueJobSpec, time_scale: float = 1.0) -> Runtime:
    rt = Runtime(Settings(glue_log_dir=str(tmp_path / "logs"), clock=Clock(time_scale), store_url=f"sqlite:///{tmp_path / 's.db'}"))
    rt.project = Project(path=tmp_path / "template.yaml", glue_jobs=jobs)
    return rt


def job(name: str, script: Path, **extra) -> GlueJobSpec:
    return GlueJobSpec(logical_id=name.title(), name=name, script=script, **extra)


def test_get_resolved_options_reads_glue_arguments():
    argv = ["script.py", "--JOB_NAME", "etl", "--JOB_RUN_ID", "jr_1", "--SNAPSHOT_DT=2025-01-15", "--extra", "x"]
    assert getResolvedOptions(argv, ["JOB_NAME", "SNAPSHOT_DT"]) == {"JOB_NAME": "etl", "SNAPSHOT_DT": "2025-01-15"}
    with pytest.raises(SystemExit):
        getResolvedOptions(argv, ["MISSING"])


def test_sync_run_of_an_unchanged_glue_script_succeeds_with_merged_arguments(tmp_path):
    script = write(tmp_path, "split.py", GLUE_STYLE)
    spec = job("split", script, default_arguments={"--SNAPSHOT_DT": "_NONE_", "--DATABASE": "clean"})

    async def scenario():
        rt = runtime(tmp_path, spec)
        described = await execute(rt, task(f"{START}.sync", {"JobName": "split", "Arguments": {"--SNAPSHOT_DT": "2025-01-15"}}))
        assert described["status"] == "SUCCEEDED", described
        run = json.loads(described["output"])
        assert run["JobRunState"] == "SUCCEEDED" and run["JobName"] == "split" and run["Id"].startswith("jr_")
        assert run["Arguments"] == {"--SNAPSHOT_DT": "2025-01-15"}
        assert isinstance(run["StartedOn"], int) and isinstance(run["CompletedOn"], int)
        assert "LogFile" not in run
        log = tmp_path / "logs" / "split" / f"{run['Id']}.log"
        printed = json.loads(log.read_text().strip().splitlines()[-1])
        assert printed == {"JOB_NAME": "split", "SNAPSHOT_DT": "2025-01-15", "DATABASE": "clean"}
        types = [e["type"] for e in rt.store.history(described["executionArn"])]
        assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]

    asyncio.run(scenario())


def test_plain_start_answers_with_the_run_id_and_the_run_continues(tmp_path):
    script = write(tmp_path, "split.py", GLUE_STYLE)
    spec = job("split", script, default_arguments={"--SNAPSHOT_DT": "d", "--DATABASE": "db"})

    async def scenario():
        rt = runtime(tmp_path, spec)
        described = await execute(rt, task(START, {"JobName": "split"}))
        output = json.loads(described["output"])
        assert output["JobName"] == "split" and output["JobRunId"].startswith("jr_")
        assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
        await rt.services.drain()
        [run] = rt.services.glue.runs("split")
        assert run["Id"] == output["JobRunId"] and run["JobRunState"] == "SUCCEEDED"

    asyncio.run(scenario())


def test_failed_run_fails_the_task_with_the_traceback_in_the_cause(tmp_path):
    script = write(tmp_path, "bad.py", FAILING)

    async def scenario():
        rt = runtime(tmp_path, job("bad", script))
        described = await execute(rt, task(f"{START}.sync", {"JobName": "bad"}))
        assert described["status"] == "FAILED"
        assert described["error"] == "States.TaskFailed"
        cause = json.loads(described["cause"])
        assert cause["JobRunState"] == "FAILED"
        assert cause["ErrorMessage"].startswith("Traceback (most recent call last):")
        assert cause["ErrorMessage"].endswith("ValueError: bad snapshot date: 2025-13-45")
        assert 'line 3, in transform' in cause["ErrorMessage"]

    asyncio.run(scenario())


def test_exit_code_without_traceback_is_glues_command_failed_message(tmp_path):
    script = write(tmp_path, "exit3.py", "import sys\nsys.exit(3)\n")

    async def scenario():
        rt = runtime(tmp_path, job("exit3", script))
        described = await execute(rt, task(f"{START}.sync", {"JobName": "exit3"}))
        assert json.loads(described["cause"])["ErrorMessage"] == "Command failed with exit code 3"

    asyncio.run(scenario())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) is not a running process
    status = Path(f"/proc/{pid}/status").read_text() if Path(f"/proc/{pid}/status").exists() else ""
    return "State:\tZ" not in status


def test_timeout_kills_the_whole_process_group(tmp_path):
    script = write(tmp_path, "sleeper.py", SLEEPER)

    async def scenario():
        # Timeout 1 minute at time scale 0.02: the run is killed after 1.2 s of real time
        rt = runtime(tmp_path, job("sleeper", script, timeout_minutes=1), time_scale=0.02)
        described = await execute(rt, task(f"{START}.sync", {"JobName": "sleeper"}))
        cause = json.loads(described["cause"])
        assert described["error"] == "States.TaskFailed" and cause["JobRunState"] == "TIMEOUT"
        return [int(p) for p in Path(str(script) + ".pids").read_text().split()]

    pids = asyncio.run(scenario())
    assert len(pids) == 2
    assert _all_gone(pids)


def _all_gone(pids, seconds: float = 10.0) -> bool:
    """SIGKILL is asynchronous: give the kernel a moment to reap the killed processes."""
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_stopping_the_execution_stops_the_run_and_its_processes(tmp_path):
    script = write(tmp_path, "sleeper.py", SLEEPER)
    pids_file = Path(str(script) + ".pids")

    async def scenario():
        rt = runtime(tmp_path, job("sleeper", script))
        arn = create_machine(rt, task(f"{START}.sync", {"JobName": "sleeper"}))
        started = rt.service.start_execution(stateMachineArn=arn, input="{}")
        while not pids_file.exists() or len(pids_file.read_text().split()) < 2:
            await asyncio.sleep(0.01)
        rt.service.stop_execution(executionArn=started["executionArn"])
        await rt.services.drain()
        [run] = rt.services.glue.runs("sleeper")
        assert run["JobRunState"] == "STOPPED"

    asyncio.run(scenario())
    assert _all_gone([int(pid) for pid in pids_file.read_text().split()])


def test_max_concurrent_runs_is_enforced(tmp_path):
    script = write(tmp_path, "sleeper.py", SLEEPER)

    async def scenario():
        rt = runtime(tmp_path, job("sleeper", script, max_concurrent_runs=1))
        first = await execute(rt, task(START, {"JobName": "sleeper"}))
        assert first["status"] == "SUCCEEDED"
        second = await execute(rt, task(START, {"JobName": "sleeper"}))
        assert second["error"] == "Glue.ConcurrentRunsExceededException"
        assert second["cause"].startswith("Concurrent runs exceeded for sleeper (Service: AWSGlue;")
        rt.services.glue.stop(json.loads(first["output"])["JobRunId"])
        await rt.services.drain()

    asyncio.run(scenario())


def test_unknown_job_is_entity_not_found(tmp_path):
    async def scenario():
        rt = runtime(tmp_path)
        described = await execute(rt, task(f"{START}.sync", {"JobName": "nope"}))
        assert described["error"] == "Glue.EntityNotFoundException"

    asyncio.run(scenario())


def test_glue_runs_command_lists_runs(tmp_path):
    script = write(tmp_path, "exit3.py", "import sys\nsys.exit(3)\n")

    async def scenario():
        rt = runtime(tmp_path, job("exit3", script))
        await execute(rt, task(f"{START}.sync", {"JobName": "exit3"}))

    asyncio.run(scenario())
    result = CliRunner().invoke(cli, ["glue-runs", "exit3", "--store", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("FAILED") and "Command failed with exit code 3" in result.output

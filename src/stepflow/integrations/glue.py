"""``arn:aws:states:::glue:startJobRun`` (plain and ``.sync``): the project's Glue jobs
(``AWS::Glue::Job`` with a local ``Command.ScriptLocation``) run as real Python subprocesses.

A run executes ``python SCRIPT --JOB_NAME NAME --JOB_RUN_ID jr_... --job-bookmark-option
job-bookmark-disable [--KEY VALUE ...]`` with the job's DefaultArguments overlaid by the
request's ``Arguments``, in its own process group, cwd the script's folder, output and errors in
``<glue_log_dir>/<job>/<run-id>.log``. ``from awsglue.utils import getResolvedOptions`` works
(see :mod:`stepflow.glue`).

States: STARTING -> RUNNING -> SUCCEEDED | FAILED (non-zero exit; ``ErrorMessage`` is the
traceback, or "Command failed with exit code N") | TIMEOUT (the run's ``Timeout`` minutes,
times the runtime's time scale; the whole process group is killed) | STOPPED (the ``.sync`` task
was cancelled: parent stopped, task timed out). Runs are recorded in the store (resource kind
``glue-job-run``, the GetJobRun ``JobRun`` shape plus ``LogFile``) and listed by
``stepflow glue-runs``.

Outputs: plain ``{JobName, JobRunId, SdkHttpMetadata, SdkResponseMetadata}`` (Step Functions adds
JobName); ``.sync`` the ``JobRun``; a run that ends FAILED, TIMEOUT or STOPPED fails the task with
``States.TaskFailed`` and the JobRun as JSON text in the cause. Errors:
``Glue.EntityNotFoundException``, ``Glue.ConcurrentRunsExceededException`` (MaxConcurrentRuns),
``Glue.InvalidInputException``.

After a restart a ``.sync`` task re-issued by the engine kills the run it had started (if that
process still lives) and starts a new one: job runs are at-least-once, like the engine's tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from stepflow.engine.tasks import SYNC, TaskRequest, TaskResult
from stepflow.errors import TASK_FAILED
from stepflow.integrations.aws_shapes import (
    ServiceError,
    epoch_millis,
    parameters_of,
    with_sdk_metadata,
)

log = logging.getLogger("stepflow.integrations.glue")

RUN_KIND = "glue-job-run"
STEP_KIND = "glue-step-run"  # step -> run id, to replace the run after a restart
DEFAULT_TIMEOUT_MINUTES = 2880  # Glue's default job timeout (48 hours)
KILL_GRACE_SECONDS = 5.0
ERROR_TAIL_CHARS = 4000
ACTIVE = ("STARTING", "RUNNING")
LOCAL_FIELDS = ("LogFile", "Pid")  # kept in the store, not part of the JobRun shape
SERVICE = "AWSGlue"


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(f"Glue.{code}", message, SERVICE, code)


def shim_path() -> str | None:
    """The ``awsglue`` stand-in's folder, unless a real ``awsglue`` is importable."""
    if importlib.util.find_spec("awsglue") is not None:
        return None
    from stepflow.glue import SHIM_PATH  # a package with no stepflow imports of its own

    return str(SHIM_PATH)


def job_environment(base: dict | None = None) -> dict:
    """The job's environment: ours, with the shim and stepflow itself on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding ``stepflow``
    paths = [p for p in (shim_path(), package_root, env.get("PYTHONPATH")) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def script_arguments(name: str, run_id: str, defaults: dict, overrides: dict | None) -> list[str]:
    """``--JOB_NAME name --JOB_RUN_ID id ... --KEY value`` as Glue passes them."""
    merged = {**(defaults or {}), **(overrides or {})}
    args = ["--JOB_NAME", name, "--JOB_RUN_ID", run_id, "--job-bookmark-option",
            str(merged.pop("--job-bookmark-option", "job-bookmark-disable"))]
    for key, value in merged.items():
        flag = key if key.startswith("--") else f"--{key}"
        args += [flag, value if isinstance(value, str) else json.dumps(value)]
    return args


class GlueJobs:
    """Runs the project's Glue jobs as subprocesses and keeps their JobRun records."""

    def __init__(self, jobs: Callable[[], list], store, log_dir: str | Path = ".stepflow/glue", time_scale: float = 1.0):
        self._jobs = jobs
        self.store = store
        self.log_dir = Path(log_dir).resolve()  # runs record absolute log paths: glue-runs may be read from elsewhere
        self.time_scale = time_scale
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._done: dict[str, asyncio.Task] = {}

    def job(self, name):
        for job in self._jobs():
            if job.name == name:
                return job
        return None

    # starting ----------------------------------------------------------------------------------

    async def start(self, name, arguments: dict | None = None, timeout_minutes: int | None = None) -> dict:
        """StartJobRun: the new run's record (raises ServiceError)."""
        job = self._check(name, arguments, timeout_minutes)
        run_id = "jr_" + hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        timeout = int(timeout_minutes or job.timeout_minutes or DEFAULT_TIMEOUT_MINUTES)
        run = self._new_record(job, run_id, arguments or {}, timeout)
        args = script_arguments(job.name, run_id, job.default_arguments, arguments)
        log_file = Path(run["LogFile"])
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(job.script), *args, cwd=str(Path(job.script).parent), env=job_environment(),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )
        self._processes[run_id] = process
        self._update(run, JobRunState="RUNNING", Pid=process.pid)
        task = asyncio.get_running_loop().create_task(self._supervise(run, process, timeout))
        self._done[run_id] = task
        task.add_done_callback(lambda _: self._done.pop(run_id, None))
        return run

    def _check(self, name, arguments, timeout_minutes):
        if not isinstance(name, str) or not name:
            raise _error("InvalidInputException", "JobName is required")
        job = self.job(name)
        if job is None:
            raise _error("EntityNotFoundException", f"Job with name {name} not found")
        if arguments is not None and not isinstance(arguments, dict):
            raise _error("InvalidInputException", "Arguments must be a map of strings")
        if timeout_minutes is not None and (not isinstance(timeout_minutes, int) or timeout_minutes < 1):
            raise _error("InvalidInputException", "Timeout must be a positive number of minutes")
        if self.active_runs(job.name) >= max(1, int(job.max_concurrent_runs or 1)):
            raise _error("ConcurrentRunsExceededException", f"Concurrent runs exceeded for {job.name}")
        return job

    def active_runs(self, name: str) -> int:
        return sum(1 for run_id in self._processes if self._state(run_id).get("JobName") == name)

    def _new_record(self, job, run_id: str, arguments: dict, timeout: int) -> dict:
        now = time.time()
        shell = getattr(job, "command_name", "pythonshell") == "pythonshell"
        run = {
            "Id": run_id, "Attempt": 0, "JobName": job.name, "StartedOn": now, "LastModifiedOn": now,
            "JobRunState": "STARTING", "Arguments": dict(arguments), "PredecessorRuns": [], "ExecutionTime": 0,
            "Timeout": timeout, "MaxCapacity": 0.0625 if shell else 10.0, "GlueVersion": "3.0",
            "LogGroupName": "/aws-glue/python-jobs" if shell else "/aws-glue/jobs",
            "LogFile": str(self.log_dir / job.name / f"{run_id}.log"),
        }
        self.store.put_resource(RUN_KIND, run_id, run)
        return run

    # running -----------------------------------------------------------------------------------

    async def _supervise(self, run: dict, process, timeout_minutes: int) -> dict:
        seconds = timeout_minutes * 60 * self.time_scale if self.time_scale else None
        try:
            code = await asyncio.wait_for(process.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            await self._kill(process)
            return self._finish(run, "TIMEOUT", f"Job run timed out after {timeout_minutes} minutes")
        except asyncio.CancelledError:
            await self._kill(process)
            self._finish(run, "STOPPED", "Job run was stopped")
            raise
        _kill_group(process.pid, signal.SIGKILL)  # whatever the script left behind goes with it
        if code == 0:
            return self._finish(run, "SUCCEEDED", None)
        return self._finish(run, "FAILED", _error_message(Path(run["LogFile"]), code))

    async def _kill(self, process) -> None:
        """SIGTERM the run's process group, SIGKILL what is left after a grace period."""
        _kill_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=KILL_GRACE_SECONDS)
        except asyncio.TimeoutError:
            pass
        _kill_group(process.pid, signal.SIGKILL)
        await process.wait()

    def _finish(self, run: dict, state: str, message: str | None) -> dict:
        self._processes.pop(run["Id"], None)
        now = time.time()
        fields = {"JobRunState": state, "CompletedOn": now, "ExecutionTime": int(now - run["StartedOn"])}
        if message is not None:
            fields["ErrorMessage"] = message
        self._update(run, **fields)
        return run

    def _update(self, run: dict, **fields) -> None:
        run.update(fields, LastModifiedOn=time.time())
        self.store.put_resource(RUN_KIND, run["Id"], run)

    def _state(self, run_id: str) -> dict:
        return self.store.get_resource(RUN_KIND, run_id) or {}

    async def wait(self, run_id: str) -> dict:
        """The run's record once it has ended."""
        task = self._done.get(run_id)
        if task is not None and not task.done():
            await asyncio.wait({task})  # a stopped run's task ends cancelled; our own cancel propagates
        return self._state(run_id)

    def stop(self, run_id: str) -> None:
        """BatchStopJobRun: the run ends STOPPED."""
        task = self._done.get(run_id)
        if task is not None and not task.done():
            task.cancel()

    def kill_stale(self, run_id: str) -> None:
        """Kill a run started before a restart, if its process still lives (checked by its
        command line, which names the run id)."""
        pid = self._state(run_id).get("Pid")
        if pid and _runs(pid, run_id):
            _kill_group(pid, signal.SIGKILL)
            self._update(self._state(run_id), JobRunState="STOPPED", ErrorMessage="Job run was stopped (stepflow restarted)")

    async def drain(self) -> None:
        """Wait for every run started by this process."""
        while pending := [t for t in self._done.values() if not t.done()]:
            await asyncio.wait(pending)

    def shutdown(self) -> None:
        """Kill every run still going (the process is exiting)."""
        for process in list(self._processes.values()):
            _kill_group(process.pid, signal.SIGKILL)

    def runs(self, job_name: str | None = None) -> list[dict]:
        docs = self.store.list_resources(RUN_KIND)
        return [d for d in docs if job_name is None or d.get("JobName") == job_name]


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _runs(pid: int, run_id: str) -> bool:
    try:
        return run_id.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _error_message(log_file: Path, code: int) -> str:
    """Glue's ErrorMessage for a failed Python job: the traceback, else the exit code."""
    try:
        text = log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    start = text.rfind("Traceback (most recent call last):")
    if start >= 0:
        return text[start:].strip()[-ERROR_TAIL_CHARS:]
    return f"Command failed with exit code {code}"


def job_run_shape(run: dict) -> dict:
    """GetJobRun's JobRun as the ``.sync`` task outputs it (dates in epoch milliseconds)."""
    out = {k: v for k, v in sorted(run.items()) if k not in LOCAL_FIELDS}
    for key in ("StartedOn", "LastModifiedOn", "CompletedOn"):
        if key in out:
            out[key] = epoch_millis(out[key])
    return out


class GlueStartJobRun:
    """The ``glue:startJobRun`` task executor."""

    def __init__(self, jobs: GlueJobs):
        self.jobs = jobs

    async def invoke(self, request: TaskRequest) -> TaskResult:
        params = parameters_of(request)
        if request.submitted:
            self._replace_stale(request)
        try:
            run = await self.jobs.start(params.get("JobName"), params.get("Arguments"), params.get("Timeout"))
        except ServiceError as err:
            return err.result()
        self._remember(request, run["Id"])
        body = json.dumps({"JobRunId": run["Id"]})
        started = with_sdk_metadata({"JobName": run["JobName"], "JobRunId": run["Id"]}, body, "application/x-amz-json-1.1")
        if request.resource.pattern != SYNC:
            return TaskResult(output=started)
        if request.on_submitted is not None:
            request.on_submitted(started)
        return await self._wait(run["Id"])

    async def _wait(self, run_id: str) -> TaskResult:
        try:
            run = await self.jobs.wait(run_id)
        except asyncio.CancelledError:
            self.jobs.stop(run_id)  # Step Functions stops the job run when the task is cancelled
            raise
        shape = job_run_shape(run)
        if run.get("JobRunState") == "SUCCEEDED":
            return TaskResult(output=shape)
        return TaskResult(error=TASK_FAILED, cause=json.dumps(shape))

    def _remember(self, request: TaskRequest, run_id: str) -> None:
        self.jobs.store.put_resource(STEP_KIND, f"{request.execution_arn}|{request.step}", {"runId": run_id})

    def _replace_stale(self, request: TaskRequest) -> None:
        doc = self.jobs.store.get_resource(STEP_KIND, f"{request.execution_arn}|{request.step}")
        if doc:
            self.jobs.kill_stale(doc["runId"])

"""The worker-process Lambda runtime: functions run in local execution environments.

:class:`LambdaWorkers` runs a function's invocations in worker processes that behave like
Lambda execution environments (see :mod:`~stepflow.integrations.lambda_environment` for one
environment and :mod:`~stepflow.integrations.lambda_pool` for concurrency): a cold start on
first use, warm reuse afterwards, one invocation at a time per environment, the function's
Timeout enforced by killing the environment's process group, answers in the shape of
Lambda's Invoke API (:class:`InvokeResponse`, the same as the in-process mode's):

* handler raised: its ``errorType``/``errorMessage``/``stackTrace`` body, FunctionError Unhandled;
* Timeout passed: ``Sandbox.Timedout``, "RequestId: … Error: Task timed out after N.00 seconds";
* worker ended (``os._exit``, a signal): ``Runtime.ExitError``, "RequestId: … Error: Runtime
  exited with error: exit status 1" / "signal: segmentation fault";
* handler module failed to import: ``Runtime.ImportModuleError`` and its relatives.

Each invocation's output is kept by :class:`~stepflow.integrations.lambda_logs.LambdaLogs`,
framed by START/END/REPORT lines and tagged with the execution ARN.

The blocking part of an invocation (writing the request, waiting for the answer) runs on
daemon threads, at most one per busy environment: when the interpreter exits, the exit hook
kills the environments instead of waiting for a long handler to finish. All environments are
closed by :meth:`LambdaWorkers.close`, when the object is garbage-collected, and at exit.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sys
import threading
import time
import uuid
import weakref
from concurrent.futures import Future

from stepflow.integrations.lambda_environment import (
    Environment,
    Outcome,
    WorkerExited,
    WorkerTimedOut,
)
from stepflow.integrations.lambda_logs import (
    LambdaLogs,
    Report,
    end_line,
    report_line,
    start_line,
)
from stepflow.integrations.lambda_pool import CLOSED, START, EnvironmentPool, Grant
from stepflow.integrations.lambda_runtime import InvokeResponse
from stepflow.sam import FunctionSpec

DEFAULT_MAX_ENVIRONMENTS = 32
DEFAULT_IDLE_SECONDS = 600.0  # Lambda keeps an unused environment for minutes, not hours
KEPT = ("ok", "error", "too_large")  # outcomes after which the environment stays warm


class LambdaServiceError(Exception):
    """A failure of the Lambda service rather than of the function (``Lambda.<error>``)."""

    def __init__(self, error: str, cause: str):
        super().__init__(cause)
        self.error, self.cause = error, cause


def _throttled() -> LambdaServiceError:
    return LambdaServiceError(
        "Lambda.TooManyRequestsException",
        f"Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)",
    )


class _DaemonThreads:
    """A minimal thread pool of daemon threads, grown on demand up to ``limit``."""

    def __init__(self, limit: int):
        self._limit = limit
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._count = 0
        self._lock = threading.Lock()

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        self._jobs.put((future, fn, args))
        if not self._idle.acquire(blocking=False):
            with self._lock:
                if self._count < self._limit:
                    self._count += 1
                    threading.Thread(target=self._work, daemon=True, name=f"stepflow-lambda-{self._count}").start()
        return future

    def _work(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as error:  # noqa: BLE001 - handed to the awaiting caller
                    future.set_exception(error)
            self._idle.release()


class LambdaWorkers:
    """Runs functions in worker-process execution environments."""

    def __init__(self, logs: LambdaLogs | None = None, max_environments: int = DEFAULT_MAX_ENVIRONMENTS,
                 idle_seconds: float = DEFAULT_IDLE_SECONDS, python: str = sys.executable):
        self.logs = logs
        self.python = python
        self.defaults: dict[str, str] = {}  # variables every new environment gets unless set otherwise
        self.pool = EnvironmentPool(max_environments, idle_seconds)
        self._threads = _DaemonThreads(max_environments)
        self._finalizer = weakref.finalize(self, self.pool.shutdown)

    def close(self) -> None:
        """Shut every environment down (idempotent; also runs at interpreter exit)."""
        self._finalizer()
        if self.logs is not None:
            self.logs.close()

    # -- invoking -------------------------------------------------------------------------------

    async def invoke(self, spec: FunctionSpec, payload: bytes, request_id: str | None = None,
                     execution_arn: str = "") -> InvokeResponse:
        """Invoke the function once (waits for a free environment when at its concurrency)."""
        request_id = request_id or str(uuid.uuid4())
        grant = await self._acquire(spec)
        future = self._threads.submit(self._run, spec, grant, payload, request_id, execution_arn)
        # shielded: a cancelled caller (StopExecution, the Task's own TimeoutSeconds) leaves the
        # invocation running to its end, as Lambda does; its thread gives the environment back.
        return await asyncio.shield(asyncio.wrap_future(future))

    def invoke_blocking(self, spec: FunctionSpec, payload: bytes, request_id: str | None = None,
                        execution_arn: str = "") -> InvokeResponse:
        """:meth:`invoke` for callers on a plain thread."""
        request_id = request_id or str(uuid.uuid4())
        granted: list[Grant] = []
        ready = threading.Event()

        def deliver(grant: Grant) -> None:
            granted.append(grant)
            ready.set()

        grant = self._take(spec, deliver)
        if grant is None:
            ready.wait()
            grant = granted[0]
        return self._run(spec, self._check(grant), payload, request_id, execution_arn)

    def _take(self, spec: FunctionSpec, deliver) -> Grant | None:
        if spec.reserved_concurrency == 0:
            raise _throttled()
        return self.pool.take(spec, deliver)

    @staticmethod
    def _check(grant: Grant) -> Grant:
        if grant == CLOSED:
            raise LambdaServiceError("Lambda.ServiceException", "The local Lambda runtime is shut down.")
        return grant

    async def _acquire(self, spec: FunctionSpec) -> Grant:
        """A grant for the function, waiting (cancellably) for one when none is free."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        deliver = self._deliverer(spec, loop, future)
        grant = self._take(spec, deliver)
        if grant is not None:
            return self._check(grant)
        try:
            return self._check(await future)
        except asyncio.CancelledError:
            if not self.pool.forget(deliver) and future.done() and not future.cancelled():
                self._give_back_unused(spec, future.result())  # granted just before the cancel
            raise

    def _deliverer(self, spec: FunctionSpec, loop: asyncio.AbstractEventLoop, future: asyncio.Future):
        """``deliver(grant)`` for the pool: settles ``future`` on its loop, from any thread."""

        def settle(grant: Grant) -> None:
            if future.cancelled():
                self._give_back_unused(spec, grant)
            else:
                future.set_result(grant)

        def deliver(grant: Grant) -> None:
            try:
                loop.call_soon_threadsafe(settle, grant)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                self._give_back_unused(spec, grant)

        return deliver

    def _give_back_unused(self, spec: FunctionSpec, grant: Grant) -> None:
        if grant != CLOSED:
            self.pool.give_back(spec, grant)

    # -- one invocation, on a worker thread ---------------------------------------------------

    def _run(self, spec: FunctionSpec, grant: Grant, payload: bytes, request_id: str, execution_arn: str) -> InvokeResponse:
        env = grant if isinstance(grant, Environment) else None
        outcome, init_lines, started = None, [], time.time()
        try:
            if grant == START:
                env, outcome, init_lines = self._cold_start(spec)
            if outcome is None:
                init_ms = env.cold_init_ms if env.invocations == 0 else None
                outcome = env.invoke(payload, request_id, spec.arn)
                outcome.init_ms = init_ms
                outcome.lines = env.take_output()
        finally:
            keep = outcome is not None and outcome.status in KEPT
            self.pool.give_back(spec, env if env is not None else START, keep=keep)
        self._log(spec, env, outcome, request_id, execution_arn, init_lines, started)
        return response(spec, outcome, request_id)

    def _cold_start(self, spec: FunctionSpec) -> tuple[Environment | None, Outcome | None, list[str]]:
        """A new environment with the handler imported; or the init failure as an outcome."""
        try:
            env = Environment(spec, self.python, self.defaults)
        except OSError as error:
            body = _error_body(f"Unable to import module '{spec.handler.rpartition('.')[0]}': {error}", "Runtime.ImportModuleError")
            return None, Outcome("init_error", body, 0.0, 0), []
        self.pool.started(env)
        try:
            init_ms, failure = env.initialise()
        except WorkerTimedOut:
            env.kill()
            return env, Outcome("timeout", b"", spec.timeout * 1000.0, 0), env.take_output()
        except WorkerExited:
            return env, Outcome("crash", b"", 0.0, 0, exit_reason=env.exit_reason()), env.take_output()
        lines = env.take_output()
        if failure is not None:
            return env, Outcome("init_error", failure, init_ms, 0, init_ms), lines
        env.cold_init_ms = init_ms
        return env, None, lines

    def _log(self, spec: FunctionSpec, env: Environment | None, outcome: Outcome, request_id: str,
             execution_arn: str, init_lines: list[str], started: float) -> None:
        if self.logs is None:
            return
        report = Report(request_id, outcome.duration_ms, spec.memory_size, outcome.peak_mb, outcome.init_ms, *_status(outcome))
        lines = [*init_lines, start_line(request_id), *outcome.lines, *_trailer(spec, outcome, request_id),
                 end_line(request_id), report_line(report)]
        self.logs.write(spec.name, {
            "time": started, "function": spec.name, "request_id": request_id, "execution_arn": execution_arn,
            "log_stream": env.log_stream if env is not None else "", "status": outcome.status, "lines": lines,
        })


def _status(outcome: Outcome) -> tuple[str, str]:
    """REPORT's Status and Error Type for the outcomes Lambda marks."""
    if outcome.status == "timeout":
        return "timeout", ""
    if outcome.status == "crash":
        return "error", "Runtime.ExitError"
    if outcome.status == "init_error":
        return "error", _error_type(outcome.body)
    return "", ""


def _trailer(spec: FunctionSpec, outcome: Outcome, request_id: str) -> list[str]:
    """The lines Lambda itself adds to the log after a timeout or a crash."""
    if outcome.status == "timeout":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        return [f"{stamp} {request_id} Task timed out after {spec.timeout:.2f} seconds"]
    if outcome.status == "crash":
        return [f"RequestId: {request_id} Error: Runtime exited with error: {outcome.exit_reason}", "Runtime.ExitError"]
    return []


def _error_body(message: str, error_type: str, request_id: str = "") -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}).encode()


def _error_type(body: bytes) -> str:
    try:
        return json.loads(body).get("errorType", "")
    except (ValueError, AttributeError):
        return ""


def response(spec: FunctionSpec, outcome: Outcome, request_id: str) -> InvokeResponse:
    """The Invoke API's answer for an invocation's outcome."""
    if outcome.status == "ok":
        return InvokeResponse(outcome.body, None, request_id=request_id)
    if outcome.status in ("error", "init_error"):
        return InvokeResponse(outcome.body, "Unhandled", request_id=request_id)
    if outcome.status == "timeout":
        body = {"errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds"}
    elif outcome.status == "crash":
        body = {"errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {outcome.exit_reason}"}
    else:
        body = {"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
                "errorType": "Function.ResponseSizeTooLarge"}
    return InvokeResponse(json.dumps(body).encode(), "Unhandled", request_id=request_id)


class WorkerFunction:
    """A project function run by :class:`LambdaWorkers` (the counterpart of ``LocalFunction``)."""

    def __init__(self, spec: FunctionSpec, workers: LambdaWorkers):
        self.spec = spec
        self.workers = workers

    async def invoke_async(self, payload: bytes, request_id: str | None = None, execution_arn: str = "") -> InvokeResponse:
        """Invoke in a worker process; the function's Timeout is enforced there."""
        return await self.workers.invoke(self.spec, payload, request_id, execution_arn)

    def invoke(self, payload: bytes, request_id: str | None = None, execution_arn: str = "") -> InvokeResponse:
        """Blocking invoke, for callers on a plain thread."""
        return self.workers.invoke_blocking(self.spec, payload, request_id, execution_arn)

    def timeout_response(self, request_id: str) -> InvokeResponse:
        return response(self.spec, Outcome("timeout", b"", 0.0, 0), request_id)

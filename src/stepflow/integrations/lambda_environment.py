"""One local Lambda execution environment: a worker process that runs one function's handler.

An :class:`Environment` is started on first use (a cold start: interpreter, then the handler's
module is imported), then reused for one invocation at a time while warm, so module-level state
and connections survive between invocations, as in Lambda. Each environment has:

* its own process group (``start_new_session``): a handler over its Timeout is killed with
  SIGKILL to the whole group, plus any descendant that left the group (found in ``/proc``
  before the kill), so a killed handler leaves no stray process;
* a private temporary folder as ``TMPDIR``/``TMP``/``TEMP`` (what ``tempfile`` uses). Code that
  writes to the literal path ``/tmp`` shares this machine's /tmp with everything else;
* the function's environment variables (template Globals + function) over the host's and the
  runtime's defaults (``LambdaWorkers.defaults``: where the local Step Functions API answers),
  then Lambda's own (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``, ``_HANDLER``, ``TZ=:UTC``...);
* the function's CodeUri as working directory and first entry of ``sys.path``;
* a log file that is its stdout and stderr; after each invocation the parent takes what was
  written (the child flushes before answering) and empties it.

Requests and answers travel over two pipes as length-prefixed frames (see ``lambda_bootstrap``);
a third pipe is the worker's lifeline (it kills its group when the parent disappears).
Memory size is reported, not enforced.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from stepflow.integrations.lambda_bootstrap import HEADER
from stepflow.sam import FunctionSpec

BOOTSTRAP = str(Path(__file__).with_name("lambda_bootstrap.py"))
INIT_LIMIT_SECONDS = 10.0  # Lambda's Init phase limit for on-demand functions
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # synchronous Invoke response limit
MAX_OUTPUT_BYTES = 1024 * 1024  # log output kept per invocation; the rest is counted, not kept
_BUFFER = 1 << 20
FOLDER_PREFIX = "stepflow-lambda-"  # + parent pid + function name: /tmp/stepflow-lambda-123-orders-x1y2


class WorkerExited(Exception):
    """The worker process ended (crash, os._exit, signal) before answering."""


class WorkerTimedOut(Exception):
    """No answer before the deadline."""


@dataclass(slots=True)
class Outcome:
    """What one invocation produced, for the Invoke response and the CloudWatch-style log."""

    status: str  # "ok" | "error" (handler raised) | "timeout" | "crash" | "init_error"
    body: bytes
    duration_ms: float
    peak_mb: int
    init_ms: float | None = None  # set on the invocation that paid for a cold start
    lines: list[str] = field(default_factory=list)
    exit_reason: str = ""  # "exit status 1", "signal: segmentation fault"


def lambda_variables(spec: FunctionSpec, log_stream: str) -> dict[str, str]:
    """The variables Lambda sets in every execution environment of the function."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "LAMBDA_TASK_ROOT": str(spec.code_uri),
        "_HANDLER": spec.handler,
        "TZ": ":UTC",
    }


def local_api_variables(endpoint: str) -> dict[str, str]:
    """What a handler's boto3 needs to reach this stepflow's Step Functions API (to answer a task
    token with SendTaskSuccess, start an execution, ...): the service-specific endpoint variable
    boto3 reads (``AWS_ENDPOINT_URL_SFN``), and placeholder credentials when the host has none
    (Lambda always provides credentials; without any, boto3 refuses to sign a request)."""
    variables = {"AWS_ENDPOINT_URL_SFN": endpoint}
    if not _host_has_credentials():
        variables.update(AWS_ACCESS_KEY_ID="stepflow-local", AWS_SECRET_ACCESS_KEY="stepflow-local")
    return variables


def _host_has_credentials() -> bool:
    """Whether boto3 here could find credentials without asking a metadata service (which
    would cost seconds to time out on a machine that is not in AWS)."""
    if any(os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")):
        return True
    files = (os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), os.environ.get("AWS_CONFIG_FILE", "~/.aws/config"))
    return any(os.path.isfile(os.path.expanduser(path)) for path in files)


def new_log_stream() -> str:
    """A log stream name as Lambda gives each environment: ``2024/05/01/[$LATEST]<32 hex>``."""
    return time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex


class Environment:
    """A worker process for one function; not thread-safe (one invocation at a time)."""

    def __init__(self, spec: FunctionSpec, python: str = sys.executable, defaults: dict[str, str] | None = None):
        self.spec = spec
        self.defaults = defaults or {}
        self.log_stream = new_log_stream()
        self.root = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-{spec.name[:40]}-")
        self.tmp = os.path.join(self.root, "tmp")
        os.mkdir(self.tmp)
        self.last_used = time.monotonic()
        self.invocations = 0
        self.cold_init_ms: float | None = None  # the Init Duration, reported with the first invocation
        self._peak_mb = 0
        self._closed = False
        self._spawned = time.monotonic()
        self._log = os.open(os.path.join(self.root, "output.log"), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self.process, self._req, self._resp, self._lifeline = self._spawn(python)
        self.pid = self.process.pid

    def _variables(self) -> dict[str, str]:
        env = dict(os.environ)
        for key, value in self.defaults.items():
            env.setdefault(key, value)  # the host's own setting wins
        env.update({key: str(value) for key, value in self.spec.environment.items()})
        env.update(lambda_variables(self.spec, self.log_stream))
        env.update(TMPDIR=self.tmp, TMP=self.tmp, TEMP=self.tmp)
        return env

    def _spawn(self, python: str):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        life_r, life_w = os.pipe()
        try:
            process = subprocess.Popen(
                [python, BOOTSTRAP, str(req_r), str(resp_w), str(life_r), self.root],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, cwd=self.spec.code_uri,
                env=self._variables(), pass_fds=(req_r, resp_w, life_r), start_new_session=True,
            )
        except BaseException:
            for fd in (req_w, resp_r, life_w):
                os.close(fd)
            raise
        finally:
            for fd in (req_r, resp_w, life_r):
                os.close(fd)
        return process, req_w, resp_r, life_w

    # -- init and invoke --------------------------------------------------------------------

    def initialise(self) -> tuple[float, bytes | None]:
        """Wait for the handler import; (init ms, None) or (init ms, error body).

        The Init Duration counts from the process start (interpreter start-up included), as
        Lambda's counts the runtime's start."""
        deadline = time.monotonic() + max(INIT_LIMIT_SECONDS, float(self.spec.timeout))
        meta, body = self._receive(deadline)
        return (time.monotonic() - self._spawned) * 1000, (None if meta.get("init") == "ok" else body)

    def invoke(self, payload: bytes, request_id: str, arn: str) -> Outcome:
        """One invocation under the function's Timeout; raises nothing for handler failures."""
        self.invocations += 1
        timeout = float(self.spec.timeout)
        started = time.monotonic()
        meta = {"id": request_id, "deadline_ms": int((time.time() + timeout) * 1000), "arn": arn}
        try:
            self._send(meta, payload)
            reply, body = self._receive(started + timeout)
        except WorkerTimedOut:
            return Outcome("timeout", b"", timeout * 1000, self._kill_for_timeout())
        except WorkerExited:
            return Outcome("crash", b"", (time.monotonic() - started) * 1000, self._peak_mb, exit_reason=self.exit_reason())
        self.last_used = time.monotonic()
        self._peak_mb = max(self._peak_mb, -(-int(reply.get("peak_kb", 0)) // 1024))
        if len(body) > MAX_RESPONSE_BYTES:
            return Outcome("too_large", body[:0], (self.last_used - started) * 1000, self._peak_mb)
        return Outcome("ok" if reply.get("ok") else "error", body, (self.last_used - started) * 1000, self._peak_mb)

    def take_output(self) -> list[str]:
        """The lines the worker wrote since the last call (the file is emptied)."""
        size = os.fstat(self._log).st_size
        if not size:
            return []
        data = os.pread(self._log, min(size, MAX_OUTPUT_BYTES), 0)
        os.ftruncate(self._log, 0)
        lines = data.decode("utf-8", "replace").splitlines()
        if size > MAX_OUTPUT_BYTES:
            lines.append(f"[stepflow: {size - MAX_OUTPUT_BYTES} more bytes of output were not kept]")
        return lines

    # -- frames -----------------------------------------------------------------------------

    def _send(self, meta: dict, body: bytes) -> None:
        raw = json.dumps(meta).encode()
        view = memoryview(HEADER.pack(len(raw), len(body)) + raw + body)
        try:
            while view:
                view = view[os.write(self._req, view):]
        except BrokenPipeError:
            raise WorkerExited() from None

    def _receive(self, deadline: float) -> tuple[dict, bytes]:
        header = self._read(HEADER.size, deadline)
        meta_size, body_size = HEADER.unpack(header)
        data = self._read(meta_size + body_size, deadline)
        return json.loads(data[:meta_size]), data[meta_size:]

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, missing = [], size
        poller = select.poll()
        poller.register(self._resp, select.POLLIN)
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000 + 1):
                if time.monotonic() >= deadline:
                    raise WorkerTimedOut()
                continue
            chunk = os.read(self._resp, min(missing, _BUFFER))
            if not chunk:
                raise WorkerExited()
            chunks.append(chunk)
            missing -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # -- ending -----------------------------------------------------------------------------

    def _kill_for_timeout(self) -> int:
        peak = max(self._peak_mb, _peak_mb_of(self.pid))
        self.kill()
        return peak

    def exit_reason(self) -> str:
        """How the worker ended, in the words of Lambda's Runtime.ExitError."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        if code is not None and code < 0:
            return f"signal: {signal.strsignal(-code).lower()}"
        return f"exit status {code}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker's process group and every descendant, and reap the worker."""
        stray = descendants(self.pid) if self.process.returncode is None else []
        _signal_group(self.pid)  # also reaches group members left behind by an exited worker
        for pid in stray:
            _signal_process(pid)
        self.process.wait()

    def close(self) -> None:
        """End the environment: kill its processes, close its pipes, remove its folders (once)."""
        if self._closed:
            return
        self._closed = True
        self.kill()
        for fd in (self._req, self._resp, self._lifeline, self._log):
            try:
                os.close(fd)
            except OSError:
                pass
        self.remove_folder()

    def remove_folder(self) -> None:
        """Delete the environment's folder (its TMPDIR and log file); open descriptors stay valid."""
        shutil.rmtree(self.root, ignore_errors=True)


def sweep_orphan_folders() -> int:
    """Remove environment folders left by stepflow processes that no longer exist (a parent
    killed between creating a folder and starting its worker); how many were removed."""
    removed = 0
    for entry in os.scandir(tempfile.gettempdir()):
        owner = entry.name[len(FOLDER_PREFIX):].split("-", 1)[0] if entry.name.startswith(FOLDER_PREFIX) else ""
        if owner.isdigit() and not _exists(int(owner)) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of children...), read from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        parent = _parent_pid(entry.name) if entry.name.isdigit() else None
        if parent is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _parent_pid(name: str) -> int | None:
    try:
        with open(f"/proc/{name}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split(maxsplit=2)[1])  # fields after "(comm)": state ppid


def _peak_mb_of(pid: int) -> int:
    """Peak resident memory of a live process in MB (VmHWM), 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return -(-int(line.split()[1]) // 1024)
    except (OSError, ValueError):
        pass
    return 0


def _signal_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_process(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

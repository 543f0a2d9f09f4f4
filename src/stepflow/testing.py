"""A real ``stepflow serve`` for tests: a subprocess on a free 127.0.0.1 port, driven with boto3.

Test your own state machines against the Step Functions API as you would against AWS::

    import json
    from stepflow.testing import serve, wait_for_execution

    def test_orders_pipeline():
        with serve("--template", "template.yaml") as server:
            sfn = server.client()
            arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
            started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"orders": []}))
            described = wait_for_execution(sfn, started["executionArn"])
            assert described["status"] == "SUCCEEDED"

:func:`serve` starts ``python -m stepflow serve`` with this interpreter, waits until ``GET
/health`` answers from that process (its ``pid``, not another server's that took the port
first) and stops the process at the end of the block (SIGTERM, then SIGKILL after a timeout).
:class:`Server` is the same process without the ``with``: ``start()``, ``kill()`` (SIGKILL, the
crash case) and ``start()`` again on the same port and store. boto3 is needed only for
:meth:`Server.client` (``pip install boto3``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Server", "ServeError", "free_port", "serve", "wait_for_execution"]

HOST = "127.0.0.1"
REGION = "us-east-1"


class ServeError(RuntimeError):
    """``stepflow serve`` exited before it answered, or did not answer in time; the message
    ends with the tail of its output."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """One ``stepflow serve`` subprocess on 127.0.0.1 (not started until :meth:`start`).

    ``args`` are more ``stepflow serve`` options (``"--template", "template.yaml"``); the host,
    the port and ``--store`` are this object's. ``store=None`` leaves ``--store`` out (serve's
    default, or ``STEPFLOW_STORE``). ``env`` is added to this process's environment (a ``None``
    value removes a variable); ``log`` is a file the server's stdout and stderr are appended
    to (default: a temporary file, its tail shown when the server fails to start).
    """

    def __init__(self, *args: str, port: int | None = None, store: str | None = "memory://",
                 env: Mapping[str, str | None] | None = None, cwd: str | os.PathLike | None = None,
                 log: str | os.PathLike | None = None, timeout: float = 30.0):
        self._pick_port = port is None
        self.port = free_port() if port is None else port
        self.options = [*args, *(["--store", store] if store is not None else [])]
        self.store = store
        self.env = dict(env or {})
        self.cwd = cwd
        self.log = Path(log) if log is not None else None
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self._output_path: Path | None = None  # the server's stdout and stderr
        self._temporary = False  # _output_path is ours to delete

    @property
    def endpoint(self) -> str:
        """The endpoint URL for boto3 (``endpoint_url``) or ``aws --endpoint-url``."""
        return f"http://{HOST}:{self.port}"

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "stepflow", "serve", "--host", HOST, "--port", str(self.port), *self.options]

    def __repr__(self) -> str:
        state = "running" if self.alive() else "stopped"
        return f"<stepflow serve {self.endpoint} {state}>"

    def start(self, env: Mapping[str, str | None] | None = None, wait: bool = True) -> Server:
        """Start the process (``env`` on top of the constructor's) and, with ``wait``, return
        once its ``/health`` answers; :class:`ServeError` when it exits first or does not answer
        within ``timeout`` seconds (the process is stopped then). A port chosen here that
        another process took in the meantime (the server exits with "address already in use")
        is replaced by a new one."""
        for attempt in range(3):
            self._spawn({**self.env, **(env or {})})
            if not wait:
                return self
            try:
                self.wait_until_up()
                self._pick_port = False  # restarts keep this port
                return self
            except ServeError as err:
                self.stop()
                if not (self._pick_port and attempt < 2 and "address already in use" in str(err).lower()):
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _spawn(self, env: Mapping[str, str | None]) -> None:
        if self.alive():
            raise ServeError(f"{self!r} is already running")
        environment = dict(os.environ)
        for key, value in env.items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        self._forget_output()
        if self.log is None:
            descriptor, name = tempfile.mkstemp(prefix="stepflow-serve-", suffix=".log")
            os.close(descriptor)
            self._output_path, self._temporary = Path(name), True
        else:
            self._output_path, self._temporary = self.log, False
        with open(self._output_path, "ab") as output:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=environment, stdin=subprocess.DEVNULL,
                                            stdout=output, stderr=subprocess.STDOUT)

    def wait_until_up(self, timeout: float | None = None) -> None:
        """Poll ``GET /health`` until this server answers 200 with its own ``pid`` (not another
        process that holds the port: this one then exits with "address already in use")."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        other = None  # the pid of another process that answered /health on this port
        while True:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServeError(f"stepflow serve exited with {code}:\n{self.output()}")
            pid = self._health_pid()
            if pid == self.process.pid:
                return
            if pid is not None:
                other = pid
            if time.monotonic() > deadline:
                answered = "" if other is None else f" (answered by another process, pid {other})"
                raise ServeError(f"stepflow serve did not answer {self.endpoint}/health in time{answered}:\n"
                                 f"{self.output()}")
            time.sleep(0.05)

    def _health_pid(self) -> int | str | None:
        """The ``pid`` of a 200 answer to ``GET /health`` on this port ("?" when the answer has
        none), None when nothing answered 200."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=1.0)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            if response.status != 200:
                return None
            body = response.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
        try:
            pid = json.loads(body).get("pid")
        except (ValueError, AttributeError):
            pid = None
        return pid if isinstance(pid, int) and not isinstance(pid, bool) else "?"

    def output(self, limit: int = 4000) -> str:
        """The last ``limit`` characters the server wrote (stdout and stderr)."""
        if self._output_path is None or not self._output_path.exists():
            return ""
        with open(self._output_path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - limit))
            return handle.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a graceful shutdown), SIGKILL when it has not exited within ``timeout``."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._forget_output()

    def kill(self) -> None:
        """SIGKILL, as a crash; :meth:`start` again resumes on the same port and store."""
        if self.alive():
            self.process.kill()
        if self.process is not None:
            self.process.wait()

    def _forget_output(self) -> None:
        if self._temporary and self._output_path is not None:
            self._output_path.unlink(missing_ok=True)
            self._output_path = None

    def client(self, service: str = "stepfunctions", *, key: str = "test", secret: str = "test", **config: Any):
        """A boto3 client of this server: dummy credentials (``key``, ``secret``), region
        us-east-1, no host prefix (StartSyncExecution's ``sync-`` would not resolve for
        127.0.0.1); ``config`` are more ``botocore.config.Config`` options."""
        import boto3
        from botocore.config import Config

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=key,
                            aws_secret_access_key=secret, config=Config(**{"inject_host_prefix": False, **config}))

    def __enter__(self) -> Server:
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


@contextlib.contextmanager
def serve(*args: str, port: int | None = None, store: str | None = "memory://",
          env: Mapping[str, str | None] | None = None, cwd: str | os.PathLike | None = None,
          log: str | os.PathLike | None = None, timeout: float = 30.0) -> Iterator[Server]:
    """``stepflow serve *args`` on 127.0.0.1 (a free port unless ``port`` is given) for the
    duration of the block, answering when the block starts and stopped when it ends; yields its
    :class:`Server` (``.endpoint``, ``.port``, ``.process``, ``.client()``). See :class:`Server`
    for the arguments."""
    server = Server(*args, port=port, store=store, env=env, cwd=cwd, log=log, timeout=timeout)
    try:
        yield server.start()
    finally:
        server.stop()


def wait_for_execution(client, execution_arn: str, timeout: float = 30.0, interval: float = 0.05) -> dict:
    """DescribeExecution until the execution is no longer RUNNING; its last description.
    AssertionError when it still runs after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{execution_arn} is still RUNNING after {timeout:g} s")
        time.sleep(interval)

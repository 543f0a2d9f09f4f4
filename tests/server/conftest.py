"""A real ``stepflow serve`` process for the API tests (boto3 and the aws CLI).

The server runs as a subprocess on a free port with the memory store and the test SAM project
(tests/fixtures/sam_app); it is started once per test process and killed at teardown.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEMPLATE = FIXTURES / "sam_app" / "template.yaml"
ROLE_ARN = "arn:aws:iam::123456789012:role/test"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stepflow serve exited with {process.returncode}: {process.stderr.read().decode()}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("stepflow serve did not answer in time")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """The base URL of a running ``stepflow serve`` (memory store, the fixture SAM template)."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("serve")
    command = [
        sys.executable, "-m", "stepflow", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--store", "memory://", "--template", str(TEMPLATE), "--log-level", "error",
    ]
    process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def sfn(server_url):
    """A boto3 Step Functions client for the server (dummy credentials, us-east-1)."""
    import boto3
    from botocore.config import Config

    # inject_host_prefix=False: StartSyncExecution's endpoint has a "sync-" host prefix that
    # botocore would otherwise put in front of 127.0.0.1.
    config = Config(inject_host_prefix=False, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client(
        "stepfunctions", endpoint_url=server_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test", config=config,
    )


@pytest.fixture
def unique():
    """A short unique suffix for names (the server is shared by the tests of a process)."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory) -> dict:
    """Environment for the ``aws`` CLI: dummy credentials, no user configuration."""
    home = tmp_path_factory.mktemp("aws-home")
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "config"), AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_PAGER="", HOME=str(home),
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env

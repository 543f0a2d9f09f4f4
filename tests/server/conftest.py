"""A real ``stepflow serve`` process for the API tests (boto3 and the aws CLI).

The server runs as a subprocess on a free port (stepflow.testing.serve) with the memory store and
the test SAM project (tests/fixtures/sam_app); it is started once per test process and stopped
at teardown.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from stepflow.testing import serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEMPLATE = FIXTURES / "sam_app" / "template.yaml"
ROLE_ARN = "arn:aws:iam::123456789012:role/test"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A running ``stepflow serve`` (memory store, the fixture SAM template)."""
    with serve("--template", str(TEMPLATE), "--log-level", "error", cwd=tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="session")
def server_url(server):
    """The base URL of the running ``stepflow serve``."""
    return server.endpoint


@pytest.fixture(scope="session")
def sfn(server):
    """A boto3 Step Functions client for the server (dummy credentials, us-east-1)."""
    return server.client(retries={"max_attempts": 1, "mode": "standard"})


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

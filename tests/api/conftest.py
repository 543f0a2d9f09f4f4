"""Fixtures of tests/api."""

from __future__ import annotations

import pytest
from api_helpers import PASS, ROLE, make_runtime

from stepflow.runtime import Runtime


@pytest.fixture
def rt() -> Runtime:
    return make_runtime()


@pytest.fixture
def svc(rt):
    return rt.service


@pytest.fixture
def machine(svc) -> str:
    return svc.create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]

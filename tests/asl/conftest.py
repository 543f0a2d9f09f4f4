"""Shared fixtures for the language-core tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stepflow.asl.env import Env

CASES_FILE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases.json"


@pytest.fixture(scope="session")
def make_env():
    """``make_env(input, context=None, variables=None)``: an Env (session-scoped for hypothesis)."""

    def make(input: Any, context: Any = None, variables: dict | None = None) -> Env:
        return Env(input, context, variables if variables is not None else {})

    return make


@pytest.fixture(scope="session")
def aws_cases() -> list[dict]:
    """The AWS-recorded conformance cases (skips the test when the corpus is not checked out)."""
    if not CASES_FILE.exists():
        pytest.skip(f"conformance corpus not found at {CASES_FILE}")
    return json.loads(CASES_FILE.read_text())["cases"]


@pytest.fixture(scope="session")
def recorded_match():
    """``recorded_match(expected, actual)``: equality where recorded strings hold wildcards."""
    return matches_recorded


def matches_recorded(expected: Any, actual: Any) -> bool:
    """Compare with a recorded value whose strings may hold wildcards (``<...>``, the account)."""
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(matches_recorded(v, actual[k]) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(matches_recorded(e, a) for e, a in zip(expected, actual, strict=True)))
    if isinstance(expected, str) and isinstance(actual, str):
        pattern = re.sub(r"<[^>]*>|111111111111", ".*", re.escape(expected))
        return re.fullmatch(pattern, actual, re.DOTALL) is not None
    return type(expected) is type(actual) and expected == actual

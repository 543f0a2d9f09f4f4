"""Crash safety: a real `stepflow serve` killed with SIGKILL at random moments and at the named
fault points, restarted each time; every execution ends exactly as an uninterrupted run and no
state runs twice (bench/crash_workload.py has the benchmark-sized version)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crash_workload import crash_run  # noqa: E402


@pytest.mark.slow
def test_sqlite_survives_kills(tmp_path):
    report = crash_run(f"sqlite:///{tmp_path}/crash.db", executions=12, kills=4, seed=3, time_scale=0.3, workdir=tmp_path)
    assert report["problems"] == []
    assert report["ok"] and report["kills"] >= 4


@pytest.mark.slow
def test_postgres_survives_kills(tmp_path, request):
    postgres_url = _postgres_url(request)
    report = crash_run(postgres_url, executions=8, kills=3, seed=5, time_scale=0.3, workdir=tmp_path)
    assert report["problems"] == []
    assert report["ok"] and report["kills"] >= 3


def _postgres_url(request) -> str:
    try:
        return request.getfixturevalue("fresh_postgres_url")
    except pytest.FixtureLookupError:
        pytest.skip("no postgres_url fixture (tests/store/conftest.py provides it)")

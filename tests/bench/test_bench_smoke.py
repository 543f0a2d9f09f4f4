"""bench/run_bench.py runs end to end at the smallest sizes and prints its table (no timing checks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("chain N=3", "map N=4 MaxConcurrency=0", "loop N=2", "many M=3 (boto3 for both)",
             "many M=3 (lean client, both servers)", "map N=4 MaxConcurrency=10")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """One tiny run against a memory-store stepflow and moto; its stdout and JSON."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    command = [sys.executable, str(ROOT / "bench" / "run_bench.py"), "--quick", "--repeat", "1",
               "--chain", "3", "--map", "4", "--loop", "2", "--many", "3", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(out.read_text())


def test_table_has_every_scenario_with_both_engines(bench_run):
    stdout, _ = bench_run
    rows = [line for line in stdout.splitlines() if line.startswith(SCENARIOS)]
    assert [next(s for s in SCENARIOS if row.startswith(s)) for row in rows] == list(SCENARIOS)
    assert all(row.split()[-1] in ("PASS", "FAIL") or row.endswith("(bound)") for row in rows)


def test_json_holds_figures_and_machine(bench_run):
    _, report = bench_run
    assert report["machine"]["cpus"] >= 1 and report["machine"]["python"]
    by_key = {row["key"]: row for row in report["rows"]}
    assert set(by_key) == {"chain", "map:0", "loop", "many", "many:http", "map:10"}
    assert by_key["chain"]["stepflow"]["transitions"] == 3  # three Pass states entered
    assert by_key["loop"]["stepflow"]["transitions"] == 2 * 2 + 2
    assert by_key["many"]["stepflow"]["status"] == "SUCCEEDED"
    assert by_key["many:http"]["moto"]["status"] == "SUCCEEDED"  # moto behind its own server, same lean client
    assert all(row["stepflow"]["rate"] > 0 for row in report["rows"])

"""The db-refresh workflow through stepflow: the SAM template in a ``stepflow.runtime.Runtime``
with the Glue jobs as real subprocesses, the SNS topic's file subscriber, retries made instant;
a failure that is notified and then redriven; the MockConfigFile's test cases; the template's
shape against the original document (three Parallel steps, retry policies, schedule)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import stepflow
from flywheel import checks, storage
from flywheel.catalog import Catalog
from flywheel.layout import ADDRESSABLE, ER_TABLE, INFOBASE
from flywheel_testlib import (AS_OF, BUCKETS, DB, MACHINE, MOCKS, PIPELINE, SMALL, SNAPSHOT, TEMPLATE, Workflow,
                              notifications)
from test_flywheel_failures import _widen_first_table


def _input_like_004(layout) -> dict:
    """input.json (the original document's start-execution input) pointed at this test's root."""
    text = (PIPELINE / "input.json").read_text().replace(".stepflow/flywheel", str(layout.root))
    return {**json.loads(text), "Job6Arguments": {"--AS_OF": AS_OF}}


def _catalog(layout) -> dict:
    with Catalog(layout.catalog) as cat:
        return cat.dump()


def _runs(wf) -> Counter:
    return Counter((r["JobName"].split("-dev-")[1], r["JobRunState"]) for r in wf.glue_runs())


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as err:
        return str(err)


def test_end_to_end(world, tmp_path):
    with Workflow(tmp_path, world) as wf:
        done = wf.execute(_input_like_004(world))
        assert done["status"] == "SUCCEEDED", done
        events = wf.history(done["executionArn"])
        runs = _runs(wf)
        failed = [(r["JobName"], r.get("ErrorMessage"), r.get("LogFile") and _tail(r["LogFile"]))
                  for r in wf.glue_runs() if r["JobRunState"] != "SUCCEEDED"]  # to diagnose a failure below
        files, catalog = storage.tree_digest(world.root, exclude=("reports/", "notifications")), _catalog(world)
        again = wf.execute(_input_like_004(world))  # next month's run on the same snapshot changes nothing
        assert again["status"] == "SUCCEEDED", again
        assert storage.tree_digest(world.root, exclude=("reports/", "notifications")) == files
        assert _catalog(world) == catalog
    assert runs == Counter({(job, "SUCCEEDED"): n for job, n in (
        ("addressable-split-and-part", 1), ("infobase-split-and-part", 1), ("register-part-tables", 2),
        ("prepare-part-tables", 1), ("create-part-addressable-ids-er-table", 1),
        ("generate-data-monitor-report", 1), ("generate-cleanrooms-report", 1))}), failed
    assert sum(e["type"] == "ParallelStateEntered" for e in events) == 3
    output = json.loads(done["output"])
    assert [r["JobRunState"] for r in output["Step5_Reporting"]] == ["SUCCEEDED", "SUCCEEDED"]
    problems = (checks.check_addressable(world, SNAPSHOT, BUCKETS) + checks.check_infobase(world, SNAPSHOT, BUCKETS, 100)
                + checks.check_register(world.catalog, DB, world.target(INFOBASE), "part_", 100)
                + checks.check_register(world.catalog, DB, world.target(ADDRESSABLE), "part_", 100)
                + checks.check_prepare(world.catalog, DB, "part_")
                + checks.check_er(world.catalog, DB, ER_TABLE, "part_addressable_ids"))
    assert problems == []
    stamp = output["StartTime"][:19].replace("-", "").replace(":", "") + "Z"  # reports filed under the start time
    report = json.loads((world.reports / "generate_data_monitor_report" / stamp / "report.json").read_text())
    assert report["summary"] == {"INFO": 0, "WARN": 0, "CRITICAL": 0} and len(report["tables"]) == SMALL.tables + 2
    sent = notifications(world)
    assert [n["Subject"] for n in sent] == ["omc-flywheel-dev-db-refresh succeeded"] * 2
    assert json.loads(sent[0]["Message"])["Execution"] == done["executionArn"]


def test_failure_is_notified_and_redrive_resumes_at_the_failed_job(world, tmp_path):
    original = world.mapping.read_text()
    _widen_first_table(world, 99)
    with Workflow(tmp_path, world) as wf:
        failed = wf.execute({"Job6Arguments": {"--AS_OF": AS_OF}})
        assert failed["status"] == "FAILED" and failed["error"] == "States.TaskFailed"
        assert "ColumnLimitError" in failed["cause"] and "IBE_01 would have 101 columns" in failed["cause"]
        assert _runs(wf) == Counter({("addressable-split-and-part", "SUCCEEDED"): 1,
                                     ("infobase-split-and-part", "FAILED"): 4})  # 1 + 2 retries + final attempt
        sent = notifications(world)
        assert [n["Subject"] for n in sent] == ["omc-flywheel-dev-db-refresh FAILED: job 2 (InfoBase split and part)"]
        assert "ColumnLimitError" in sent[0]["Message"] and "redrive" in sent[0]["Message"]

        world.mapping.write_text(original)  # the fix
        done = wf.redrive(failed["executionArn"])
        assert done["status"] == "SUCCEEDED", done
        runs = _runs(wf)
        events = wf.history(failed["executionArn"])
    assert runs[("addressable-split-and-part", "SUCCEEDED")] == 1  # kept, not run again
    assert runs[("infobase-split-and-part", "SUCCEEDED")] == 1 and runs[("infobase-split-and-part", "FAILED")] == 4
    after = events[next(i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven"):]
    entered = [e["stateEnteredEventDetails"]["name"] for e in after if e["type"] == "TaskStateEntered"]
    assert entered[0] == "Job2_InfobaseSplitAndPart_FinalAttempt"
    assert "Job1_AddressableSplitAndPart" not in entered
    assert [n["Subject"] for n in notifications(world)][-1] == "omc-flywheel-dev-db-refresh succeeded"
    assert checks.check_infobase(world, SNAPSHOT, BUCKETS, 100) == []


@pytest.mark.parametrize("case, status, attempts, subjects", [
    ("HappyPath", "SUCCEEDED", {}, ["succeeded"]),
    ("SplitRetriedThenSucceeds", "SUCCEEDED", {"Job2_InfobaseSplitAndPart": 3}, ["succeeded"]),
    ("RegisterFailsAfterRetries", "FAILED", {"Job3B_RegisterInfobaseTables": 3,
                                             "Job3B_RegisterInfobaseTables_FinalAttempt": 1},
     ["FAILED: job 3b (register infobase_attributes tables)"]),
    ("RegisterRecoversOnFinalAttempt", "SUCCEEDED", {"Job3B_RegisterInfobaseTables_FinalAttempt": 1},
     ["FAILED: job 3b (register infobase_attributes tables)", "succeeded"]),
])
def test_mock_config_cases(tmp_path, case, status, attempts, subjects):
    result = stepflow.run(MACHINE, {}, template=str(TEMPLATE), mock_config=str(MOCKS), test_case=case,
                          parameter_overrides={"Root": str(tmp_path)})
    assert result.status == status, (result.error, result.cause)
    scheduled = Counter(e["stateEnteredEventDetails"]["name"] for e in result.history if e["type"] == "TaskStateEntered")
    for state, count in attempts.items():
        started = [e for e in result.history if e["type"] == "TaskScheduled"
                   and '"JobName"' in e["taskScheduledEventDetails"]["parameters"]]
        assert scheduled[state] == 1 and len(started) >= count
    lines = [json.loads(x) for x in (tmp_path / "notifications.jsonl").read_text().splitlines()]
    # SNS does not order deliveries (a standard topic): the file subscriber's lines may come in any order
    assert sorted(n["Subject"].replace("omc-flywheel-dev-db-refresh ", "") for n in lines) == sorted(subjects)
    if status == "FAILED":
        assert "ColumnLimitError" in result.cause


def test_template_matches_the_original_document():
    from stepflow.sam import load_project

    project = load_project(str(TEMPLATE))
    machine = next(m for m in project.state_machines if m.name == MACHINE)
    definition = json.loads(machine.definition) if isinstance(machine.definition, str) else machine.definition
    states = definition["States"]
    steps = [n for n in states if n.startswith("Step") and not n.endswith(("_NotifyFailure", "_FinalAttempt"))]
    assert steps == ["Step1_SplitJobs", "Step2_RegisterPartTables", "Step3_PreparePartTables", "Step4_CreateERTable",
                     "Step5_Reporting"]
    assert [states[s]["Type"] for s in steps] == ["Parallel", "Parallel", "Task", "Task", "Parallel"]
    tasks = dict((n, s) for n, s in _all_states(states) if s.get("Retry") and "glue" in s.get("Resource", ""))
    policy = {n: (s["Retry"][0]["MaxAttempts"], s["Retry"][0]["IntervalSeconds"], s["Retry"][0]["BackoffRate"])
              for n, s in tasks.items()}
    assert policy == {"Job1_AddressableSplitAndPart": (2, 60, 2.0), "Job2_InfobaseSplitAndPart": (2, 60, 2.0),
                      "Job3A_RegisterAddressableTables": (2, 30, 2.0), "Job3B_RegisterInfobaseTables": (2, 30, 2.0),
                      "Step3_PreparePartTables": (2, 30, 2.0), "Step4_CreateERTable": (2, 30, 2.0),
                      "Job6_DataMonitorReport": (1, 30, 2.0), "Job7_CleanroomsReport": (1, 30, 2.0)}
    for name in tasks:  # each job's uncaught final attempt, where a redrive resumes
        final = dict(_all_states(states))[f"{name}_FinalAttempt"]
        assert "Catch" not in final and final["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    schedules = [s for s in project.schedules if s.state_machine_arn.endswith(MACHINE)]
    assert [s.expression for s in schedules] == ["cron(0 2 1 * ? *)"]
    assert {j.name for j in project.glue_jobs} == {f"etl-omc-flywheel-dev-{j}" for j in (
        "addressable-split-and-part", "infobase-split-and-part", "register-part-tables", "prepare-part-tables",
        "create-part-addressable-ids-er-table", "generate-data-monitor-report", "generate-cleanrooms-report")}


def _all_states(states: dict):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _all_states(branch["States"])

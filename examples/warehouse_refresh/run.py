"""Run the nightly warehouse refresh locally, end to end, with one command:

    .venv/bin/python examples/warehouse_refresh/run.py            # or: make etl
    .venv/bin/python examples/warehouse_refresh/run.py --mock-tests

It starts ``stepflow serve --template template.yaml`` on a free port (a SQLite store in the work
folder), a local reference-data API, ops webhook and mailbox (local_services.py), starts the
``warehouse-refresh`` state machine through boto3 as against AWS, waits for its end, prints its
output and what happened (history, the nested reports execution, Lambda logs, SNS and SQS
messages, Glue runs, the published warehouse), then stops the server.

``--mock-tests`` runs instead every test case of mocks.json (a Step Functions Local
MockConfigFile) with ``stepflow run ... --mock-config mocks.json --test-case CASE`` and checks
each ends as expected. Everything the runs write goes to ``.stepflow/`` in the folder it runs in
(``--workdir``, default this example's folder: the template's default paths), emptied first.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stepflow.testing import ServeError, serve

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from local_services import LocalServices  # noqa: E402

TEMPLATE, MOCKS = HERE / "template.yaml", HERE / "mocks.json"
MACHINE = "WarehouseRefresh"  # logical id; its name is warehouse-refresh
MARKER = ".warehouse-refresh-workdir"
MOCK_INPUT = json.dumps({"snapshot_date": "2024-07-01"})
EXPECTED = {  # test case -> (status, error)
    "HappyPath": ("SUCCEEDED", None), "LateExports": ("SUCCEEDED", None),
    "ExportsNeverArrive": ("FAILED", "ExportsNotReady"), "GlueJobFails": ("FAILED", "States.TaskFailed"),
    "RetryThenSucceed": ("SUCCEEDED", None), "RatesApiDown": ("SUCCEEDED", None),
    "QualityGateRejects": ("FAILED", "QualityCheckFailed"),
}
ENV = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}


def stepflow(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a ``stepflow`` command with this interpreter."""
    return subprocess.run([sys.executable, "-m", "stepflow", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120)


def prepare_state(path: Path) -> Path:
    """An empty ``.stepflow`` folder for the run; one with files not ours is refused, never emptied."""
    path = path.resolve()
    if path.exists() and any(path.iterdir()) and not (path / MARKER).exists():
        raise SystemExit(f"{path} is not empty and was not made by this runner; choose another --workdir")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    (path / MARKER).touch()
    return path


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 74 - len(title)))


# -- the live run ----------------------------------------------------------------------------------


def overrides(state: Path, services: LocalServices) -> list[str]:
    values = {
        "ExportsDir": state / "exports", "WarehouseDir": state / "warehouse",
        "RatesApiUrl": services.http_url,
        "OpsWebhookUrl": f"{services.http_url}/hooks/sns", "NotificationsFile": state / "notifications.jsonl",
    }
    if services.smtp_address:
        values["AlertEmail"] = "data-team@example.com"
    return [arg for key, value in values.items() for arg in ("--parameter-overrides", f"{key}={value}")]


@contextlib.contextmanager
def running_server(state: Path, services: LocalServices, time_scale: float):
    """``stepflow serve --template template.yaml`` on a free port (its SQLite store and log in the
    work folder) for the duration of the block; yields its stepflow.testing.Server."""
    env = dict(ENV)
    if services.smtp_address:
        env["STEPFLOW_SMTP"] = services.smtp_address
    try:
        with serve("--template", str(TEMPLATE), "--time-scale", str(time_scale), *overrides(state, services),
                   store=f"sqlite:///{state / 'stepflow.db'}", env=env, cwd=state.parent,
                   log=state / "serve.log", timeout=60) as server:
            yield server
    except ServeError as err:
        raise SystemExit(str(err)) from None


def land_exports(state: Path) -> Path:
    """Tonight's export, without its _SUCCESS marker yet: the upstream job is running late."""
    landing = state / "exports"
    landing.mkdir()
    for source in (HERE / "exports").glob("*.csv"):
        shutil.copy(source, landing / source.name)
    return landing


def run_refresh(sfn, landing: Path, timeout: float = 120.0) -> dict:
    """Start warehouse-refresh as the console or the aws CLI would; when it waits for the late
    export, finish the export (write _SUCCESS); wait for the execution's end."""
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    started = sfn.start_execution(stateMachineArn=machines["warehouse-refresh"], name=f"manual-{int(time.time())}",
                                  input=json.dumps({"trigger": "run.py"}))
    arn = started["executionArn"]
    print(f"started {arn}")
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise SystemExit(f"the execution did not end within {timeout:.0f} s")
        if not (landing / "_SUCCESS").exists() and _waiting_for_exports(sfn, arn):
            (landing / "_SUCCESS").touch()
            print("the refresh waits for the export (WaitForExports); the export job finishes now: _SUCCESS written")
        time.sleep(0.2)
    return described


def _waiting_for_exports(sfn, arn: str) -> bool:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return any(e["type"] == "WaitStateEntered" for e in events)


def history_summary(sfn, arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    kinds = collections.Counter(e["type"] for e in events)
    counted = collections.Counter(entered)
    path = " -> ".join(f"{name} x{counted[name]}" if counted[name] > 1 else name for name in dict.fromkeys(entered))
    interesting = ("TaskScheduled", "TaskSucceeded", "TaskFailed", "TaskSubmitted", "MapIterationStarted", "ParallelStateStarted", "WaitStateEntered")
    return [f"{len(events)} events; states: {path}", "  " + ", ".join(f"{k} {kinds[k]}" for k in interesting if kinds[k])]


def show(title: str, *args: str, cwd: Path) -> None:
    section(title)
    print("$ stepflow " + " ".join(args))
    result = stepflow(*args, cwd=cwd)
    print((result.stdout + result.stderr).rstrip())


def wait_for_deliveries(state: Path, timeout: float = 30.0) -> None:
    """SNS delivers after Publish has answered: wait until every message has its outcomes."""
    from stepflow.store import open_store

    store = open_store(f"sqlite:///{state / 'stepflow.db'}")
    try:
        deadline = time.monotonic() + timeout
        while any("Deliveries" not in m for m in store.list_resources("sns-message")) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        store.close()


def report(sfn, described: dict, state: Path, services: LocalServices) -> None:
    arn, store = described["executionArn"], f"sqlite:///{state / 'stepflow.db'}"
    logs = ("--logs-dir", str(state / "logs"))  # serve ran in the work folder: its logs are in .stepflow/logs
    children = report_history(sfn, described)
    show("Lambda logs (the quality gate's callback)", "logs", "refresh-quality-gate", "--execution", arn, *logs, cwd=state)
    for child in children:
        show("Lambda logs (reports, built by the nested execution)", "logs", "refresh-build-report", "--execution", child, *logs,
             cwd=state)
    show("SNS and SQS messages", "messages", "--store", store, cwd=state)
    show("Glue job runs", "glue-runs", "--store", store, cwd=state)
    show("schedules", "schedules", "--template", str(TEMPLATE), cwd=state)
    report_outside_world(services, state / "notifications.jsonl")
    report_warehouse(state / "warehouse" / "current")


def report_history(sfn, described: dict) -> list[str]:
    """The history summary and the nested executions; their ARNs."""
    section("history")
    print("\n".join(history_summary(sfn, described["executionArn"])))
    reports_machine = described["stateMachineArn"].replace(":warehouse-refresh", ":warehouse-refresh-reports")
    children = sfn.list_executions(stateMachineArn=reports_machine)["executions"]
    for child in children:
        print(f"nested (.sync:2): {child['executionArn']} {child['status']}")
    return [child["executionArn"] for child in children]


def report_outside_world(services: LocalServices, notifications: Path) -> None:
    section("what the outside world received")
    received = services.recorder.snapshot()
    print(f"reference-data API: {len(received['rates_requests'])} request(s) {[r['query'] for r in received['rates_requests']]}")
    print(f"ops webhook: {[(n['type'], n['body'].get('Subject')) for n in received['webhook']]}")
    mails = [(m['to'], m['subject']) for m in received['mails']]
    print(f"mailbox: {mails if services.smtp_address else 'not started (aiosmtpd is not installed)'}")
    lines = notifications.read_text().splitlines() if notifications.exists() else []
    print(f"notifications file: {len(lines)} line(s) in {notifications}")


def report_warehouse(current: Path) -> None:
    if not current.exists():
        return
    section("the published warehouse")
    print(f"{current} -> {os.readlink(current)}")
    for row in json.loads((current / "reports" / "top_products.json").read_text())["rows"]:
        print(f"  {row['product']:<26} {row['units']:>3} units  {row['revenue_usd']:>10.2f} USD")


def live(state: Path, time_scale: float) -> dict:
    services = LocalServices().start()
    try:
        with running_server(state, services, time_scale) as server:
            print(f"stepflow serve on {server.endpoint} (store {state / 'stepflow.db'}, time scale {time_scale})")
            return refresh(server.client(key="local", secret="local"), state, services)
    finally:
        services.stop()


def refresh(sfn, state: Path, services: LocalServices) -> dict:
    """The run, as against AWS: start, wait (finishing the late export), report."""
    described = run_refresh(sfn, land_exports(state))
    section(f"{described['status']}: output")
    print(json.dumps(json.loads(described.get("output") or "null"), indent=2) if described.get("output")
          else f"{described.get('error')}: {described.get('cause')}")
    wait_for_deliveries(state)
    report(sfn, described, state, services)
    return {"status": described["status"], "execution_arn": described["executionArn"], "output": described.get("output"),
            "error": described.get("error"), "cause": described.get("cause"), "state": str(state),
            "received": services.recorder.snapshot()}


# -- the mock test cases ---------------------------------------------------------------------------


def mock_command(case: str, state: Path) -> list[str]:
    return ["run", MACHINE, "--template", str(TEMPLATE), "--mock-config", str(MOCKS), "--test-case", case,
            "--input", MOCK_INPUT, "--parameter-overrides", f"NotificationsFile={state / 'mock-notifications.jsonl'}"]


def run_case(case: str, state: Path) -> dict:
    result = stepflow(*mock_command(case, state), cwd=state, env={**os.environ, **ENV})
    status = {0: "SUCCEEDED", 1: "FAILED", 3: "TIMED_OUT", 4: "ABORTED"}.get(result.returncode, f"exit {result.returncode}")
    error = None
    if status != "SUCCEEDED":
        last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        error = last.split(": ", 2)[1] if last.count(": ") >= 2 else last
    output = json.loads(result.stdout) if status == "SUCCEEDED" and result.stdout.strip() else None
    return {"case": case, "status": status, "error": error, "output": output, "ok": (status, error) == EXPECTED.get(case)}


def mock_tests(state: Path) -> list[dict]:
    cases = list(json.loads(MOCKS.read_text())["StateMachines"]["warehouse-refresh"]["TestCases"])
    print("each case runs:  stepflow run WarehouseRefresh --template examples/warehouse_refresh/template.yaml \\\n"
          "                     --mock-config examples/warehouse_refresh/mocks.json --test-case CASE\n")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: run_case(case, state), cases))
    for r in results:
        print(f"{'ok  ' if r['ok'] else 'FAIL'} {r['case']:<20} {r['status']:<9} {_outcome(r)}")
    return results


def _outcome(result: dict) -> str:
    expected = " ".join(str(part) for part in EXPECTED.get(result["case"], ("?",)) if part)
    if result["output"] is not None:
        out = result["output"]
        detail = f"export checks {out['export_checks']}, rates {out['rates']['source']}, published {out['published']['path']}"
    else:
        detail = result["error"] or ""
    return detail if result["ok"] else f"{detail}  (expected {expected})"


def main(argv: list[str] | None = None) -> dict | list:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=HERE, help="the folder to run in; the run writes to its .stepflow/ (emptied first)")
    parser.add_argument("--time-scale", type=float, default=0.01, help="multiplies Wait, Retry backoff and timeouts (default 0.01)")
    parser.add_argument("--mock-tests", action="store_true", help="run the test cases of mocks.json instead of the live refresh")
    args = parser.parse_args(argv)
    state = prepare_state(args.workdir.resolve() / ".stepflow")
    if args.mock_tests:
        return mock_tests(state)
    return live(state, args.time_scale)


if __name__ == "__main__":
    outcome = main()
    failed = any(not r["ok"] for r in outcome) if isinstance(outcome, list) else outcome["status"] != "SUCCEEDED"
    sys.exit(1 if failed else 0)

"""stepflow against moto on issue 2's speed workloads, in one run, as a table of ratios.

    .venv/bin/python bench/run_bench.py                  # full sizes (about 3 minutes)
    .venv/bin/python bench/run_bench.py --quick          # small sizes, under a minute
    .venv/bin/python bench/run_bench.py --json out.json  # also write every figure as JSON

It starts ``stepflow serve --store memory:// --no-limits`` on a free port (a subprocess, stopped
at the end) and runs moto in this process (``mock_aws`` with ``execute_state_machine``), then
drives both with the same boto3 code (``sfn_workloads.py``): StartExecution until
DescribeExecution reports a terminal status, wall-clock, the median of ``--repeat`` runs. The
two engines alternate scenario by scenario, so a machine that gets busier slows both alike.

Targets (issue 2, "Speed"): chain, map and loop >= 100x moto; 500 concurrent executions >= 20x.
The 'many' scenario is measured twice: with boto3 on both sides (boto3's own CPU cost per call
caps what it can measure), and server against server: ``stepflow serve`` and moto's own HTTP
server (``moto_server.py``, a subprocess) both driven by the same minimal HTTP client
(``lean_client.py``). That row needs moto's server extra (``pip install 'moto[server]'``).

This is a benchmark, not a test: it always exits 0 unless it could not run at all.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lean_client
import sfn_workloads as wl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from stepflow.testing import free_port, serve  # noqa: E402
MOTO_SERVER = Path(__file__).resolve().with_name("moto_server.py")
FULL = {"chain": 1000, "map": 10_000, "loop": 1000, "many": 500}
QUICK = {"chain": 200, "map": 1000, "loop": 200, "many": 100}


@dataclass
class Figure:
    """One engine's result on one scenario: the median rate over the successful repeats."""

    rate: float | None = None
    status: str = "NOT_RUN"
    walls: list[float] = field(default_factory=list)
    engine_rate: float | None = None  # from the execution's startDate/stopDate (single executions)
    transitions: int | None = None
    rate_below: float | None = None  # did not finish: its rate is below this
    note: str = ""


@dataclass
class Row:
    key: str
    label: str
    unit: str
    target: float
    stepflow: Figure
    moto: Figure
    caveat: str = ""

    def ratio(self) -> tuple[float | None, bool]:
        """stepflow / moto, and whether it is only a lower bound (moto did not finish)."""
        if self.stepflow.rate is None:
            return None, False
        if self.moto.rate is not None:
            return self.stepflow.rate / self.moto.rate, False
        if self.moto.rate_below is not None:
            return self.stepflow.rate / self.moto.rate_below, True
        return None, False

    def verdict(self) -> str:
        ratio, bound = self.ratio()
        if ratio is None:
            return "n/a"
        return ("PASS" if ratio >= self.target else "FAIL") + (" (bound)" if bound else "")


# measuring ------------------------------------------------------------------------------------


def single(client, prefix: str, definition: dict, payload: dict, units: int, args, timeout: float,
           transitions: bool = False) -> Figure:
    """A one-execution scenario, repeated. ``units`` per execution are items, or the expected
    transitions when ``transitions`` (then the first run's history count is used, as AWS counts)."""
    machine = wl.create_machine(client, prefix, definition)
    runs = []
    for _ in range(args.repeat):
        runs.append(wl.run_to_end(client, machine, payload, timeout))
        if runs[-1].status != "SUCCEEDED":
            break  # a run that did not finish is not repeated
    done = [r for r in runs if r.status == "SUCCEEDED"]
    figure = Figure(status="SUCCEEDED" if done else runs[-1].status, walls=[round(r.wall_s, 5) for r in runs])
    if runs[0].status == "DID_NOT_FINISH":
        figure.rate_below = units / timeout
        figure.note = f"did not finish in {timeout:.0f} s: rate < {figure.rate_below:,.0f}"
    if runs[0].status != "SUCCEEDED":
        return figure
    figure.transitions = wl.count_transitions(client, runs[0].arn)
    if transitions and figure.transitions != units:
        figure.note = f"history has {figure.transitions} transitions, expected {units}"
        units = figure.transitions
    figure.rate = units / statistics.median(r.wall_s for r in done)
    engines = [r.engine_s for r in done if r.engine_s]
    figure.engine_rate = units / statistics.median(engines) if engines else None
    return figure


def many_figure(batches: list, m: int) -> Figure:
    done = [b for b in batches if b.status == "SUCCEEDED"]
    figure = Figure(status="SUCCEEDED" if done else batches[-1].status, walls=[round(b.wall_s, 4) for b in batches])
    if done:
        figure.rate = m / statistics.median(b.wall_s for b in done)
    errors = [e for b in batches for e in b.errors]
    figure.note = f"{len(errors)} start errors, e.g. {errors[0]}" if errors else ""
    return figure


def measure(scenario: str, client, sizes: dict, args, timeout: float, url: str | None = None) -> Figure:
    """One engine, one scenario."""
    n = sizes.get(scenario.split(":")[0])
    if scenario == "chain":
        return single(client, "chain", wl.chain_definition(n), {"v": 1}, n, args, timeout, transitions=True)
    if scenario.startswith("map:"):
        definition, payload = wl.map_definition(int(scenario[4:])), {"n": n, "items": list(range(n))}
        return single(client, f"map{scenario[4:]}", definition, payload, n, args, timeout)
    if scenario == "loop":
        return single(client, "loop", wl.loop_definition(), {"i": 0, "n": n}, 2 * n + 2, args, timeout, transitions=True)
    machine = wl.create_machine(client, "many", wl.many_definition())
    if scenario == "many:http":
        return many_figure([lean_client.run_many(url, machine, n, timeout) for _ in range(args.repeat)], n)
    return many_figure([wl.run_many(client, machine, n, timeout) for _ in range(args.repeat)], n)


# the engines ------------------------------------------------------------------------------------


@contextlib.contextmanager
def stepflow_server(store: str):
    """``stepflow serve`` (this checkout's src) on a free port for the duration of the block; yields its URL."""
    src = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    with serve("--no-limits", "--log-level", "error", store=store, cwd=ROOT, env={"PYTHONPATH": src}, timeout=60) as server:
        yield server.endpoint


@contextlib.contextmanager
def moto_client():
    """A boto3 client on moto in this process, its ASL interpreter on (fresh backends)."""
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield wl.make_client(None)


@contextlib.contextmanager
def moto_http_server():
    """moto's own HTTP server (``moto_server.py``, fresh backends) on a free port; yields its URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, MOTO_SERVER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}: {process.stderr.read().decode()[-500:]}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        time.sleep(0.1)
    raise RuntimeError("moto server did not listen within 60 s")


def quiet_thread_errors() -> list:
    """Count, instead of printing, exceptions in background threads (moto's executions)."""
    seen: list = []
    threading.excepthook = lambda hook_args: seen.append(hook_args.exc_type.__name__)
    return seen


# the run ---------------------------------------------------------------------------------------


def scenarios(sizes: dict) -> list[tuple[str, str, str, float, str]]:
    """(key, label, unit, target ratio, caveat) in the order they run; moto's Map MaxConcurrency 10 runs last."""
    return [
        ("chain", f"chain N={sizes['chain']}", "transitions/s", 100, ""),
        ("map:0", f"map N={sizes['map']} MaxConcurrency=0", "items/s", 100, ""),
        ("loop", f"loop N={sizes['loop']}", "transitions/s", 100, ""),
        ("many", f"many M={sizes['many']} (boto3 for both)", "executions/s", 20,
         "boto3's CPU per call (about 0.7 ms) bounds both figures"),
        ("many:http", f"many M={sizes['many']} (lean client, both servers)", "executions/s", 20,
         "stepflow serve and moto's own server (moto_server.py), the same lean_client.py"),
        ("map:10", f"map N={sizes['map']} MaxConcurrency=10", "items/s", 100, ""),
    ]


def run_all(args, sizes: dict, url: str) -> list[Row]:
    """Every scenario on stepflow, then on moto, alternating."""
    client, rows = wl.make_client(url), []
    for key, label, unit, target, caveat in scenarios(sizes):
        if args.only and key.split(":")[0] not in args.only:
            continue
        progress(f"{label}: stepflow")
        sf = measure(key, client, sizes, args, args.timeout, url)
        moto = Figure()
        if "moto" in args.targets:
            progress(f"{label}: moto")
            moto = measure_moto(key, sizes, args)
        rows.append(Row(key, label, unit, target, sf, moto, caveat))
    return rows


def measure_moto(key: str, sizes: dict, args) -> Figure:
    """One scenario on moto: in this process, or behind its own HTTP server (``many:http``)."""
    timeout = args.moto_timeout if key == "map:10" else args.timeout
    if key == "many:http":
        try:
            with moto_http_server() as moto_url:
                return measure(key, wl.make_client(moto_url), sizes, args, timeout, moto_url)
        except (ImportError, RuntimeError) as err:  # moto[server] missing (flask): say so in the table
            return Figure(status="NOT_RUN", note=f"moto server: {str(err)[-160:]}")
    with moto_client() as moto_boto:
        return measure(key, moto_boto, sizes, args, timeout)


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# reporting -------------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def table(rows: list[Row]) -> str:
    head = f"{'scenario':42} {'unit':14} {'stepflow':>10} {'moto':>10} {'ratio':>9} {'target':>7}  result"
    lines = [head, "-" * len(head)]
    for row in rows:
        ratio, bound = row.ratio()
        moto = fmt(row.moto.rate) if row.moto.rate is not None else ("DNF" if row.moto.rate_below else row.moto.status)
        shown = "-" if ratio is None else (">" if bound else "") + f"{ratio:,.1f}x"
        sf = fmt(row.stepflow.rate) if row.stepflow.rate is not None else row.stepflow.status
        lines.append(f"{row.label:42} {row.unit:14} {sf:>10} {moto:>10} {shown:>9} {'>=' + str(int(row.target)) + 'x':>7}  {row.verdict()}")
    notes = [f"  {row.label}: {text}" for row in rows for text in (row.caveat, row.stepflow.note, row.moto.note) if text]
    return "\n".join(lines + (["notes:"] + notes if notes else []))


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    return {"cpus": os.cpu_count(), "cpu_model": model or platform.processor(), "python": platform.python_version(),
            "platform": platform.platform(), "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def versions() -> dict:
    found = {}
    for name in ("moto", "boto3"):
        with contextlib.suppress(Exception):
            found[name] = __import__(name).__version__
    with contextlib.suppress(Exception):
        found["stepflow_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                                  capture_output=True, text=True, timeout=5).stdout.strip()
    return found


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (whole run under a minute)")
    parser.add_argument("--json", metavar="PATH", help="write every figure as JSON here")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario; the median is reported")
    parser.add_argument("--only", type=lambda s: set(s.split(",")), help="comma list of chain,map,loop,many")
    parser.add_argument("--targets", type=lambda s: set(s.split(",")), default={"stepflow", "moto"},
                        help="stepflow,moto (moto needs the dev extra)")
    parser.add_argument("--store", default="memory://", help="the store of the stepflow server")
    parser.add_argument("--endpoint-url", help="use this running stepflow instead of starting one")
    for name in ("chain", "map", "loop", "many"):
        parser.add_argument(f"--{name}", type=int, help=f"override the size of '{name}'")
    args = parser.parse_args(argv)
    args.timeout = 20.0 if args.quick else 240.0
    args.moto_timeout = 10.0 if args.quick else 60.0
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    sizes.update({k: getattr(args, k) for k in FULL if getattr(args, k)})
    errors = quiet_thread_errors()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        url = args.endpoint_url or stack.enter_context(stepflow_server(args.store))
        rows = run_all(args, sizes, url)
    info = {"machine": machine(), "versions": versions(), "sizes": sizes, "repeat": args.repeat,
            "seconds": round(time.monotonic() - started, 1), "moto_thread_errors": len(errors)}
    print(f"\nstepflow (serve --store {args.store} --no-limits) vs moto {info['versions'].get('moto', '-')} in-process "
          f"(behind its own server for the lean-client row); "
          f"median of {args.repeat}; {info['machine']['cpus']} CPUs, {info['machine']['cpu_model']}, "
          f"Python {info['machine']['python']}, {info['machine']['date']}\n")
    print(table(rows))
    if args.quick or any(getattr(args, k) for k in FULL):
        print(f"(sizes {sizes}: the targets are set for {FULL}; small sizes measure fixed costs)")
    print(f"\n{info['seconds']} s")
    if args.json:
        Path(args.json).write_text(json.dumps({**info, "rows": [dict(asdict(r), ratio=r.ratio()[0], result=r.verdict())
                                                                for r in rows]}, indent=1))
    sys.stdout.flush()
    os._exit(0)  # moto's executions that did not finish run on in non-daemon threads: do not wait for them


if __name__ == "__main__":
    main()

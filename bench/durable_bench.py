"""Durable speed: engine-side transitions/s of the memory, SQLite and PostgreSQL stores, in one run.

Issue 3, "Durable speed": on the Pass chain (N=1000) and Map (N=10,000, 2-state iterator) workloads
of ``shared/bench/sfn_bench.py``, the SQLite store keeps >= 20,000 transitions/s and at least 30% of
the memory store's rate. Each store runs behind its own ``stepflow serve --store URL --no-limits``
process (the code path users get); the workloads go through the Step Functions API with boto3.
The rounds interleave the stores, so a noisy machine slows them alike; each figure is the median.

The engine-side rate is transitions (``*StateEntered`` events) over stopDate - startDate of the
execution, as sfn_bench reports it; the wall rate (client StartExecution -> terminal status seen)
is shown beside it.

A third workload, ``many`` (M executions of Pass -> Wait 0 -> Succeed started at once), measures
what a transaction per interpreter call costs when many short executions run together (group
commit). It is driven by ``lean_client.py`` (boto3's own CPU cost would hide the server's) and
reported in executions/s: wall time from the first StartExecution until the last execution was
seen terminal.

    .venv/bin/python bench/durable_bench.py                # memory, SQLite, PostgreSQL (pgserver)
    .venv/bin/python bench/durable_bench.py --rounds 5 --json /tmp/durable.json
    DATABASE_URL=postgresql://... .venv/bin/python bench/durable_bench.py

PostgreSQL is measured when ``DATABASE_URL`` is set or the ``pgserver`` package is installed
(a throw-away server in a temporary folder); ``--no-postgres`` skips it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

import lean_client

from stepflow.testing import Server

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATE = 20_000
TARGET_RATIO = 0.30
MIN_CPU_SECONDS = 0.1  # /proc counts CPU time in 10 ms ticks: shorter runs get no CPU rate


def load_sfn_bench():
    """The shared, engine-agnostic benchmark (``../shared/bench`` beside the repository)."""
    for folder in (os.environ.get("SFN_BENCH_DIR"), ROOT.parent / "shared" / "bench", ROOT / "shared" / "bench"):
        if folder and (Path(folder) / "sfn_bench.py").exists():
            sys.path.insert(0, str(folder))
            import sfn_bench

            return sfn_bench
    sys.exit("sfn_bench.py not found: set SFN_BENCH_DIR to the folder holding it")


# servers -----------------------------------------------------------------------------------------


class StoreServer(Server):
    """``stepflow serve --store URL --no-limits`` for one store, started (not yet waited for)."""

    def __init__(self, label: str, store_url: str, log_dir: Path):
        super().__init__("--no-limits", store=store_url, cwd=log_dir, log=log_dir / f"serve-{label}.log", timeout=60)
        self.label, self.store_url, self.url = label, store_url, self.endpoint
        self.start(wait=False)

    def cpu_seconds(self) -> float:
        """CPU time the server process has used (user + system), from /proc."""
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def postgres_url(enabled: bool):
    """DATABASE_URL (a fresh schema in it), else a throw-away pgserver, else None."""
    if not enabled:
        yield None
        return
    url = os.environ.get("DATABASE_URL")
    server = None
    if not url:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver

                server = pgserver.get_server(tempfile.mkdtemp(prefix="stepflow-bench-pg-"), cleanup_mode="delete")
        except ImportError:
            yield None
            return
        url = server.get_uri()
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        if server is not None:
            server.cleanup()


# measuring ----------------------------------------------------------------------------------------


def workloads(sfn, chain_n: int, map_n: int, many_m: int) -> list[tuple[str, dict, dict | None, int]]:
    """(name, definition, input, expected transitions) of the workloads; ``many`` has no input
    (its executions get ``{"i": index}``) and counts executions."""
    loads = [
        (f"chain N={chain_n}", sfn.def_chain(chain_n), {"v": 1}, chain_n),
        (f"map N={map_n}", sfn.def_map(0), {"n": map_n, "items": list(range(map_n))}, 1 + 2 * map_n),
    ]
    if many_m:
        loads.append((f"many M={many_m}", sfn.def_many(), None, many_m))
    return loads


def measure_many(server: StoreServer, machine_arn: str, m: int, timeout: float) -> dict:
    """M executions at once through the lean client: executions/s (wall and server CPU)."""
    cpu = server.cpu_seconds()
    batch = lean_client.run_many(server.url, machine_arn, m, timeout)
    cpu = server.cpu_seconds() - cpu
    if batch.status != "SUCCEEDED":
        raise RuntimeError(f"many: {batch.status} {batch.errors[:2]}")
    rate = m / batch.wall_s
    return {"engine_rate": rate, "wall_rate": rate, "engine_s": batch.wall_s,
            "cpu_rate": m / cpu if cpu >= MIN_CPU_SECONDS else None}


def measure(sfn, server: StoreServer, client, machine_arn: str, payload: dict | None, expected: int, check_history: bool, timeout: float) -> dict:
    """One execution: engine-side, wall and server-CPU transitions/s (history checked on the first round)."""
    if payload is None:
        return measure_many(server, machine_arn, expected, timeout)
    cpu = server.cpu_seconds()
    run = sfn.run_one(client, machine_arn, payload, timeout, history=check_history)
    cpu = server.cpu_seconds() - cpu  # the server's work only (a PostgreSQL server's is not counted)
    if run["status"] != "SUCCEEDED":
        raise RuntimeError(f"execution ended {run['status']}: {run.get('error')}")
    if check_history and run.get("transitions_hist") != expected:
        raise RuntimeError(f"expected {expected} transitions, history shows {run.get('transitions_hist')}")
    return {"engine_rate": expected / run["engine_s"], "wall_rate": expected / run["wall_s"], "engine_s": run["engine_s"],
            "cpu_rate": expected / cpu if cpu >= MIN_CPU_SECONDS else None}


def run_rounds(sfn, servers: list[StoreServer], loads, rounds: int, timeout: float) -> dict:
    """Every workload on every store, ``rounds`` times, interleaved; the runs of each cell."""
    clients = {s.label: sfn.make_client(s.url) for s in servers}
    machines = {(s.label, name): sfn.create_sm(clients[s.label], "durable", definition)
                for s in servers for name, definition, _, _ in loads}
    runs: dict[tuple[str, str], list[dict]] = {key: [] for key in machines}
    for number in range(rounds + 1):  # round 0 warms up (imports, caches) and checks histories
        for name, _, payload, expected in loads:
            for server in servers:
                key = (server.label, name)
                result = measure(sfn, server, clients[server.label], machines[key], payload, expected, number == 0, timeout)
                if number > 0:
                    runs[key].append(result)
                unit = "executions/s" if payload is None else "transitions/s"
                print(f"  round {number} {server.label:8} {name:12} {result['engine_rate']:>10,.0f} {unit}", flush=True)
    return runs


def summarise(runs: dict, labels: list[str], loads) -> list[dict]:
    rows = []
    for name, _, _, expected in loads:
        memory_rate = statistics.median(r["engine_rate"] for r in runs[("memory", name)])
        for label in labels:
            cell = runs[(label, name)]
            rate = statistics.median(r["engine_rate"] for r in cell)
            rows.append({
                "workload": name, "store": label, "transitions": expected, "runs": len(cell),
                "engine_transitions_per_s": round(rate), "wall_transitions_per_s": round(statistics.median(r["wall_rate"] for r in cell)),
                "engine_s_median": round(statistics.median(r["engine_s"] for r in cell), 4),
                "server_cpu_transitions_per_s": _median_or_none([r["cpu_rate"] for r in cell]),
                "share_of_memory": round(rate / memory_rate, 3),
            })
    return rows


def _median_or_none(values: list) -> int | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known)) if known else None


def verdict(rows: list[dict]) -> list[str]:
    """The issue's targets, checked on the SQLite rows."""
    lines = []
    for row in rows:
        if row["store"] == "sqlite" and not row["workload"].startswith("many"):
            ok = row["engine_transitions_per_s"] >= TARGET_RATE and row["share_of_memory"] >= TARGET_RATIO
            lines.append(f"{'PASS' if ok else 'MISS'} sqlite {row['workload']}: {row['engine_transitions_per_s']:,} transitions/s "
                         f"(target {TARGET_RATE:,}), {row['share_of_memory']:.0%} of memory (target {TARGET_RATIO:.0%})")
    return lines


def print_table(rows: list[dict]) -> None:
    print(f"\n{'workload':14} {'store':9} {'engine tr/s':>12} {'of memory':>10} {'wall tr/s':>10} {'server CPU tr/s':>16}"
          "   (many: executions/s in every rate column)")
    for row in rows:
        print(f"{row['workload']:14} {row['store']:9} {row['engine_transitions_per_s']:>12,} {row['share_of_memory']:>10.0%} "
              f"{row['wall_transitions_per_s']:>10,} {_figure(row['server_cpu_transitions_per_s']):>16}")


def _figure(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (after one warm-up round)")
    parser.add_argument("--chain", type=int, default=1000, help="Pass chain length")
    parser.add_argument("--map", type=int, default=10_000, help="Map items")
    parser.add_argument("--many", type=int, default=500, help="executions of the 'many' workload (0: skip it)")
    parser.add_argument("--timeout", type=float, default=300.0, help="bound on one execution (s)")
    parser.add_argument("--no-postgres", action="store_true", help="measure memory and SQLite only")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    sfn = load_sfn_bench()
    loads = workloads(sfn, args.chain, args.map, args.many)
    work = Path(tempfile.mkdtemp(prefix="stepflow-durable-bench-"))
    servers: list[StoreServer] = []
    try:
        with postgres_url(not args.no_postgres) as pg:
            stores = [("memory", "memory://"), ("sqlite", f"sqlite:///{work}/bench.db")] + ([("postgres", pg)] if pg else [])
            servers = [StoreServer(label, url, work) for label, url in stores]
            for server in servers:
                server.wait_until_up()
            runs = run_rounds(sfn, servers, loads, args.rounds, args.timeout)
            for server in servers:
                server.stop()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    rows = summarise(runs, [label for label, _ in stores], loads)
    print_table(rows)
    lines = verdict(rows)
    print("\n".join([""] + lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "verdict": lines, "python": sys.version.split()[0],
                                               "cpus": os.cpu_count()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

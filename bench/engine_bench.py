"""The engine alone, in-process: issue 2's workloads without HTTP or a client, for profiling.

    .venv/bin/python bench/engine_bench.py                       # every scenario, memory store
    .venv/bin/python bench/engine_bench.py --store sqlite:///tmp/e.db --only map
    .venv/bin/python bench/engine_bench.py --only map --profile /tmp/map.prof   # cProfile output
    .venv/bin/python bench/engine_bench.py --gc-serve            # with the GC thresholds of `stepflow serve`

It builds a ``Runtime`` (time scale 0, relaxed limits, in-process Lambda mode), creates the
machines of ``sfn_workloads.py`` through the service, starts executions and awaits the runner.
Each figure is the median of ``--repeat`` runs of wall-clock time on the event loop: what the
engine (interpreter, runner, store) costs per transition, with nothing else in the way. It is the
tool for comparing two versions of the engine; the ratios against moto come from run_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import sfn_workloads as wl  # noqa: E402
from stepflow.engine.interpreter import Limits  # noqa: E402
from stepflow.runtime import Runtime, Settings  # noqa: E402

SIZES = {"chain": 1000, "map": 10_000, "loop": 1000, "many": 2000}


def scenarios(sizes: dict) -> list[tuple[str, dict, list[str], int, str]]:
    """(name, definition, inputs of the executions started at once, units per run, unit)."""
    n_map, n_many = sizes["map"], sizes["many"]
    return [
        ("chain", wl.chain_definition(sizes["chain"]), [json.dumps({"v": 1})], sizes["chain"], "transitions/s"),
        ("map", wl.map_definition(0), [json.dumps({"n": n_map, "items": list(range(n_map))})], n_map, "items/s"),
        ("map10", wl.map_definition(10), [json.dumps({"n": n_map, "items": list(range(n_map))})], n_map, "items/s"),
        ("loop", wl.loop_definition(), [json.dumps({"i": 0, "n": sizes["loop"]})], 2 * sizes["loop"] + 2, "transitions/s"),
        ("many", wl.many_definition(), [json.dumps({"i": i}) for i in range(n_many)], n_many, "executions/s"),
    ]


async def run_once(rt: Runtime, machine_arn: str, inputs: list[str]) -> float:
    """Start every input at once, wait for all; seconds taken."""
    started = time.perf_counter()
    arns = [rt.service.start_execution(stateMachineArn=machine_arn, input=text)["executionArn"] for text in inputs]
    flush = getattr(rt.runner, "flush", None)
    if flush is not None:
        flush()
    done = [await finished(rt, arn) for arn in arns]
    elapsed = time.perf_counter() - started
    bad = [e.status for e in done if e.status != "SUCCEEDED"]
    if bad:
        raise RuntimeError(f"executions ended {bad[:3]}")
    return elapsed


async def finished(rt: Runtime, arn: str):
    """The execution once terminal (it may have finished already)."""
    try:
        return await rt.runner.wait(arn)
    except KeyError:  # not active any more: it ended
        return rt.service._execution(arn)


async def measure(rt: Runtime, args) -> list[dict]:
    rows = []
    sizes = dict(SIZES, **{k: getattr(args, k) for k in SIZES if getattr(args, k)})
    for name, definition, inputs, units, unit in scenarios(sizes):
        if args.only and name not in args.only:
            continue
        created = rt.service.create_state_machine(name=f"bench-{name}", definition=json.dumps(definition), roleArn=wl.ROLE_ARN)
        await run_once(rt, created["stateMachineArn"], inputs[: max(1, len(inputs) // 10)])  # warm-up
        profiler = cProfile.Profile() if args.profile else None
        walls = []
        for _ in range(args.repeat):
            if profiler:
                profiler.enable()
            walls.append(await run_once(rt, created["stateMachineArn"], inputs))
            if profiler:
                profiler.disable()
        if profiler:
            profiler.dump_stats(f"{args.profile}.{name}" if not args.only or len(args.only) > 1 else args.profile)
        rate = units / statistics.median(walls)
        rows.append({"scenario": name, "units": units, "unit": unit, "rate": round(rate), "walls": [round(w, 4) for w in walls]})
        print(f"{name:6} {rate:>12,.0f} {unit:14} walls {', '.join(f'{w:.3f}' for w in walls)}", flush=True)
    return rows


class GcTimer:
    """Time spent in each generation's collections (gc.callbacks)."""

    def __init__(self):
        self.seconds = [0.0, 0.0, 0.0]
        self.counts = [0, 0, 0]
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._began
            self.counts[info["generation"]] += 1

    def report(self) -> str:
        parts = [f"gen{g}: {self.counts[g]} in {self.seconds[g]:.3f} s" for g in range(3)]
        return "garbage collection: " + ", ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="memory://")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", type=lambda s: set(s.split(",")))
    parser.add_argument("--profile", metavar="PATH", help="write cProfile stats here (per scenario)")
    parser.add_argument("--gc-serve", action="store_true", help="the GC thresholds `stepflow serve` sets")
    parser.add_argument("--gc-stats", action="store_true", help="report the time spent in garbage collection")
    parser.add_argument("--json", metavar="PATH")
    for name in SIZES:
        parser.add_argument(f"--{name}", type=int, help=f"size of '{name}' (default {SIZES[name]})")
    args = parser.parse_args(argv)
    rt = Runtime(Settings(store_url=args.store, time_scale=0, limits=Limits.relaxed(), lambda_mode="inprocess"))
    if args.gc_serve:
        gc.set_threshold(50_000, 20, 20)  # what `stepflow serve` sets (cli/main.py)
    gc_time = GcTimer() if args.gc_stats else None
    try:
        rows = asyncio.run(measure(rt, args))
    finally:
        rt.close()
    if gc_time is not None:
        print(gc_time.report())
    if args.json:
        Path(args.json).write_text(json.dumps({"store": args.store, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

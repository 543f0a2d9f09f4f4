"""Per-invocation overhead of the worker-process Lambda runtime, against the in-process mode.

    .venv/bin/python bench/lambda_workers_bench.py [--invocations 3000] [--rounds 3]

A trivial handler (``return event``) is invoked sequentially, warm, through the same paths the
Lambda integration uses: ``LambdaWorkers.invoke`` (async: grant, daemon thread, pipe round
trip, log record) and the in-process ``LocalFunction.invoke`` on a thread pool. Also shown: the
blocking path without the event loop, the same with logs off, a cold start (process start +
handler import), and 8 concurrent callers. Rounds are interleaved and the median is printed;
numbers are for this machine only (speed is measured, never asserted in tests).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stepflow.integrations.lambda_logs import LambdaLogs
from stepflow.integrations.lambda_runtime import LocalFunction
from stepflow.integrations.lambda_workers import LambdaWorkers
from stepflow.sam import FunctionSpec

PAYLOAD = b'{"order": 42, "items": ["a", "b"]}'


def trivial_function(folder: Path) -> FunctionSpec:
    (folder / "trivial.py").write_text("def handler(event, context):\n    return event\n")
    return FunctionSpec(logical_id="Trivial", name="trivial", handler="trivial.handler", code_uri=folder, timeout=30)


async def sequential_async(invoke, n: int) -> float:
    """Microseconds per invocation for n sequential awaited invocations."""
    started = time.perf_counter()
    for _ in range(n):
        await invoke()
    return (time.perf_counter() - started) / n * 1e6


def sequential_blocking(invoke, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        invoke()
    return (time.perf_counter() - started) / n * 1e6


async def concurrent_async(invoke, n: int, callers: int) -> float:
    """Invocations per second with ``callers`` concurrent sequential callers."""
    async def caller():
        for _ in range(n // callers):
            await invoke()

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return (n // callers * callers) / (time.perf_counter() - started)


def cold_start_ms(spec: FunctionSpec, samples: int) -> float:
    times = []
    for _ in range(samples):
        workers = LambdaWorkers(None)
        started = time.perf_counter()
        workers.invoke_blocking(spec, PAYLOAD)
        times.append((time.perf_counter() - started) * 1000)
        workers.close()
    return statistics.median(times)


def one_round(spec: FunctionSpec, logs_dir: str, n: int) -> dict[str, float]:
    workers, quiet = LambdaWorkers(LambdaLogs(logs_dir)), LambdaWorkers(None)
    local, pool = LocalFunction(spec), ThreadPoolExecutor(8)

    async def in_process():
        return await asyncio.get_running_loop().run_in_executor(pool, local.invoke, PAYLOAD, "r")

    async def measure():
        await workers.invoke(spec, PAYLOAD)  # warm up: cold start outside the timing
        await in_process()
        return {
            "worker process, async (as the integration calls it)": await sequential_async(lambda: workers.invoke(spec, PAYLOAD), n),
            "in-process, thread pool (as the integration calls it)": await sequential_async(in_process, n),
            "worker process, 8 concurrent callers (invocations/s)": await concurrent_async(lambda: workers.invoke(spec, PAYLOAD), n, 8),
        }

    try:
        out = asyncio.run(measure())
        quiet.invoke_blocking(spec, PAYLOAD)
        out["worker process, blocking, logs kept"] = sequential_blocking(lambda: workers.invoke_blocking(spec, PAYLOAD), n)
        out["worker process, blocking, logs off"] = sequential_blocking(lambda: quiet.invoke_blocking(spec, PAYLOAD), n)
        return out
    finally:
        workers.close()
        quiet.close()
        pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stepflow-bench-lambda-") as folder:
        spec = trivial_function(Path(folder))
        rounds = [one_round(spec, str(Path(folder) / "logs"), args.invocations) for _ in range(args.rounds)]
        cold = cold_start_ms(spec, 10)
    print(f"{args.invocations} sequential warm invocations of a trivial handler, median of {args.rounds} rounds")
    for key in rounds[0]:
        value = statistics.median(r[key] for r in rounds)
        unit = "" if "/s" in key else " us per invocation"
        print(f"  {key:58} {value:10.1f}{unit}")
    print(f"  {'cold start (process start + import + first invocation)':58} {cold:10.1f} ms")


if __name__ == "__main__":
    main()

"""`make demo`: run the orders example (Map, Parallel, Retry, Catch) with local Python handlers
and print its result and what happened, from the execution's history."""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

import stepflow

HERE = Path(__file__).resolve().parent / "orders"


def main() -> None:
    definition = (HERE / "statemachine.asl.json").read_text()
    payload = json.loads((HERE / "input.json").read_text())
    started = time.perf_counter()
    result = stepflow.run(definition, payload, template=str(HERE / "template.yaml"), time_scale=0.05)
    elapsed = time.perf_counter() - started
    kinds = collections.Counter(event["type"] for event in result.history)
    print(f"status: {result.status}")
    print(json.dumps(result.output, indent=2))
    print()
    print(f"{len(result.history)} history events in {elapsed:.2f} s (waits and retry backoff at 1/20 speed):")
    for kind in ("MapIterationStarted", "ParallelStateStarted", "LambdaFunctionScheduled", "TaskScheduled",
                 "LambdaFunctionFailed", "TaskStateExited"):
        print(f"  {kind:<26} {kinds.get(kind, 0)}")
    print()
    print("Run it yourself:")
    print("  .venv/bin/stepflow run examples/orders/statemachine.asl.json \\")
    print("      --input-file examples/orders/input.json --template examples/orders/template.yaml --history")


if __name__ == "__main__":
    main()

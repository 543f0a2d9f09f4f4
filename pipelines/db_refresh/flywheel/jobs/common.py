"""The frame every job runs in: its log lines and its ``main``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence

from flywheel.args import ResolvedOptions

RUN_SPECIFIC = ("JOB_RUN_ID", "RUN_TS")  # left out of markers: they differ between reruns


def log(job: str, message: str) -> None:
    """One log line on stdout (Glue keeps a job's stdout as its log)."""
    print(f"[{job}] {message}", flush=True)


def marker_args(args: ResolvedOptions) -> dict:
    """The arguments a ``_SUCCESS.json`` records (not the per-run ones)."""
    return {k: v for k, v in sorted(args.items()) if k not in RUN_SPECIFIC}


def main(job: str, run: Callable[[Sequence[str]], dict], argv: Sequence[str] | None = None) -> dict:
    """Run a job from the command line. A failure propagates as an exception, so the process
    exits 1 with a traceback (what Glue reports as the run's ErrorMessage)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    started = time.monotonic()
    log(job, "starting")
    counts = run(argv)
    log(job, f"done in {time.monotonic() - started:.2f}s: {json.dumps(counts, sort_keys=True, default=str)}")
    return counts

"""The frame every job runs in: its log lines and its ``main``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence

from flywheel import report, storage
from flywheel.args import ResolvedOptions
from flywheel.layout import local_path

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


def publish_report(job: str, args: ResolvedOptions, stamp: str, doc: dict, findings: list, counts: dict) -> dict:
    """The end of a report job: write the report under --REPORT_PATH, log its summary, fail on
    findings at or above --FAIL_ON, then write the _SUCCESS marker. Returns ``counts`` with the
    report folder and the findings' summary."""
    folder = report.write(local_path(args["REPORT_PATH"]), job, stamp, doc, findings)
    counts = {**counts, "report": str(folder), **report.summary(findings)}
    log(job, f"report {folder}: {report.summary(findings)}")
    report.enforce(findings, args["FAIL_ON"], folder)
    storage.write_marker(folder, job, None, marker_args(args), counts)
    return counts

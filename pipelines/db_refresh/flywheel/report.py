"""Reports of jobs 6 and 7: findings ``{table, check, severity, detail}`` written as
``REPORT_PATH/<job>/<run_ts>/report.json`` and ``report.csv``, and the ``--FAIL_ON`` rule."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from flywheel import storage
from flywheel.errors import ArgumentError, ChecksFailed

SEVERITIES = ("INFO", "WARN", "CRITICAL")
FAIL_LEVELS = {"none": None, "warn": "WARN", "critical": "CRITICAL"}


@dataclass(frozen=True)
class Finding:
    table: str
    check: str
    severity: str
    detail: str


def run_ts(given: str | None) -> str:
    """The report folder name: ``--RUN_TS`` (e.g. the execution's start time) or now, as
    ``YYYYMMDDTHHMMSSZ``."""
    if given:
        digits = re.sub(r"[^0-9T]", "", given.split(".")[0].replace(" ", "T"))
        if re.fullmatch(r"\d{8}T\d{6}", digits[:15]):
            return digits[:15] + "Z"
        raise ArgumentError(f"--RUN_TS must be an ISO timestamp, got {given!r}")
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def summary(findings: list[Finding]) -> dict[str, int]:
    return {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}


def failing(findings: list[Finding], fail_on: str) -> list[Finding]:
    """The findings at or above the ``--FAIL_ON`` level (``none``, ``warn``, ``critical``)."""
    try:
        level = FAIL_LEVELS[fail_on.lower()]
    except KeyError:
        raise ArgumentError(f"--FAIL_ON must be one of {', '.join(FAIL_LEVELS)}, got {fail_on!r}") from None
    if level is None:
        return []
    floor = SEVERITIES.index(level)
    return [f for f in findings if SEVERITIES.index(f.severity) >= floor]


def write(report_root: Path, job: str, stamp: str, doc: dict, findings: list[Finding]) -> Path:
    """Write ``report.json`` and ``report.csv``; the report folder."""
    folder = Path(report_root) / job / stamp
    doc = {**doc, "job": job, "run_ts": stamp, "summary": summary(findings),
           "findings": [asdict(f) for f in findings]}
    storage.write_json(folder / "report.json", doc)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "check", "severity", "detail"])
    writer.writerows([f.table, f.check, f.severity, f.detail] for f in findings)
    (folder / "report.csv").write_text(out.getvalue(), encoding="utf-8")
    return folder


def enforce(findings: list[Finding], fail_on: str, folder: Path) -> None:
    """ChecksFailed when findings reach ``fail_on`` (after the report is written)."""
    bad = failing(findings, fail_on)
    if bad:
        first = "; ".join(f"{f.table}/{f.check}: {f.detail}" for f in bad[:5])
        raise ChecksFailed(f"{len(bad)} finding(s) at or above {fail_on.upper()} (report {folder}): {first}")

"""Per-function logs of local Lambda invocations, as CloudWatch Logs shows them.

Every invocation run by a worker-process environment leaves one record: the lines its handler
printed or logged (stdout, stderr and the ``logging`` root handler), framed by Lambda's
``START``/``END``/``REPORT`` lines (``RequestId``, ``Duration``, ``Billed Duration``,
``Memory Size``, ``Max Memory Used``, ``Init Duration`` after a cold start), tagged with the
Step Functions execution ARN that made the call.

Storage is plain files, one folder per function, one JSON-lines file per UTC day:
``<root>/<function>/<YYYY-MM-DD>.jsonl`` (root defaults to ``.stepflow/logs``). Files rather
than the store: logs are written on the invocation's worker thread with one buffered append
(no transaction, no store round-trip), any store URL (memory:// included) keeps them, and
``stepflow logs`` reads them without opening the store. The in-process mode keeps no logs
(its handlers share stepflow's own stdout).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LOGS_DIR = ".stepflow/logs"


@dataclass(slots=True)
class Report:
    """The figures of a REPORT line."""

    request_id: str
    duration_ms: float
    memory_size: int
    peak_mb: int
    init_ms: float | None = None
    status: str = ""  # "", "timeout", "error"
    error_type: str = ""


def start_line(request_id: str) -> str:
    return f"START RequestId: {request_id} Version: $LATEST"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(report: Report) -> str:
    """``REPORT RequestId: … Duration: 2.75 ms Billed Duration: 3 ms …`` (tab separated)."""
    parts = [
        f"REPORT RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {max(1, math.ceil(report.duration_ms))} ms",
        f"Memory Size: {report.memory_size} MB",
        f"Max Memory Used: {report.peak_mb} MB",
    ]
    if report.init_ms is not None:
        parts.append(f"Init Duration: {report.init_ms:.2f} ms")
    if report.status:
        parts.append(f"Status: {report.status}")
    if report.error_type:
        parts.append(f"Error Type: {report.error_type}")
    return "\t".join(parts)


def _safe(name: str) -> str:
    """A function name as a folder name (Lambda names are [A-Za-z0-9-_]; keep it that way)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


class LambdaLogs:
    """Appends invocation records under ``root`` and reads them back, filtered."""

    def __init__(self, root: str | os.PathLike = DEFAULT_LOGS_DIR):
        self.root = Path(root).absolute()
        self._lock = threading.Lock()
        self._files: dict[str, tuple[str, object]] = {}

    def write(self, function: str, record: dict) -> None:
        """Append one invocation's record (``time``, ``request_id``, ``execution_arn``, ``lines``...)."""
        line = json.dumps(record, ensure_ascii=False) + "\n"
        day = time.strftime("%Y-%m-%d", time.gmtime(record.get("time", time.time())))
        with self._lock:
            handle = self._file(function, day)
            handle.write(line)
            handle.flush()

    def _file(self, function: str, day: str):
        current = self._files.get(function)
        if current is not None and current[0] == day:
            return current[1]
        if current is not None:
            current[1].close()
        folder = self.root / _safe(function)
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"{day}.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - kept open
        self._files[function] = (day, handle)
        return handle

    def close(self) -> None:
        with self._lock:
            for _, handle in self._files.values():
                handle.close()
            self._files.clear()

    # -- reading ----------------------------------------------------------------------------

    def functions(self) -> list[str]:
        """Names of the functions that have logs."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def records(self, function: str, execution_arn: str | None = None) -> Iterator[dict]:
        """Records of one function, oldest first, optionally only those of one execution."""
        folder = self.root / _safe(function)
        for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else ():
            with open(path, encoding="utf-8") as handle:
                for text in handle:
                    record = _parse(text)
                    if record is not None and (execution_arn is None or record.get("execution_arn") == execution_arn):
                        yield record

    def lines(self, function: str, execution_arn: str | None = None, tail: int | None = None) -> list[str]:
        """The log lines of a function (of one execution), the last ``tail`` of them if given."""
        out = [line for record in self.records(function, execution_arn) for line in record.get("lines", ())]
        if tail is None:
            return out
        return out[-tail:] if tail > 0 else []


def _parse(text: str) -> dict | None:
    try:
        record = json.loads(text)
    except ValueError:  # a line cut short by a crash while writing
        return None
    return record if isinstance(record, dict) else None

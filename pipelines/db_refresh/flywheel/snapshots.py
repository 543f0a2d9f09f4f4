"""Snapshot folders of a raw source: ``<source>/snapshot_dt=YYYY-MM-DD/part-*.parquet``.

Auto-discovery (``--SNAPSHOT_DT _NONE_``) takes the newest folder whose name is a valid date;
folders with other names (``snapshot_dt=latest``, ``snapshot_dt=2025-13-01``) are ignored and
reported. A requested snapshot must exist; a chosen folder without Parquet files is an error.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from flywheel.errors import SnapshotError

FOLDER = re.compile(r"snapshot_dt=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Snapshot:
    snapshot_dt: str
    path: Path
    files: tuple[Path, ...]
    ignored: tuple[str, ...] = ()


def valid_date(text: str) -> bool:
    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def scan(source: Path) -> tuple[dict[str, Path], list[str]]:
    """``{snapshot_dt: folder}`` of the valid folders, and the names of the malformed ones."""
    if not source.is_dir():
        raise SnapshotError(f"source folder {source} does not exist")
    valid, ignored = {}, []
    for child in sorted(source.iterdir()):
        if not child.is_dir() or not child.name.startswith("snapshot_dt="):
            continue
        match = FOLDER.fullmatch(child.name)
        if match and valid_date(match[1]):
            valid[match[1]] = child
        else:
            ignored.append(child.name)
    return valid, ignored


def resolve(source: Path, requested: str | None) -> Snapshot:
    """The snapshot to process: ``requested`` (a date) or the newest valid one."""
    valid, ignored = scan(Path(source))
    if requested is not None:
        if not valid_date(requested):
            raise SnapshotError(f"--SNAPSHOT_DT {requested!r} is not a date YYYY-MM-DD")
        if requested not in valid:
            raise SnapshotError(f"no folder snapshot_dt={requested} under {source}")
        chosen = requested
    elif not valid:
        raise SnapshotError(f"no valid snapshot_dt=YYYY-MM-DD folder under {source}"
                            + (f" (ignored malformed: {', '.join(ignored)})" if ignored else ""))
    else:
        chosen = max(valid)
    files = tuple(sorted(p for p in valid[chosen].glob("*.parquet") if p.is_file()))
    if not files:
        raise SnapshotError(f"snapshot folder {valid[chosen]} has no Parquet files")
    return Snapshot(chosen, valid[chosen], files, tuple(ignored))

"""Deterministic, all-or-nothing writes (db-refresh.md B5, idempotency).

* Parquet: fixed row-group size (100K rows), fixed file names (``part-00000.parquet`` ...),
  rows already sorted by the caller, no timestamps in the files: the same rows give the same bytes.
* Folders: a job writes into ``<target>.tmp-<run>`` and only on success swaps it in
  (``os.replace`` of the old folder aside, of the new one in, then the old one removed). A crash
  between the two renames leaves ``<target>.old-<run>``, which :func:`recover` puts back.
* ``_SUCCESS.json`` markers (job, snapshot_dt, args, counts; no timestamps) say a job completed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_SIZE = 100_000
ROWS_PER_FILE = 1_000_000
MARKER = "_SUCCESS.json"


def write_parquet_files(table: pa.Table, folder: Path, rows_per_file: int = ROWS_PER_FILE,
                        row_group_size: int = ROW_GROUP_SIZE) -> list[Path]:
    """Write ``table`` (in its row order) as ``folder/part-NNNNN.parquet``; at least one file."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, start in enumerate(range(0, max(table.num_rows, 1), rows_per_file)):
        path = folder / f"part-{index:05d}.parquet"
        pq.write_table(table.slice(start, rows_per_file), path, row_group_size=row_group_size,
                       compression="snappy", write_statistics=True)
        paths.append(path)
    return paths


def write_bucketed(table: pa.Table, bucket_bounds: list[tuple[int, int, int]], folder: Path,
                   partition_key: str = "id_bucket", row_group_size: int = ROW_GROUP_SIZE) -> int:
    """Write the contiguous row ranges ``(bucket, start, stop)`` of a table sorted by bucket into
    Hive folders ``folder/<partition_key>=<bucket>/part-NNNNN.parquet``; the number of folders.
    Empty buckets get no folder (as Spark writes them)."""
    written = 0
    for bucket, start, stop in bucket_bounds:
        if stop > start:
            write_parquet_files(table.slice(start, stop - start), folder / f"{partition_key}={bucket}",
                                row_group_size=row_group_size)
            written += 1
    return written


def run_id(given: str | None = None) -> str:
    """A name for this run's temporary folders."""
    return (given or uuid.uuid4().hex)[:40]


@contextmanager
def staged_folder(target: Path, run: str):
    """Yield ``<target>.tmp-<run>``; on success swap it in for ``target``, else remove it."""
    target = Path(target)
    recover(target)
    tmp = target.with_name(f"{target.name}.tmp-{run}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_in(tmp, target, run)


def swap_in(tmp: Path, target: Path, run: str) -> None:
    old = target.with_name(f"{target.name}.old-{run}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def recover(target: Path) -> None:
    """Undo what an interrupted run left: stale ``.tmp-*`` folders go; a lone ``.old-*`` folder
    (crash between the two renames of a swap) goes back in place."""
    parent = target.parent
    if not parent.is_dir():
        return
    for tmp in parent.glob(f"{target.name}.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    olds = sorted(parent.glob(f"{target.name}.old-*"))
    if olds and not target.exists():
        os.replace(olds[-1], target)
        olds = olds[:-1]
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, doc) -> None:
    """Write JSON atomically (a temporary file renamed over the target)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_marker(folder: Path, job: str, snapshot_dt: str | None, args: dict, counts: dict,
                 name: str = MARKER) -> Path:
    """``_SUCCESS.json``: which job completed, on which snapshot, with which arguments and counts."""
    path = Path(folder) / name
    write_json(path, {"job": job, "snapshot_dt": snapshot_dt, "args": args, "counts": counts})
    return path


def read_marker(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def tree_digest(root: Path, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``root`` (for rerun comparisons)."""
    import hashlib

    out = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(rel.startswith(e) for e in exclude):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out

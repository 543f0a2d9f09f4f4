"""What both split-and-part jobs share: reading a snapshot's files, finding the key column,
and the row plan (NULL ids out, duplicate ids reduced to their first row in source order, rows
ordered by (bucket, id)).

A duplicate id keeps its first row in source order (files by name, rows in file order);
the order within a bucket is by id, so the output does not depend on the input's row order
beyond that choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flywheel.bucket import arrow_buckets
from flywheel.errors import MappingError
from flywheel.layout import KEY


@dataclass(frozen=True)
class Plan:
    rows: pa.Array                      # source row numbers to write, in output order
    bounds: list[tuple[int, int, int]]  # (bucket, start, stop) ranges of the output
    rows_in: int
    null_ids: int
    duplicate_rows: int
    duplicate_ids: int

    @property
    def rows_out(self) -> int:
        return len(self.rows)

    def counts(self) -> dict:
        return {"rows_in": self.rows_in, "rows_out": self.rows_out, "null_ids": self.null_ids,
                "duplicate_rows": self.duplicate_rows, "duplicate_ids": self.duplicate_ids,
                "buckets_written": sum(1 for _, a, b in self.bounds if b > a)}


def source_schema(files: tuple[Path, ...]) -> pa.Schema:
    """The schema of the first file; every other file must have the same column names."""
    schema = pq.read_schema(files[0])
    for path in files[1:]:
        other = pq.read_schema(path)
        if other.names != schema.names:
            raise MappingError(f"{path} has columns {other.names[:5]}... unlike {files[0].name}")
    return schema


def key_column(names: list[str], key: str = KEY) -> str:
    """The source's spelling of the key (``Customer_User_id`` is read as ``customer_user_id``)."""
    exact = [n for n in names if n == key]
    loose = [n for n in names if n.lower() == key.lower()]
    if exact:
        return exact[0]
    if len(loose) == 1:
        return loose[0]
    raise MappingError(f"source has {'no' if not loose else 'several'} {key} column(s): {loose or names[:5]}")


def read_columns(files: tuple[Path, ...], columns: list[str]) -> pa.Table:
    """The given columns of every file, concatenated in file order."""
    parts = [pq.read_table(path, columns=columns) for path in files]
    return pa.concat_tables(parts, promote_options="default") if len(parts) > 1 else parts[0]


def plan_rows(ids: pa.ChunkedArray | pa.Array, bucket_count: int) -> Plan:
    """The output rows: non-NULL ids, first row per id, ordered by (bucket, id)."""
    ids = pc.cast(ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids, pa.string())
    present = np.flatnonzero(pc.is_valid(ids).to_numpy(zero_copy_only=False))
    valid_ids = ids.take(pa.array(present))
    buckets = arrow_buckets(valid_ids, bucket_count)
    frame = pa.table({"b": buckets, "id": valid_ids, "r": pa.array(present, type=pa.int64())})
    order = pc.sort_indices(frame, sort_keys=[("b", "ascending"), ("id", "ascending"), ("r", "ascending")])
    ordered = frame.take(order)
    keep = _first_of_runs(ordered.column("id"))
    kept = ordered.filter(keep)
    dup_ids = _duplicate_id_count(ordered.column("id"), keep)
    return Plan(kept.column("r").combine_chunks(), _bounds(kept.column("b"), bucket_count), len(ids),
                len(ids) - len(present), len(ordered) - len(kept), dup_ids)


def _first_of_runs(sorted_ids: pa.ChunkedArray) -> pa.Array:
    values = sorted_ids.combine_chunks()
    if len(values) == 0:
        return pa.array([], type=pa.bool_())
    differs = pc.not_equal(values.slice(1), values.slice(0, len(values) - 1))
    return pa.concat_arrays([pa.array([True]), differs])


def _duplicate_id_count(sorted_ids: pa.ChunkedArray, keep: pa.Array) -> int:
    """How many ids occur more than once (a kept row followed by a dropped one)."""
    flags = keep.to_numpy(zero_copy_only=False)
    return int(np.count_nonzero(flags[:-1] & ~flags[1:])) if len(flags) > 1 else 0


def _bounds(buckets: pa.ChunkedArray, bucket_count: int) -> list[tuple[int, int, int]]:
    counts = np.bincount(buckets.to_numpy(), minlength=bucket_count)
    ends = np.cumsum(counts)
    return [(b, int(ends[b] - counts[b]), int(ends[b])) for b in range(bucket_count)]

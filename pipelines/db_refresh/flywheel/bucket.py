"""The bucket function, the one implementation every job and check uses (db-refresh.md B5):

    id_bucket = pmod(xxhash64(customer_user_id, seed 42), BUCKET_COUNT)

xxhash64 of the id's UTF-8 bytes with seed 42, read as a signed 64-bit integer (as Spark's
``xxhash64`` returns it), then Python's ``%``, which is already ``pmod`` (never negative).
"""

from __future__ import annotations

from collections.abc import Iterable

import xxhash

SEED = 42
DEFAULT_BUCKET_COUNT = 256
_TWO_63 = 2 ** 63
_TWO_64 = 2 ** 64


def xxhash64(value: str) -> int:
    """xxhash64 of ``value`` (UTF-8, seed 42) as a signed 64-bit integer."""
    h = xxhash.xxh64_intdigest(value.encode("utf-8"), seed=SEED)
    return h - _TWO_64 if h >= _TWO_63 else h


def bucket_of(customer_user_id: str, bucket_count: int = DEFAULT_BUCKET_COUNT) -> int:
    """The id's bucket in ``0 .. bucket_count - 1``."""
    return xxhash64(customer_user_id) % bucket_count


def buckets_of(ids: Iterable[str | None], bucket_count: int = DEFAULT_BUCKET_COUNT) -> list[int | None]:
    """:func:`bucket_of` for many ids (``None`` for a ``None`` id)."""
    return [None if i is None else bucket_of(i, bucket_count) for i in ids]


def arrow_buckets(ids, bucket_count):
    """:func:`buckets_of` over a pyarrow string array (or chunked array), as an int32 array."""
    import pyarrow as pa

    return pa.array(buckets_of(ids.to_pylist(), bucket_count), type=pa.int32())


def register_duckdb(conn, name: str = "flywheel_bucket") -> None:
    """Make ``flywheel_bucket(id VARCHAR, bucket_count INTEGER) -> INTEGER`` callable in DuckDB
    queries (an Arrow-vectorised Python UDF over :func:`bucket_of`)."""
    import pyarrow as pa

    def udf(ids, counts):
        out = [None if i is None else bucket_of(i, c) for i, c in zip(ids.to_pylist(), counts.to_pylist())]
        return pa.array(out, type=pa.int32())

    conn.create_function(name, udf, ["VARCHAR", "INTEGER"], "INTEGER", type="arrow", null_handling="special")

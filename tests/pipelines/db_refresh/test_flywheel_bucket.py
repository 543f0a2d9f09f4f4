"""The one bucket function: pmod(xxhash64(customer_user_id, seed 42), BUCKET_COUNT)."""

from __future__ import annotations

import duckdb
import xxhash
from hypothesis import given, strategies as st

from flywheel.bucket import bucket_of, buckets_of, register_duckdb, xxhash64


def test_known_values():
    # pinned: xxh64 of the UTF-8 bytes with seed 42, read as signed 64 bits, then pmod
    assert xxhash64("A1B2C3D4E5F60789") == -6468858837406530328
    assert bucket_of("A1B2C3D4E5F60789") == 232
    assert bucket_of("A1B2C3D4E5F60789", 16) == 8
    assert xxhash64("") == xxhash.xxh64_intdigest(b"", seed=42) - (2 ** 64 if xxhash.xxh64_intdigest(b"", seed=42) >= 2 ** 63 else 0)


@given(st.text(max_size=40), st.integers(min_value=1, max_value=4096))
def test_bucket_is_a_non_negative_residue_of_the_signed_hash(value, count):
    h = xxhash64(value)
    assert -(2 ** 63) <= h < 2 ** 63
    b = bucket_of(value, count)
    assert 0 <= b < count and (h - b) % count == 0


def test_duckdb_udf_and_batch_form_agree_with_bucket_of():
    ids = [f"{i:016X}" for i in range(0, 5000, 7)] + [None]
    conn = duckdb.connect()
    register_duckdb(conn)
    conn.execute("CREATE TABLE t (id VARCHAR)")
    conn.executemany("INSERT INTO t VALUES (?)", [[i] for i in ids])
    got = dict(conn.execute("SELECT id, flywheel_bucket(id, 16) FROM t").fetchall())
    assert got == dict(zip(ids, buckets_of(ids, 16)))
    assert got[None] is None

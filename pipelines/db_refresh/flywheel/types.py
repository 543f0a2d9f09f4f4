"""Type names: Arrow (Parquet schemas) -> Glue catalog types -> DuckDB types (db-refresh.md B4:
string, int, bigint, double, boolean, date, timestamp, decimal(p,s); tinyint and smallint too)."""

from __future__ import annotations

import re

import pyarrow as pa

GLUE_TO_DUCKDB = {
    "string": "VARCHAR", "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER", "bigint": "BIGINT",
    "float": "FLOAT", "double": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
}
DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def glue_type(arrow_type: pa.DataType) -> str:
    """The Glue type name of an Arrow type (ValueError for types the catalog does not hold)."""
    checks = (
        (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "string"),
        (pa.types.is_int8, "tinyint"), (pa.types.is_int16, "smallint"), (pa.types.is_int32, "int"),
        (pa.types.is_int64, "bigint"), (pa.types.is_float32, "float"), (pa.types.is_float64, "double"),
        (pa.types.is_boolean, "boolean"), (pa.types.is_date, "date"), (pa.types.is_timestamp, "timestamp"),
    )
    for test, name in checks:
        if test(arrow_type):
            return name
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    raise ValueError(f"no Glue type for Arrow type {arrow_type}")


def duckdb_type(glue: str) -> str:
    """The DuckDB type of a Glue type name."""
    match = DECIMAL.fullmatch(glue.strip().lower())
    if match:
        return f"DECIMAL({match[1]},{match[2]})"
    try:
        return GLUE_TO_DUCKDB[glue.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown Glue type {glue!r}") from None

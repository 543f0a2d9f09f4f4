"""Job 3 (run twice: 3a addressable IDs, 3b InfoBase), register part tables.

    python -m flywheel.jobs.register_part_tables --DATABASE omc_flywheel_dev_clean \
        --S3_ROOT data/split_part/infobase_attributes/ --CATALOG_PATH catalog/glue_catalog.sqlite \
        [--TABLE_PREFIX part_] [--MAX_COLS 100]

One catalog table ``<prefix><lower(folder)>`` per table folder under S3_ROOT (``metadata`` and
hidden folders aside): columns from the Parquet schema (all files must agree), partition key
``id_bucket int``, parameters with ``snapshot_dt`` (from ``metadata/snapshot_dt.txt``) and the
source dataset. Every table is checked before anything is written: one with more than MAX_COLS
columns (key and ``id_bucket`` counted) fails the job with its name, its column count and the
limit; nothing is ever truncated. Tables are upserted (an unchanged table is not rewritten) and
keep their registered partitions; job 4 registers those.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq

from flywheel import storage
from flywheel.args import get_resolved_options
from flywheel.catalog import Catalog, Column, Table
from flywheel.errors import ColumnLimitError, MappingError
from flywheel.jobs.common import log, main as run_main, marker_args
from flywheel.layout import METADATA, PARTITION_KEY, SNAPSHOT_FILE, local_path
from flywheel.types import glue_type

JOB = "register_part_tables"
REQUIRED = ("DATABASE", "S3_ROOT", "CATALOG_PATH")
DEFAULTS = {"TABLE_PREFIX": "part_", "MAX_COLS": "100", "JOB_RUN_ID": None}
KIND = "part_table"


def table_folders(root: Path) -> list[Path]:
    """The table folders under a split-part root."""
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name != METADATA
                  and not p.name.startswith((".", "_")) and ".tmp-" not in p.name and ".old-" not in p.name)


def parquet_columns(folder: Path) -> tuple[Column, ...]:
    """The data columns of every Parquet file under ``folder`` (they must agree); a partition
    column written into the files themselves is left to the partition key."""
    files = sorted(folder.rglob("*.parquet"))
    if not files:
        raise MappingError(f"table folder {folder} has no Parquet files")
    schema = pq.read_schema(files[0])
    for path in files[1:]:
        if not pq.read_schema(path).equals(schema):
            raise MappingError(f"{path} has a schema unlike {files[0]}")
    return tuple(Column(f.name, glue_type(f.type)) for f in schema if f.name != PARTITION_KEY)


def snapshot_of(root: Path) -> str | None:
    try:
        return (root / METADATA / SNAPSHOT_FILE).read_text().strip() or None
    except OSError:
        return None


def build_tables(args, root: Path) -> list[Table]:
    snapshot = snapshot_of(root)
    tables = []
    for folder in table_folders(root):
        params = {"classification": "parquet", "flywheel_kind": KIND, "source_dataset": root.name,
                  "comment": f"{folder.name} split-part table"}
        if snapshot:
            params["snapshot_dt"] = snapshot
        tables.append(Table(args["DATABASE"], args["TABLE_PREFIX"] + folder.name.lower(), str(folder.resolve()),
                            parquet_columns(folder), (Column(PARTITION_KEY, "int"),), parameters=params))
    return tables


def check_limits(tables: list[Table], max_cols: int) -> None:
    over = [t for t in tables if t.column_count > max_cols]
    if over:
        raise ColumnLimitError("; ".join(
            f"table {t.name} has {t.column_count} columns ({len(t.columns)} data + {len(t.partition_keys)} "
            f"partition), more than MAX_COLS={max_cols}" for t in over) + " (not registered; nothing truncated)")


def run(argv: Sequence[str]) -> dict:
    args = get_resolved_options(argv, REQUIRED, DEFAULTS)
    root = local_path(args["S3_ROOT"]).resolve()
    if not root.is_dir():
        raise MappingError(f"--S3_ROOT {root} is not a folder")
    tables = build_tables(args, root)
    check_limits(tables, args.integer("MAX_COLS", minimum=2))
    outcome = {"created": 0, "updated": 0, "unchanged": 0}
    with Catalog(local_path(args["CATALOG_PATH"])) as catalog:
        catalog.create_database(args["DATABASE"], "omc-flywheel clean-room tables")
        for table in tables:
            result = catalog.upsert_table(table)
            outcome[result] += 1
            log(JOB, f"{result} {table.database}.{table.name}: {table.column_count} columns")
    counts = {"tables": len(tables), **outcome, "table_names": [t.name for t in tables]}
    marker_dir = local_path(args["CATALOG_PATH"]).parent / "_SUCCESS"
    stable = {"tables": len(tables), "table_names": counts["table_names"]}  # what a rerun records too
    storage.write_marker(marker_dir, JOB, snapshot_of(root), marker_args(args), stable,
                         name=f"{JOB}.{args['DATABASE']}.{root.name}.json")
    return counts


def main(argv: Sequence[str] | None = None) -> dict:
    return run_main(JOB, run, argv)


if __name__ == "__main__":
    main()

"""Job 5, create the ER (Entity Resolution) table of the addressable IDs.

    python -m flywheel.jobs.create_part_addressable_ids_er_table --DATABASE omc_flywheel_dev_clean \
        --TARGET_PATH data/identity/acx_ids_cur/ --CATALOG_PATH catalog/glue_catalog.sqlite \
        [--SOURCE_TABLE part_addressable_ids] [--TARGET_TABLE part_addressable_ids_er] [--FORCE false]

Reads the source table as Athena sees it (registered partitions only), writes
``row_id, customer_user_id`` (``row_id = customer_user_id``, as the original implementation)
sorted by ``row_id`` into ``TARGET_PATH/part-*.parquet`` and registers the non-partitioned
table. An existing ER table whose files would change is replaced only with ``--FORCE true``;
rewriting identical files is a no-op, so a rerun of the same snapshot succeeds without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from flywheel import athena, storage
from flywheel.args import get_resolved_options
from flywheel.catalog import Catalog, Column, Table
from flywheel.errors import CatalogError, OverwriteRefused
from flywheel.jobs.common import log, main as run_main, marker_args
from flywheel.layout import KEY, local_path

JOB = "create_part_addressable_ids_er_table"
REQUIRED = ("DATABASE", "TARGET_PATH", "CATALOG_PATH")
DEFAULTS = {"SOURCE_TABLE": "part_addressable_ids", "TARGET_TABLE": "part_addressable_ids_er", "FORCE": "false",
            "JOB_RUN_ID": None}
KIND = "er_table"


def read_ids(catalog: Catalog, database: str, source: str) -> tuple[pa.Table, str | None]:
    """``row_id, customer_user_id`` of the source table's non-NULL ids, sorted; its snapshot_dt."""
    table = catalog.get_table(database, source)
    if table is None:
        raise CatalogError(f"EntityNotFoundException: Table {database}.{source} not found")
    with athena.session(catalog, database) as conn:
        ids = athena.arrow_table(conn, f"SELECT DISTINCT {KEY} FROM {athena.quote_ident(source)}"
                                       f" WHERE {KEY} IS NOT NULL ORDER BY {KEY}").column(KEY)
    ids = pc.cast(ids, pa.string())
    return pa.table({"row_id": ids, KEY: ids}), table.parameters.get("snapshot_dt")


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


def run(argv: Sequence[str]) -> dict:
    args = get_resolved_options(argv, REQUIRED, DEFAULTS)
    force, database = args.flag("FORCE"), args["DATABASE"]
    target = local_path(args["TARGET_PATH"]).resolve()
    with Catalog(local_path(args["CATALOG_PATH"])) as catalog:
        data, snapshot = read_ids(catalog, database, args["SOURCE_TABLE"])
        counts = {"rows": data.num_rows, "source_table": args["SOURCE_TABLE"], "snapshot_dt": snapshot}
        run = storage.run_id(args["JOB_RUN_ID"])
        with storage.staged_folder(target, run) as tmp:
            storage.write_parquet_files(data, tmp)
            unchanged = target.exists() and folder_digest(tmp) == folder_digest(target)
            if target.exists() and not unchanged and not force:
                raise OverwriteRefused(f"ER table {database}.{args['TARGET_TABLE']} at {target} exists with other "
                                       f"content; rerun with --FORCE true to replace it")
            storage.write_marker(tmp, JOB, snapshot, marker_args(args), counts)
        log(JOB, f"{'unchanged' if unchanged else 'wrote'} {data.num_rows} rows to {target}")
        catalog.create_database(database)
        outcome = catalog.upsert_table(Table(
            database, args["TARGET_TABLE"], str(target), (Column("row_id", "string"), Column(KEY, "string")),
            parameters={"classification": "parquet", "flywheel_kind": KIND, "source_table": args["SOURCE_TABLE"],
                        **({"snapshot_dt": snapshot} if snapshot else {})}))
    return {**counts, "catalog": outcome, "files_changed": not unchanged}


def main(argv: Sequence[str] | None = None) -> dict:
    return run_main(JOB, run, argv)


if __name__ == "__main__":
    main()

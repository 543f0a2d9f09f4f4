"""Job 4, prepare part tables ("MSCK REPAIR TABLE" for every part table).

    python -m flywheel.jobs.prepare_part_tables --DATABASE omc_flywheel_dev_clean \
        --CATALOG_PATH catalog/glue_catalog.sqlite [--TABLE_PREFIX part_] [--BUCKET_COUNT 256]

For each ``<prefix>*`` table: a non-partitioned table whose location holds ``id_bucket=<k>``
folders is recreated as partitioned by ``id_bucket int``; then the partitions match the folders
present (missing ones registered, ones whose folder is gone dropped). Buckets of
``0..BUCKET_COUNT-1`` with no folder, and folders outside that range, are reported (in the log
and in ``catalog/_SUCCESS/prepare_part_tables.<database>.json``). The ER table, and tables
without bucket folders, are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from flywheel import storage
from flywheel.args import get_resolved_options
from flywheel.catalog import Catalog, Column, Partition, Table
from flywheel.jobs.common import log, main as run_main, marker_args
from flywheel.layout import PARTITION_KEY, local_path

JOB = "prepare_part_tables"
REQUIRED = ("DATABASE", "CATALOG_PATH")
DEFAULTS = {"TABLE_PREFIX": "part_", "BUCKET_COUNT": "256", "JOB_RUN_ID": None}
ER_KIND = "er_table"  # job 5's table: not partitioned, never prepared
BUCKET_FOLDER = re.compile(rf"{PARTITION_KEY}=(-?\d+)")


def bucket_folders(location: Path) -> dict[int, Path]:
    """``{k: folder}`` of the ``id_bucket=<k>`` folders under a table's location."""
    if not location.is_dir():
        return {}
    found = {}
    for child in location.iterdir():
        match = BUCKET_FOLDER.fullmatch(child.name)
        if child.is_dir() and match:
            found[int(match[1])] = child
    return found


def as_partitioned(table: Table) -> Table:
    """The table recreated as partitioned by ``id_bucket int``."""
    columns = tuple(c for c in table.columns if c.name != PARTITION_KEY)
    return replace(table, columns=columns, partition_keys=(Column(PARTITION_KEY, "int"),))


def sync_partitions(catalog: Catalog, table: Table, folders: dict[int, Path]) -> tuple[int, int]:
    """Register the folders' partitions and drop those whose folder is gone: (added, dropped)."""
    registered = {p.values for p in catalog.get_partitions(table.database, table.name)}
    wanted = {(str(k),): str(folder.resolve()) for k, folder in folders.items()}
    new = [Partition(values, wanted[values]) for values in sorted(wanted, key=lambda v: int(v[0]))
           if values not in registered]
    gone = sorted(registered - set(wanted))
    if new:
        catalog.batch_create_partition(table.database, table.name, new)
    if gone:
        catalog.batch_delete_partition(table.database, table.name, gone)
    return len(new), len(gone)


def prepare_table(catalog: Catalog, table: Table, bucket_count: int) -> dict | None:
    folders = bucket_folders(Path(table.location))
    if not folders:
        log(JOB, f"{table.name}: no {PARTITION_KEY}= folders; left as it is")
        return None
    recreated = not table.partition_keys
    if recreated:
        table = as_partitioned(table)
        catalog.update_table(table)
        log(JOB, f"{table.name}: recreated as partitioned by {PARTITION_KEY}")
    added, dropped = sync_partitions(catalog, table, folders)
    missing = sorted(set(range(bucket_count)) - set(folders))
    extra = sorted(set(folders) - set(range(bucket_count)))
    log(JOB, f"{table.name}: {len(folders)} partition(s), {added} added, {dropped} dropped"
             + (f", missing buckets {missing}" if missing else "") + (f", unexpected buckets {extra}" if extra else ""))
    return {"partitions": len(folders), "added": added, "dropped": dropped, "recreated": recreated,
            "missing_buckets": missing, "unexpected_buckets": extra}


def run(argv: Sequence[str]) -> dict:
    args = get_resolved_options(argv, REQUIRED, DEFAULTS)
    bucket_count = args.integer("BUCKET_COUNT", minimum=1)
    catalog_path = local_path(args["CATALOG_PATH"])
    with Catalog(catalog_path) as catalog:
        results = {t.name: prepare_table(catalog, t, bucket_count)
                   for t in catalog.get_tables(args["DATABASE"], args["TABLE_PREFIX"])
                   if t.parameters.get("flywheel_kind") != ER_KIND}
    tables = {name: r for name, r in results.items() if r is not None}
    counts = {"tables": len(tables), "skipped": sorted(n for n, r in results.items() if r is None),
              "partitions": sum(r["partitions"] for r in tables.values()),
              "added": sum(r["added"] for r in tables.values()), "dropped": sum(r["dropped"] for r in tables.values()),
              "missing_buckets": {n: r["missing_buckets"] for n, r in tables.items() if r["missing_buckets"]},
              "recreated": sorted(n for n, r in tables.items() if r["recreated"])}
    storage.write_marker(catalog_path.parent / "_SUCCESS", JOB, None, marker_args(args),
                         _stable(counts),
                         name=f"{JOB}.{args['DATABASE']}.json")
    return counts


def _stable(counts: dict) -> dict:
    """The marker's counts: what a rerun would record too (not how many partitions it added)."""
    return {k: v for k, v in counts.items() if k not in ("added", "dropped", "recreated")}


def main(argv: Sequence[str] | None = None) -> dict:
    return run_main(JOB, run, argv)


if __name__ == "__main__":
    main()

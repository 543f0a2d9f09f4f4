"""Job 2, InfoBase split and part.

    python -m flywheel.jobs.infobase_split_and_part --SOURCE_PATH data/raw/infobase_attributes/ \
        --TARGET_PATH data/split_part/infobase_attributes/ --CSV_PATH config/mapping.csv \
        [--BUCKET_COUNT 256] [--MAX_COLS 100] [--ALLOW_MISSING_COLUMNS false] [--SNAPSHOT_DT _NONE_]

Split: one table per ``OMC Table`` of the mapping, ``customer_user_id`` first and then its mapped
columns (renamed to their ``OMC Column``). Part: rows in ``id_bucket=<k>`` folders. Rows as in
job 1 (NULL ids dropped, first row per id kept, sorted by id within a bucket), so every table
has the same ids.

Fails, before writing anything, when a mapping table would exceed MAX_COLS columns (key and
``id_bucket`` counted), and when a mapped column is missing from the source, unless
``--ALLOW_MISSING_COLUMNS true`` (then the missing columns are left out and listed in the
marker; a table left with no column is skipped).
"""

from __future__ import annotations

from collections.abc import Sequence

from flywheel import snapshots, splitting, storage
from flywheel.args import get_resolved_options
from flywheel.errors import MappingError
from flywheel.jobs.common import log, main as run_main, marker_args
from flywheel.layout import KEY, METADATA, SNAPSHOT_FILE, local_path
from flywheel.mapping import MappedTable, check_column_limit, read_mapping

JOB = "infobase_split_and_part"
REQUIRED = ("SOURCE_PATH", "TARGET_PATH", "CSV_PATH")
DEFAULTS = {"BUCKET_COUNT": "256", "MAX_COLS": "100", "ALLOW_MISSING_COLUMNS": "false", "SNAPSHOT_DT": None,
            "JOB_RUN_ID": None}


def run(argv: Sequence[str]) -> dict:
    args = get_resolved_options(argv, REQUIRED, DEFAULTS)
    bucket_count, max_cols = args.integer("BUCKET_COUNT", minimum=1), args.integer("MAX_COLS", minimum=3)
    allow_missing = args.flag("ALLOW_MISSING_COLUMNS")
    tables = read_mapping(local_path(args["CSV_PATH"]))
    check_column_limit(tables, max_cols)
    snap = snapshots.resolve(local_path(args["SOURCE_PATH"]), args["SNAPSHOT_DT"])
    log(JOB, f"snapshot_dt={snap.snapshot_dt}: {len(snap.files)} file(s); ignored {list(snap.ignored)}")
    names = splitting.source_schema(snap.files).names
    key = splitting.key_column(names)
    tables, missing = _present(tables, set(names), allow_missing)
    plan = splitting.plan_rows(splitting.read_columns(snap.files, [key]).column(key), bucket_count)
    counts = {**plan.counts(), "snapshot_dt": snap.snapshot_dt, "tables": len(tables),
              "columns": sum(len(t.columns) for t in tables), "missing_columns": missing,
              "unmapped_source_columns": len(set(names) - {key} - _mapped(tables) - set(missing)),
              "ignored_snapshot_folders": list(snap.ignored)}
    target = local_path(args["TARGET_PATH"])
    with storage.staged_folder(target, storage.run_id(args["JOB_RUN_ID"])) as tmp:
        for table in tables:
            _write_table(snap.files, key, table, plan, tmp / table.name)
        (tmp / METADATA).mkdir()
        (tmp / METADATA / SNAPSHOT_FILE).write_text(snap.snapshot_dt + "\n")
        storage.write_marker(tmp, JOB, snap.snapshot_dt, marker_args(args), counts)
    return counts


def _mapped(tables: list[MappedTable]) -> set[str]:
    return {c.source_column for t in tables for c in t.columns}


def _present(tables: list[MappedTable], names: set[str], allow_missing: bool) -> tuple[list[MappedTable], list[str]]:
    """The tables with their columns present in the source; MappingError on a missing column
    unless ``allow_missing``."""
    missing = [f"{t.name}.{c.source_column}" for t in tables for c in t.columns if c.source_column not in names]
    if missing and not allow_missing:
        raise MappingError(f"{len(missing)} mapped column(s) missing from the source: {', '.join(missing[:20])}"
                           " (--ALLOW_MISSING_COLUMNS true leaves them out)")
    kept = [MappedTable(t.name, tuple(c for c in t.columns if c.source_column in names)) for t in tables]
    for table in kept:
        if not table.columns:
            log(JOB, f"WARNING: table {table.name} has none of its mapped columns; skipped")
    if missing:
        log(JOB, f"WARNING: left out missing columns {missing}")
    return [t for t in kept if t.columns], [m.split(".", 1)[1] for m in missing]


def _write_table(files, key: str, table: MappedTable, plan: splitting.Plan, folder) -> None:
    sources = [c.source_column for c in table.columns]
    data = splitting.read_columns(files, [key] + sources).take(plan.rows)
    data = data.rename_columns([KEY] + [c.omc_column for c in table.columns])
    storage.write_bucketed(data, plan.bounds, folder)


def main(argv: Sequence[str] | None = None) -> dict:
    return run_main(JOB, run, argv)


if __name__ == "__main__":
    main()

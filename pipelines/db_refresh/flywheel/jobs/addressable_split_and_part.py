"""Job 1, addressable IDs split and part.

    python -m flywheel.jobs.addressable_split_and_part --SOURCE_PATH data/raw/addressable_ids/ \
        --TARGET_PATH data/split_part/addressable_ids/ [--BUCKET_COUNT 256] [--SNAPSHOT_DT _NONE_]

Reads the chosen snapshot (the newest valid ``snapshot_dt=`` folder unless given), renames the
key to ``customer_user_id`` (first column), drops NULL ids, keeps one row per id (its first in
source order), and writes ``TARGET/addressable_ids/id_bucket=<k>/part-*.parquet`` sorted by id,
``TARGET/metadata/snapshot_dt.txt`` and ``TARGET/_SUCCESS.json`` (with the NULL and duplicate
counts), swapping the whole target folder in at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

from flywheel import snapshots, splitting, storage
from flywheel.args import get_resolved_options
from flywheel.jobs.common import log, main as run_main, marker_args
from flywheel.layout import ADDRESSABLE, KEY, METADATA, SNAPSHOT_FILE, local_path

JOB = "addressable_split_and_part"
REQUIRED = ("SOURCE_PATH", "TARGET_PATH")
DEFAULTS = {"BUCKET_COUNT": "256", "SNAPSHOT_DT": None, "TABLE_NAME": ADDRESSABLE, "JOB_RUN_ID": None}


def run(argv: Sequence[str]) -> dict:
    args = get_resolved_options(argv, REQUIRED, DEFAULTS)
    bucket_count = args.integer("BUCKET_COUNT", minimum=1)
    snap = snapshots.resolve(local_path(args["SOURCE_PATH"]), args["SNAPSHOT_DT"])
    if snap.ignored:
        log(JOB, f"ignored malformed snapshot folders: {', '.join(snap.ignored)}")
    log(JOB, f"snapshot_dt={snap.snapshot_dt}: {len(snap.files)} file(s)")
    names = splitting.source_schema(snap.files).names
    key = splitting.key_column(names)
    table = splitting.read_columns(snap.files, names).rename_columns([KEY if n == key else n for n in names])
    table = table.select([KEY] + [n for n in table.column_names if n != KEY])
    plan = splitting.plan_rows(table.column(KEY), bucket_count)
    ordered = table.take(plan.rows)
    counts = {**plan.counts(), "snapshot_dt": snap.snapshot_dt, "ignored_snapshot_folders": list(snap.ignored)}
    if plan.null_ids or plan.duplicate_rows:
        log(JOB, f"dropped {plan.null_ids} NULL id row(s) and {plan.duplicate_rows} duplicate row(s) "
                 f"of {plan.duplicate_ids} id(s)")
    target = local_path(args["TARGET_PATH"])
    with storage.staged_folder(target, storage.run_id(args["JOB_RUN_ID"])) as tmp:
        storage.write_bucketed(ordered, plan.bounds, tmp / args["TABLE_NAME"])
        (tmp / METADATA).mkdir()
        (tmp / METADATA / SNAPSHOT_FILE).write_text(snap.snapshot_dt + "\n")
        storage.write_marker(tmp, JOB, snap.snapshot_dt, marker_args(args), counts)
    return counts


def main(argv: Sequence[str] | None = None) -> dict:
    return run_main(JOB, run, argv)


if __name__ == "__main__":
    main()

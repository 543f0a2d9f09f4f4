"""Job 6, data-monitor report over every part table.

    python -m flywheel.jobs.generate_data_monitor_report --DATABASE omc_flywheel_dev_clean \
        --CATALOG_PATH catalog/glue_catalog.sqlite --REPORT_PATH reports/ [--TABLE_PREFIX part_] \
        [--BUCKET_COUNT 256] [--FRESHNESS_WINDOW_DAYS 45] [--COUNT_TOLERANCE_PCT 0] \
        [--PK_COLUMN customer_user_id] [--FAIL_ON critical] [--RAW_ROOT data/raw/] \
        [--AUTO_REPAIR false] [--AS_OF YYYY-MM-DD] [--RUN_TS ISO] [--MIN_FILE_BYTES 0] [--MAX_FILE_BYTES 0]

Checks per part table (findings INFO / WARN / CRITICAL):

* partitions: bucket folders on disk vs ``0..BUCKET_COUNT-1`` (a missing bucket WARN, one out of
  range CRITICAL) and vs the registered partitions (CRITICAL either way; ``--AUTO_REPAIR true``
  registers/drops them and reports INFO);
* freshness: ``metadata/snapshot_dt.txt`` present, a valid date, at most FRESHNESS_WINDOW_DAYS
  before AS_OF (default: the RUN_TS date, else today) -- CRITICAL otherwise;
* schema contract: PK_COLUMN a data column, ``id_bucket int`` the only partition key,
  EXTERNAL_TABLE / parquet (CRITICAL);
* record count vs the raw source's distinct non-NULL ids (``RAW_ROOT/<dataset>/snapshot_dt=...``),
  off by more than COUNT_TOLERANCE_PCT: CRITICAL;
* primary key: no NULL, no duplicate PK_COLUMN (DuckDB ``GROUP BY ... HAVING count(*) > 1``);
* file sizes outside ``[MIN_FILE_BYTES, MAX_FILE_BYTES]`` (when set): WARN.

The ER table (``flywheel_kind = er_table``) gets its own two checks: ``row_id`` unique and not
NULL, and as many rows as its source table. Exits non-zero when a finding reaches ``--FAIL_ON``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flywheel import athena, report
from flywheel.args import ResolvedOptions, get_resolved_options
from flywheel.catalog import Catalog, Table
from flywheel.jobs.common import main as run_main, publish_report
from flywheel.jobs.prepare_part_tables import bucket_folders, sync_partitions
from flywheel.layout import METADATA, PARTITION_KEY, SNAPSHOT_FILE, local_path
from flywheel.report import Finding
from flywheel.snapshots import valid_date

JOB = "generate_data_monitor_report"
REQUIRED = ("DATABASE", "CATALOG_PATH", "REPORT_PATH")
DEFAULTS = {"TABLE_PREFIX": "part_", "BUCKET_COUNT": "256", "FRESHNESS_WINDOW_DAYS": "45",
            "COUNT_TOLERANCE_PCT": "0", "PK_COLUMN": "customer_user_id", "FAIL_ON": "critical", "RAW_ROOT": None,
            "AUTO_REPAIR": "false", "AS_OF": None, "RUN_TS": None, "MIN_FILE_BYTES": "0", "MAX_FILE_BYTES": "0",
            "JOB_RUN_ID": None}


@dataclass
class Monitor:
    args: ResolvedOptions
    catalog: Catalog
    findings: list[Finding]

    def add(self, table: str, check: str, severity: str, detail: str) -> None:
        self.findings.append(Finding(table, check, severity, detail))

    @property
    def bucket_count(self) -> int:
        return self.args.integer("BUCKET_COUNT", minimum=1)


# partitions --------------------------------------------------------------------------------------

def check_partitions(m: Monitor, table: Table) -> dict:
    folders = bucket_folders(Path(table.location))
    expected = set(range(m.bucket_count))
    missing, extra = sorted(expected - set(folders)), sorted(set(folders) - expected)
    if missing:
        m.add(table.name, "partition_integrity", "WARN", f"no folder for bucket(s) {_short(missing)}")
    if extra:
        m.add(table.name, "partition_integrity", "CRITICAL", f"bucket folder(s) outside 0..{m.bucket_count - 1}: {extra}")
    registered = {int(p.values[0]) for p in m.catalog.get_partitions(table.database, table.name)}
    unregistered, stale = sorted(set(folders) - registered), sorted(registered - set(folders))
    if (unregistered or stale) and m.args.flag("AUTO_REPAIR"):
        added, dropped = sync_partitions(m.catalog, table, folders)
        m.add(table.name, "partition_integrity", "INFO", f"auto-repair registered {added}, dropped {dropped} partition(s)")
    else:
        if unregistered:
            m.add(table.name, "partition_registration", "CRITICAL", f"bucket(s) {_short(unregistered)} not registered")
        if stale:
            m.add(table.name, "partition_registration", "CRITICAL", f"registered bucket(s) {_short(stale)} have no folder")
    return {"partitions_on_disk": len(folders), "partitions_registered": len(registered)}


def _short(values: list[int], limit: int = 12) -> str:
    text = ", ".join(map(str, values[:limit]))
    return text + (f" ... ({len(values)} in all)" if len(values) > limit else "")


# freshness and schema ----------------------------------------------------------------------------

def as_of(args: ResolvedOptions) -> dt.date:
    return args.date("AS_OF") or args.date("RUN_TS") or dt.datetime.now(dt.timezone.utc).date()


def check_freshness(m: Monitor, table: Table) -> str | None:
    path = Path(table.location).parent / METADATA / SNAPSHOT_FILE
    try:
        text = path.read_text().strip()
    except OSError:
        m.add(table.name, "freshness", "CRITICAL", f"{path} is missing")
        return None
    if not valid_date(text):
        m.add(table.name, "freshness", "CRITICAL", f"{path} holds {text!r}, not a date")
        return None
    age = (as_of(m.args) - dt.date.fromisoformat(text)).days
    window = m.args.integer("FRESHNESS_WINDOW_DAYS", minimum=0)
    if age > window:
        m.add(table.name, "freshness", "CRITICAL", f"snapshot_dt {text} is {age} days old (window {window})")
    if table.parameters.get("snapshot_dt") not in (None, text):
        m.add(table.name, "freshness", "WARN",
              f"catalog says snapshot_dt {table.parameters['snapshot_dt']}, folder says {text}")
    return text


def check_schema(m: Monitor, table: Table) -> None:
    pk = m.args["PK_COLUMN"]
    if pk not in [c.name for c in table.columns]:
        m.add(table.name, "schema_contract", "CRITICAL", f"{pk} is not a data column")
    keys = [(k.name, k.type) for k in table.partition_keys]
    if keys != [(PARTITION_KEY, "int")]:
        m.add(table.name, "schema_contract", "CRITICAL", f"partition keys are {keys}, expected [{PARTITION_KEY} int]")
    if (table.table_type, table.format) != ("EXTERNAL_TABLE", "parquet"):
        m.add(table.name, "schema_contract", "CRITICAL", f"table is {table.table_type}/{table.format}")


# counts and keys ---------------------------------------------------------------------------------

def raw_distinct_ids(m: Monitor, conn, table: Table, snapshot: str | None) -> int | None:
    root, dataset = m.args["RAW_ROOT"], table.parameters.get("source_dataset")
    if root is None or dataset is None or snapshot is None:
        return None
    files = sorted(str(p) for p in (local_path(root) / dataset / f"snapshot_dt={snapshot}").glob("*.parquet"))
    if not files:
        m.add(table.name, "record_count", "CRITICAL", f"no raw files for {dataset} snapshot_dt={snapshot}")
        return None
    listing = "[" + ", ".join(athena.quote_literal(f) for f in files) + "]"
    pk = athena.quote_ident(m.args["PK_COLUMN"])  # DuckDB names are case-insensitive: Customer_User_id too
    return conn.execute(f"SELECT count(DISTINCT {pk}) FROM read_parquet({listing})").fetchone()[0]


def check_counts(m: Monitor, conn, table: Table, snapshot: str | None) -> dict:
    name, pk = athena.quote_ident(table.name), athena.quote_ident(m.args["PK_COLUMN"])
    rows, nulls = conn.execute(f"SELECT count(*), count(*) FILTER (WHERE {pk} IS NULL) FROM {name}").fetchone()
    dups = conn.execute(f"SELECT count(*) FROM (SELECT {pk} FROM {name} WHERE {pk} IS NOT NULL"
                        f" GROUP BY {pk} HAVING count(*) > 1)").fetchone()[0]
    if nulls:
        m.add(table.name, "primary_key", "CRITICAL", f"{nulls} row(s) with NULL {m.args['PK_COLUMN']}")
    if dups:
        m.add(table.name, "primary_key", "CRITICAL", f"{dups} duplicated {m.args['PK_COLUMN']} value(s)")
    raw = raw_distinct_ids(m, conn, table, snapshot)
    if raw is not None:
        off = abs(rows - raw) * 100.0 / raw if raw else (0.0 if rows == 0 else 100.0)
        if off > m.args.number("COUNT_TOLERANCE_PCT"):
            m.add(table.name, "record_count", "CRITICAL", f"{rows} rows vs {raw} distinct ids in the raw source ({off:.3f}% off)")
    return {"rows": rows, "raw_distinct_ids": raw}


def check_file_sizes(m: Monitor, table: Table) -> None:
    low, high = m.args.integer("MIN_FILE_BYTES", minimum=0), m.args.integer("MAX_FILE_BYTES", minimum=0)
    if not low and not high:
        return
    sizes = [p.stat().st_size for p in Path(table.location).rglob("*.parquet")]
    outside = [s for s in sizes if s < low or (high and s > high)]
    if outside:
        m.add(table.name, "file_size", "WARN", f"{len(outside)} of {len(sizes)} file(s) outside [{low}, {high or 'inf'}] bytes")


def check_er_table(m: Monitor, conn, table: Table) -> dict:
    name = athena.quote_ident(table.name)
    rows, nulls, distinct = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE row_id IS NULL), count(DISTINCT row_id) FROM {name}").fetchone()
    if nulls or distinct != rows - nulls:
        m.add(table.name, "primary_key", "CRITICAL", f"row_id: {nulls} NULL, {rows - nulls - distinct} duplicated")
    source = table.parameters.get("source_table")
    if source and m.catalog.get_table(table.database, source) is not None:
        expected = conn.execute(f"SELECT count(DISTINCT customer_user_id) FROM {athena.quote_ident(source)}").fetchone()[0]
        if expected != rows:
            m.add(table.name, "record_count", "CRITICAL", f"{rows} rows vs {expected} ids in {source}")
    return {"rows": rows}


# the job -----------------------------------------------------------------------------------------

def monitor(m: Monitor) -> list[dict]:
    tables = m.catalog.get_tables(m.args["DATABASE"], m.args["TABLE_PREFIX"])
    part = [t for t in tables if t.parameters.get("flywheel_kind") != "er_table"]
    if not tables:
        m.add("*", "tables", "CRITICAL", f"no {m.args['TABLE_PREFIX']}* table in {m.args['DATABASE']}")
    stats = {t.name: {"table": t.name, **check_partitions(m, t)} for t in part}
    snapshots = {t.name: check_freshness(m, t) for t in part}
    for t in part:
        check_schema(m, t)
        check_file_sizes(m, t)
    with athena.session(m.catalog, m.args["DATABASE"]) as conn:  # after any auto-repair
        for t in part:
            stats[t.name].update(snapshot_dt=snapshots[t.name], **check_counts(m, conn, t, snapshots[t.name]))
        for t in tables:
            if t not in part:
                stats[t.name] = {"table": t.name, "kind": "er_table", **check_er_table(m, conn, t)}
    return [stats[name] for name in sorted(stats)]


def run(argv: Sequence[str]) -> dict:
    args = get_resolved_options(argv, REQUIRED, DEFAULTS)
    report.failing([], args["FAIL_ON"])  # a bad --FAIL_ON fails before any work
    stamp = report.run_ts(args["RUN_TS"])
    with Catalog(local_path(args["CATALOG_PATH"])) as catalog:
        m = Monitor(args, catalog, [])
        tables = monitor(m)
    doc = {"database": args["DATABASE"], "as_of": as_of(args).isoformat(), "bucket_count": m.bucket_count,
           "tables": tables}
    return publish_report(JOB, args, stamp, doc, m.findings, {"tables": len(tables)})


def main(argv: Sequence[str] | None = None) -> dict:
    return run_main(JOB, run, argv)


if __name__ == "__main__":
    main()

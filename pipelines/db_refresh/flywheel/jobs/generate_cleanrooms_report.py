"""Job 7, Clean Rooms report: how the part tables are exposed to the collaboration.

    python -m flywheel.jobs.generate_cleanrooms_report --DATABASE omc_flywheel_dev_clean \
        --CATALOG_PATH catalog/glue_catalog.sqlite --CLEANROOMS_CONFIG config/cleanrooms.json \
        --REPORT_PATH reports/ [--TABLE_PREFIX part_] [--MAX_ALLOWLIST 100] [--FAIL_ON critical] [--RUN_TS ISO]

``config/cleanrooms.json`` stands in for the Clean Rooms API::

    {"collaboration": {"id", "name"}, "membership": {"id", "collaboration_id"},
     "configured_tables": [{"name", "source_table": {"database", "table"}, "allowed_columns": [...],
                            "analysis_rule": {"type": "AGGREGATION" | "LIST" | "CUSTOM"} | null}],
     "associations": [{"name", "configured_table", "membership_id"}],
     "id_namespaces": [{"name", "type", "source_table": {"database", "table"}, "input_fields": [...]}]}

Per part table: its column count, configured-table name, allowlisted column count, analysis rule,
association to the membership; the ER table's ID namespace. Findings: a part table not
configured (CRITICAL), allowlisted columns not in the table (CRITICAL), an allowlist over
MAX_ALLOWLIST = 100 columns, the Clean Rooms quota (CRITICAL), configured tables or namespaces
whose source table is not in the catalog (CRITICAL), no analysis rule or no association (WARN),
no ID namespace over the ER table (WARN).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from flywheel import report
from flywheel.args import get_resolved_options
from flywheel.catalog import Catalog, Table
from flywheel.errors import MappingError
from flywheel.jobs.common import main as run_main, publish_report
from flywheel.layout import local_path
from flywheel.report import Finding

JOB = "generate_cleanrooms_report"
REQUIRED = ("DATABASE", "CATALOG_PATH", "CLEANROOMS_CONFIG", "REPORT_PATH")
DEFAULTS = {"TABLE_PREFIX": "part_", "MAX_ALLOWLIST": "100", "FAIL_ON": "critical", "RUN_TS": None, "JOB_RUN_ID": None}


def load_config(path) -> dict:
    try:
        doc = json.loads(local_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise MappingError(f"cannot read Clean Rooms config {path}: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("configured_tables", []), list):
        raise MappingError(f"{path}: expected an object with a configured_tables list")
    return doc


def source_of(entry: dict) -> tuple[str | None, str | None]:
    src = entry.get("source_table") or {}
    return (src.get("database"), src.get("table")) if isinstance(src, dict) else (None, src)


def table_entry(table: Table, configured: dict | None, associated: set[str], findings: list[Finding],
                max_allowlist: int) -> dict:
    columns = {c.name for c in table.columns} | {k.name for k in table.partition_keys}
    entry = {"table": table.name, "column_count": table.column_count, "configured_table": None,
             "allowlisted_columns": 0, "analysis_rule": None, "associated": False}
    if configured is None:
        findings.append(Finding(table.name, "configured", "CRITICAL", "no configured table uses it"))
        return entry
    allowed = list(configured.get("allowed_columns") or [])
    rule = (configured.get("analysis_rule") or {}).get("type")
    entry.update(configured_table=configured.get("name"), allowlisted_columns=len(allowed), analysis_rule=rule,
                 associated=configured.get("name") in associated)
    unknown = [c for c in allowed if c not in columns]
    if unknown:
        findings.append(Finding(table.name, "allowlist_columns", "CRITICAL", f"allowlisted but not in the table: {unknown[:10]}"))
    if len(allowed) > max_allowlist:
        findings.append(Finding(table.name, "allowlist_limit", "CRITICAL", f"{len(allowed)} allowlisted columns, quota {max_allowlist}"))
    if not rule:
        findings.append(Finding(table.name, "analysis_rule", "WARN", f"{configured.get('name')} has no analysis rule"))
    if not entry["associated"]:
        findings.append(Finding(table.name, "association", "WARN", f"{configured.get('name')} is not associated to the membership"))
    return entry


def missing_sources(doc: dict, catalog: Catalog, default_db: str, findings: list[Finding]) -> None:
    for kind, key in (("configured_table", "configured_tables"), ("id_namespace", "id_namespaces")):
        for entry in doc.get(key) or []:
            database, name = source_of(entry)
            if name and catalog.get_table(database or default_db, name) is None:
                findings.append(Finding(name, "missing_from_catalog", "CRITICAL",
                                        f"{kind} {entry.get('name')} references {database or default_db}.{name}, not in the catalog"))


def build(doc: dict, catalog: Catalog, args, findings: list[Finding]) -> dict:
    database = args["DATABASE"]
    tables = catalog.get_tables(database, args["TABLE_PREFIX"])
    part = [t for t in tables if t.parameters.get("flywheel_kind") != "er_table"]
    er = [t for t in tables if t.parameters.get("flywheel_kind") == "er_table"]
    configured = {source_of(c)[1]: c for c in doc.get("configured_tables") or []
                  if source_of(c)[0] in (None, database)}
    membership = (doc.get("membership") or {}).get("id")
    associated = {a.get("configured_table") for a in doc.get("associations") or [] if a.get("membership_id") == membership}
    max_allowlist = args.integer("MAX_ALLOWLIST", minimum=1)
    entries = [table_entry(t, configured.get(t.name), associated, findings, max_allowlist) for t in part]
    namespaces = [{"table": t.name, "id_namespace": next((n.get("name") for n in doc.get("id_namespaces") or []
                                                          if source_of(n)[1] == t.name), None)} for t in er]
    for ns in namespaces:
        if ns["id_namespace"] is None:
            findings.append(Finding(ns["table"], "id_namespace", "WARN", "no ID namespace uses the ER table"))
    missing_sources(doc, catalog, database, findings)
    return {"database": database, "collaboration": doc.get("collaboration"), "membership": membership,
            "tables": entries, "er_tables": namespaces}


def run(argv: Sequence[str]) -> dict:
    args = get_resolved_options(argv, REQUIRED, DEFAULTS)
    report.failing([], args["FAIL_ON"])
    stamp = report.run_ts(args["RUN_TS"])
    doc = load_config(args["CLEANROOMS_CONFIG"])
    findings: list[Finding] = []
    with Catalog(local_path(args["CATALOG_PATH"])) as catalog:
        body = build(doc, catalog, args, findings)
    counts = {"tables": len(body["tables"]), "configured": sum(1 for t in body["tables"] if t["configured_table"])}
    return publish_report(JOB, args, stamp, body, findings, counts)


def main(argv: Sequence[str] | None = None) -> dict:
    return run_main(JOB, run, argv)


if __name__ == "__main__":
    main()

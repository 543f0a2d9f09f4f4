"""validate_config (domain spec A6): staged checks, every failure of a stage collected, the
password never echoed. Stage 1 (environment) is :func:`cm_pipeline.config.load`."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import psycopg

from cm_pipeline.config import Config, load, redact

REQUIRED = {
    "analytics": {"fact_visit": ("visit_id", "visit_date", "caregiver_id", "provider_id", "scheduled_start_time"),
                  "dim_caregiver": ("caregiver_id", "ssn"), "dim_provider": ("provider_id", "is_active", "is_demo"),
                  "dim_patient_address": ("patient_id", "latitude", "longitude"), "fact_visit_deleted": ("visit_id",),
                  "fact_caregiver_inservice": ("inservice_id",), "fact_caregiver_absence": ("absence_id",)},
    "conflict": {"settings": ("ExtraDistancePer", "MinOverlapMinutes", "InProgressFlag"),
                 "mph": ("From", "To", "AverageMilesPerHour"), "excluded_ssn": ("SSN",),
                 "excluded_agency": ("ProviderID",), "visit_staging": ("VisitID", "VisitDate", "SSN", "Mode"),
                 "conflicts": ("CONFLICTID", "VisitID", "StatusFlag"),
                 "conflictvisitmaps": ("CONFLICTID", "VisitID", "ConVisitID", "StatusFlag", "UpdateFlag"),
                 "pipeline_runs": ("RunID", "RowsStaged"), "task02_chunks": ("RunID", "ChunkID", "Status", "LeaseUntil"),
                 "task02_chunk_keys": ("RunID", "ChunkID", "VisitDate", "SSN")},
}


class Report:
    def __init__(self):
        self.errors: list[dict] = []
        self.warnings: list[dict] = []
        self.checks: list[dict] = []

    def error(self, code: str, message: str, hint: str | None = None) -> None:
        self.errors.append({"code": code, "message": message, **({"hint": hint} if hint else {})})

    def check(self, name: str, ok, detail: str | None = None) -> None:
        self.checks.append({"name": name, "ok": ok, **({"detail": detail} if detail else {})})


def validate_config(env=None, strict: bool = False) -> dict:
    """All stages; returns the response of A6 (status "ok" or "failed")."""
    started = time.perf_counter()
    config, missing, invalid, warnings = load(env)
    report = Report()
    report.warnings += [{"code": "CONFIG_WARNING", "message": w} for w in warnings]
    _env_stage(report, missing, invalid)
    stages = ("connect", "schema", "refdata", "state")
    if report.errors:
        for name in stages:
            report.check(name, None, "skipped")
    else:
        _database_stages(report, config, strict)
    return {"action": "validate_config", "status": "failed" if report.errors else "ok", "errors": report.errors,
            "warnings": report.warnings, "checks": report.checks, "config": config.public(),
            "duration_seconds": round(time.perf_counter() - started, 3)}


def _env_stage(report: Report, missing: list[str], invalid: list[dict]) -> None:
    if missing:
        report.error("CONFIG_MISSING", "Missing required settings: " + ", ".join(missing),
                     "Set them in the Lambda environment or .env, or set POSTGRES_DSN")
    for item in invalid:
        report.error("CONFIG_INVALID", f"{item['name']}={item['value']!r} is not {item['rule']}")
    report.check("env", not (missing or invalid))


def _database_stages(report: Report, config: Config, strict: bool) -> None:
    conn = _connect(report, config)
    if conn is None:
        for name in ("schema", "refdata", "state"):
            report.check(name, None, "skipped")
        return
    with conn:
        conn.execute("SET statement_timeout = '10s'")
        ok = _schema(report, conn, config)
        report.check("schema", ok)
        if not ok:
            report.check("refdata", None, "skipped")
            report.check("state", None, "skipped")
            return
        from psycopg import sql

        conn.execute(sql.SQL("SET search_path TO {}, {}").format(
            sql.Identifier(config.conflict_schema), sql.Identifier(config.analytics_schema)))
        report.check("refdata", _refdata(report, conn))
        report.check("state", _state(report, conn, strict))


def _connect(report: Report, config: Config):
    secrets = config.secrets()
    where = f"{config.public()['host'] or 'local socket'}:{config.public()['port']}"
    try:
        conn = psycopg.connect(config.conninfo(), autocommit=True)
    except psycopg.OperationalError as error:
        text = redact(str(error), secrets)
        state = getattr(error, "sqlstate", None)
        if state in ("28P01", "28000") or re.search(r'authentication failed|role ".*" does not exist|no pg_hba', text):
            report.error("DB_AUTH_FAILED", f"Authentication failed for user {config.public()['user']!r}")
        elif state == "3D000" or ("database" in text and "does not exist" in text):
            report.error("DB_NOT_FOUND", f"Database {config.public()['db']!r} does not exist")
        else:
            report.error("DB_UNREACHABLE", f"Cannot reach {where} within {config.connect_timeout}s: "
                         + text.strip().splitlines()[-1][:200])
        report.check("connect", False)
        return None
    version = conn.info.server_version
    if version < 120000:
        report.error("DB_VERSION_UNSUPPORTED", f"PostgreSQL {version} is older than 12")
        report.check("connect", False)
        conn.close()
        return None
    report.check("connect", True, f"server_version_num {version}")
    return conn


def _schema(report: Report, conn, config: Config) -> bool:
    names = {"analytics": config.analytics_schema, "conflict": config.conflict_schema}
    present = {r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata "
                                          "WHERE schema_name = ANY(%(s)s)", {"s": list(names.values())})}
    missing = [s for s in names.values() if s not in present]
    if missing:
        report.error("SCHEMA_MISSING", "Missing schemas: " + ", ".join(missing), "Run: python -m cm_pipeline migrate")
        return False
    before = len(report.errors)
    for kind, tables in REQUIRED.items():
        for table, columns in tables.items():
            _table(report, conn, names[kind], table, columns, kind)
    return len(report.errors) == before


def _table(report: Report, conn, schema: str, table: str, columns: tuple, kind: str) -> None:
    found = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %(s)s "
                                        "AND table_name = %(t)s", {"s": schema, "t": table})}
    if not found:
        report.error("TABLE_MISSING", f"Missing table {schema}.{table}")
        return
    absent = [c for c in columns if c not in found]
    if absent:
        report.error("COLUMN_MISSING", f"{schema}.{table} lacks " + ", ".join(absent))
    privileges = ("SELECT",) if kind == "analytics" else ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
    for privilege in privileges:
        ok = conn.execute("SELECT has_table_privilege(%(t)s, %(p)s)", {"t": f'"{schema}"."{table}"', "p": privilege}).fetchone()[0]
        if not ok:
            report.error("PRIVILEGE_MISSING", f"No {privilege} on {schema}.{table}")


def _refdata(report: Report, conn) -> bool:
    before = len(report.errors)
    if conn.execute("SELECT count(*) FROM settings").fetchone()[0] != 1:
        report.error("REFDATA_INVALID", "settings must hold exactly one row")
    bands = conn.execute('SELECT "From", "To", "AverageMilesPerHour" FROM mph ORDER BY "From"').fetchall()
    problem = bands_problem(bands)
    if problem:
        report.error("REFDATA_INVALID", f"mph bands: {problem}")
    return len(report.errors) == before


def bands_problem(bands: list[tuple]) -> str | None:
    """Why half-open bands do not tile [0, inf) (None when they do)."""
    if not bands:
        return "no bands"
    expected = Decimal(0)
    for i, (low, high, mph) in enumerate(bands):
        if mph is None or mph <= 0:
            return f"band starting at {low} has a non-positive speed"
        if low != expected:
            return f"gap or overlap at {expected} (next band starts at {low})"
        if high is None:
            return None if i == len(bands) - 1 else f"band from {low} is open-ended but not last"
        if high <= low:
            return f"band from {low} ends at {high}"
        expected = high
    return f"the last band ends at {expected} instead of being open-ended"


def _state(report: Report, conn, strict: bool) -> bool:
    row = conn.execute("""SELECT s."InProgressFlag", (SELECT max("StartedAt") FROM pipeline_runs
                          WHERE "Status" = 'running' AND "StartedAt" > now() - interval '2 hours')
                          FROM settings s WHERE "ID" = 0""").fetchone()
    if row and row[0] == 1 and row[1] is not None:
        entry = {"code": "RUN_IN_PROGRESS", "message": f"a run started at {row[1].isoformat()} is still in progress"}
        (report.errors if strict else report.warnings).append(entry)
        return not strict
    return True

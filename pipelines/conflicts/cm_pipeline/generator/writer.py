"""Writes a generated data set with COPY (and the manifest as Parquet); reuses an identical one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from cm_pipeline.generator.days import DayPlanner
from cm_pipeline.generator.params import STREAM_BOUNDARY, GenParams, rng
from cm_pipeline.generator.scenarios import Scenarios
from cm_pipeline.generator.visits import CONFIRMED, UNCONFIRMED, VisitFactory, duplicate_of
from cm_pipeline.generator.world import World

ANALYTICS_TABLES = ("fact_visit", "fact_visit_deleted", "fact_caregiver_inservice", "fact_caregiver_absence",
                    "dim_patient_address", "dim_patient", "dim_caregiver", "dim_office", "dim_provider", "dim_payer",
                    "dim_service_code")
VISIT_COLUMNS = ("visit_id", "app_visit_id", "provider_id", "office_id", "caregiver_id", "patient_id", "payer_id",
                 "service_code_id", "visit_date", "scheduled_start_time", "scheduled_end_time", "visit_start_time",
                 "visit_end_time", "call_in_time", "call_out_time", "call_in_gps", "call_out_gps",
                 "call_out_device_type", "is_missed", "missed_visit_reason", "billed", "invoice_date", "billed_hours",
                 "billed_rate", "bill_rate_non_billed", "total_billed_amount", "updated_at", "updated_by")
BATCH = 100_000


def window(as_of: dt.date, lookback_years: int = 2, lookahead_days: int = 30) -> tuple[dt.date, dt.date]:
    """(window_start, window_end), both inclusive; Feb 29 minus years is Feb 28, as in PostgreSQL."""
    try:
        start = as_of.replace(year=as_of.year - lookback_years)
    except ValueError:
        start = as_of.replace(year=as_of.year - lookback_years, day=28)
    return start, as_of + dt.timedelta(days=lookahead_days)


def generate(conn, params: GenParams, out_dir: str | Path | None = None, force: bool = False) -> dict:
    """Fill the analytics tables (and conflict.excluded_agency) unless the same data set is there.

    Returns {"reused": bool, "visits": n, "manifest": path, "key": ...}.
    """
    key = params.key()
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    manifest_path = Path(out_dir or Path(".stepflow") / "conflicts" / digest) / "manifest.parquet"
    row = conn.execute('SELECT "Visits" FROM generator_runs WHERE "Key" = %(k)s', {"k": key}).fetchone()
    if row and not force and manifest_path.exists():
        return {"reused": True, "visits": row[0], "manifest": str(manifest_path), "key": digest}
    world, factory, scenarios = build(params)
    with conn.transaction():
        _clear(conn)
        _copy_all(conn, world, factory)
        conn.execute('INSERT INTO generator_runs ("Key", "Params", "Visits") VALUES (%(k)s, %(p)s, %(n)s)',
                     {"k": key, "p": json.dumps(json.loads(key)), "n": len(factory.rows)})
    write_manifest(scenarios.manifest, manifest_path)
    return {"reused": False, "visits": len(factory.rows), "manifest": str(manifest_path), "key": digest}


def build(params: GenParams) -> tuple[World, VisitFactory, Scenarios]:
    """The whole data set in memory (rows per table and the manifest)."""
    world = World(params)
    factory = VisitFactory(world)
    dates = params.dates()
    scenarios = Scenarios(world, factory, dates)
    planner = DayPlanner(world, factory, scenarios)
    for index, date in enumerate(dates):
        planner.day(index, date)
    _boundaries(world, scenarios, params)
    _duplicates_and_deletions(world, factory, params)
    return world, factory, scenarios


def _boundaries(world: World, scenarios: Scenarios, params: GenParams) -> None:
    """Conflicting pairs on window_start/window_end (found) and one day outside each (not)."""
    g = rng(params.seed, STREAM_BOUNDARY)
    start, end = window(params.as_of)
    eligible = [p for p in world.persons if len(p.agencies) >= 2 and p.ssn_ok and not p.shared]
    if not eligible:
        return
    one = dt.timedelta(days=1)
    for date, inside in ((start - one, False), (start, True), (end, True), (end + one, False)):
        kind = CONFIRMED if date <= params.as_of else UNCONFIRMED
        flag = "VisitTimeOverAnotherVisitTimeFlag" if kind == CONFIRMED else "SchOverAnotherSchTimeFlag"
        for _ in range(params.boundary_pairs):
            person = eligible[int(g.integers(len(eligible)))]
            a_prov, b_prov = (int(x) for x in g.choice(person.agencies, 2, replace=False))
            t0 = dt.datetime.combine(date, dt.time(9))
            a = scenarios._visit(g, person, a_prov, date, (t0, t0 + dt.timedelta(hours=3)), kind)
            b = scenarios._visit(g, person, b_prov, date, (t0 + dt.timedelta(hours=2), t0 + dt.timedelta(hours=5)), kind)
            scenarios._record("BOUNDARY_IN" if inside else "BOUNDARY_OUT", a, b.id, flag if inside else "")


def _duplicates_and_deletions(world: World, factory: VisitFactory, params: GenParams) -> None:
    """Older duplicate rows and deletions, never on injected scenario visits."""
    g = rng(params.seed, STREAM_BOUNDARY, 1)
    f = params.faults
    extra = []
    for row in factory.rows:
        if row[0] in factory.exact_ids:
            continue
        r = g.random()
        if r < f.duplicate:
            extra.append(duplicate_of(g, row))
        elif r < f.duplicate + f.deleted:
            world.rows["fact_visit_deleted"].append((row[0], row[1], dt.datetime.combine(params.as_of, dt.time(1))))
    factory.rows[:0] = extra  # older versions first: the newer one also wins on row_id


def _clear(conn) -> None:
    conn.execute("TRUNCATE " + ", ".join(ANALYTICS_TABLES) + " RESTART IDENTITY")  # fixed names, no input
    conn.execute("TRUNCATE generator_runs")
    conn.execute("DELETE FROM excluded_agency")


def _copy_all(conn, world: World, factory: VisitFactory) -> None:
    order = ("dim_provider", "dim_office", "dim_payer", "dim_service_code", "dim_caregiver", "dim_patient",
             "dim_patient_address", "fact_caregiver_inservice", "fact_caregiver_absence", "fact_visit_deleted")
    for table in order:
        _copy(conn, table, None, world.rows[table])
    _copy(conn, "fact_visit", VISIT_COLUMNS, factory.rows)
    with conn.cursor() as cur:
        cur.executemany('INSERT INTO excluded_agency ("ProviderID", "AgencyName") VALUES (%s, %s)',
                        world.excluded_agencies)


def _copy(conn, table: str, columns, rows: list[tuple]) -> None:
    target = f"{table} ({', '.join(columns)})" if columns else table  # names from constants above
    with conn.cursor() as cur:
        for start in range(0, len(rows), BATCH):
            with cur.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows[start:start + BATCH]:
                    copy.write_row(row)


def write_manifest(entries: list[dict], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ("scenario", "visit_id_a", "visit_id_b", "expected_flag", "needs_event_rules", "visit_date")
    table = pa.table({c: [e[c] if c != "expected_flag" else (e[c] or None) for e in entries] for c in columns})
    pq.write_table(table, path)


def load_manifest(path: str | Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()

"""Shared steps of the pipeline tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from cm_pipeline import FLAGS
from cm_pipeline.chunks import get_task02_chunks, process_task02_chunk
from cm_pipeline.generator import GenParams, generate
from cm_pipeline.generator.writer import window
from cm_pipeline.reference import Cfg, load_raw, reference
from cm_pipeline.task01 import task_01
from cm_pipeline.task02 import finalize, load_run, task_02

AS_OF = dt.date(2025, 6, 15)
DERIVED = ("OverlapMinutes", "MinuteDiffBetweenSch", "DistanceMilesFromLatLng", "AverageMilesPerHour", "ETATravelMinutes")
SNAPSHOT_EXCLUDES = ("ID", "CreatedDate", "UpdatedDate", "ResolveDate", "LastRunID")


def load(conn, seed=1, visits=1000, p_conflict=0.5) -> dict:
    return generate(conn, GenParams(n_visits=visits, seed=seed, as_of=AS_OF, p_conflict=p_conflict),
                    out_dir=conn.tmp_path / f"gen{seed}")


def phase1(conn, config):
    task_01(conn, config, AS_OF)
    return task_02(conn, config)


def phase2(conn, config, chunk_size: int):
    config = replace(config, target_chunk_size=chunk_size, max_chunk_size=max(chunk_size, 50_000))
    run_id = task_01(conn, config, AS_OF)["run_id"]
    plan = get_task02_chunks(conn, config, run_id)
    for chunk_id in plan["chunk_ids"]:
        process_task02_chunk(conn, config, run_id, chunk_id)
    finalize(conn, load_run(conn, run_id))
    return plan


def snapshot(conn) -> set:
    cur = conn.execute('SELECT * FROM conflictvisitmaps')
    names = [c.name for c in cur.description]
    keep = [i for i, n in enumerate(names) if n not in SNAPSHOT_EXCLUDES]
    rows = {tuple(r[i] for i in keep) for r in cur.fetchall()}
    rows |= {("conflict",) + tuple(r) for r in conn.execute('SELECT "CONFLICTID", "VisitID", "StatusFlag" FROM conflicts')}
    return rows


def open_rows(conn) -> dict:
    cur = conn.execute('SELECT * FROM conflictvisitmaps WHERE "StatusFlag" = %s', ("U",))
    names = [c.name for c in cur.description]
    out = {}
    for r in cur.fetchall():
        row = dict(zip(names, r))
        flags = {f: "Y" for f in FLAGS if row[f] == "Y"}
        out[(str(row["VisitID"]), str(row["ConVisitID"]))] = (row["CONFLICTID"], flags, {k: row[k] for k in DERIVED})
    return out


def expected(conn, event_rules=False) -> dict:
    cfg = Cfg(window=window(AS_OF), event_rules=event_rules)
    return reference(load_raw(conn), cfg)


def same_as_reference(actual: dict, wanted: dict) -> list[str]:
    """Differences between the SQL's open rows and the reference (empty when equal)."""
    problems = [f"missing {k}: {wanted[k]}" for k in wanted.keys() - actual.keys()]
    problems += [f"extra {k}: {actual[k]}" for k in actual.keys() - wanted.keys()]
    for key in wanted.keys() & actual.keys():
        cid, flags, derived = wanted[key]
        got_cid, got_flags, got_derived = actual[key]
        full = {k: derived.get(k) for k in DERIVED}
        if (cid, flags, full) != (got_cid, got_flags, got_derived):
            problems.append(f"differs {key}: want {(cid, flags, full)} got {(got_cid, got_flags, got_derived)}")
    return problems


PROJECTION = ('"VisitID", "ConVisitID", "CONFLICTID", "GroupID", "SSN", "VisitDate", "ConKind", "StatusFlag", '
              + ", ".join(f'"{f}"' for f in FLAGS) + ", " + ", ".join(f'"{d}"' for d in DERIVED))


def projection(conn) -> set:
    """What the rules decide (pairs, ids, flags, numbers, statuses), without the copied text."""
    rows = {tuple(r) for r in conn.execute(f"SELECT {PROJECTION} FROM conflictvisitmaps")}
    return rows | {("conflict",) + tuple(r) for r in conn.execute('SELECT "CONFLICTID", "VisitID", "StatusFlag" FROM conflicts')}


def table_hashes(conn, schema: str, skip_columns: dict[str, tuple] | None = None) -> dict[str, str]:
    """md5 of every table of ``schema`` (rows as text, sorted), optionally without some columns."""
    from psycopg import sql

    skip_columns = skip_columns or {}
    out = {}
    tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                                         "AND table_type = 'BASE TABLE' ORDER BY 1", (schema,))]
    for table in tables:
        columns = [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
                                              " AND table_name = %s ORDER BY ordinal_position", (schema, table))
                   if r[0] not in skip_columns.get(table, ())]
        row = sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Identifier("t", c) for c in columns))
        query = sql.SQL("SELECT md5(coalesce(string_agg({row}::text, E'\\n' ORDER BY {row}::text), '')) FROM {t} t").format(
            row=row, t=sql.Identifier(schema, table))
        out[table] = conn.execute(query).fetchone()[0]
    return out


def relations(conn, schemas: tuple[str, ...]) -> set:
    """(schema, name, kind) of every table, view, sequence, index and function in ``schemas``."""
    rels = {tuple(r) for r in conn.execute(
        "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%s)", (list(schemas),))}
    return rels | {(r[0], r[1], "f") for r in conn.execute(
        "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY(%s)",
        (list(schemas),))}

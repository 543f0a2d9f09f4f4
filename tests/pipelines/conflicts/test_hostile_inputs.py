"""Hostile strings (quotes, semicolons, ``'; DROP TABLE ...``, unicode digits, NUL bytes, very long
strings, JSON/SQL/format metacharacters) in every source text column, in SSNs, in the handler's
event fields and in the configuration change nothing they should not: the rules decide the same
pairs, the reference still matches, no table is created, dropped or changed outside what the
pipeline owns, and no SQL error (with the values it would echo) comes out."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from psycopg import sql

from cm_pipeline.errors import PipelineError
from cm_pipeline.handler import lambda_handler
from cm_pipeline.validate import validate_config
from cm_testlib import (
    expected, load, open_rows, phase1, phase2, projection, relations, same_as_reference, table_hashes,
)
from conftest import env_for

LONG = "Ω'\";--" * 4000
HOSTILE = [
    "'; DROP TABLE conflict.conflicts; --",
    "Robert'); DROP TABLE analytics.fact_visit;--",
    'a\'b"c;d\\e%f_g*h[i]',
    "$$; SELECT pg_sleep(30); $$",
    "%(run_id)s %s {} {0} ${ConflictFunctionArn} $.x $$.Execution.Id",
    '{"action": "task_01", "run_id": [1, null], "x": "\\u0000"}',
    "１２３-45-6789 ٩٨٧ ⁹",
    "Ünïcødé ✓ 🚑 \u202eevil\u200b",
    "line\nbreak\ttab\rcr",
    "E'\\x00' || chr(0)",
    "",
    " ",
    LONG,
]
RULE_COLUMNS = {"ssn", "zip_code", "call_in_gps", "call_out_gps", "address_type"}
SSN_OK = re.compile(r"^[0-9]{9}$")


def _text_columns(conn, schema: str) -> list[tuple[str, str, int | None]]:
    return [tuple(r) for r in conn.execute(
        "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = %s AND data_type IN ('text', 'character varying', 'character') "
        "AND table_name <> 'schema_migrations' ORDER BY 1, 2", (schema,))]


def _spray(conn, schema: str, table: str, column: str, length: int | None, values: list[str]) -> None:
    """Every row of the column gets one of ``values`` (cut to the column's length), bound as an array."""
    query = sql.SQL(
        "UPDATE {t} SET {c} = left((%(v)s::text[])[1 + x.rn %% %(n)s], %(len)s) "
        "FROM (SELECT ctid AS id, row_number() OVER () AS rn FROM {t}) x WHERE {t}.ctid = x.id").format(
        t=sql.Identifier(schema, table), c=sql.Identifier(column))
    conn.execute(query, {"v": values, "n": len(values), "len": length or 1_000_000})


def _guarded_state(conn, config) -> tuple:
    """Everything a pipeline run must leave alone: the source schema, the reference tables and the
    set of relations and functions of both schemas (nothing created or dropped)."""
    skip = {"settings": ("InProgressFlag", "LastLoadDate")}
    refs = {k: v for k, v in table_hashes(conn, config.conflict_schema, skip).items()
            if k in ("settings", "mph", "excluded_ssn", "excluded_agency", "schema_migrations", "generator_runs")}
    schemas = (config.conflict_schema, config.analytics_schema, "public")
    rels = {r for r in relations(conn, schemas) if not r[1].startswith("pg_toast")}
    return table_hashes(conn, config.analytics_schema), refs, rels


def test_hostile_text_in_every_column_changes_no_conflict(pipeline):
    conn, config = pipeline
    load(conn, seed=21, p_conflict=0.5)
    phase1(conn, config)
    base = projection(conn)
    sprayed = []
    for table, column, length in _text_columns(conn, config.analytics_schema):
        if column not in RULE_COLUMNS:
            _spray(conn, config.analytics_schema, table, column, length, HOSTILE)
            sprayed.append(f"{table}.{column}")
    _spray(conn, config.conflict_schema, "excluded_agency", "AgencyName", None, HOSTILE)
    assert {"dim_provider.provider_name", "dim_caregiver.last_name", "fact_visit.missed_visit_reason"} <= set(sprayed)

    guarded = _guarded_state(conn, config)
    phase1(conn, config)
    assert projection(conn) == base
    phase2(conn, config, 7)
    assert projection(conn) == base
    assert _guarded_state(conn, config) == guarded
    assert same_as_reference(open_rows(conn), expected(conn)) == []

    copied = conn.execute('SELECT count(*), count(*) FILTER (WHERE m."ProviderName" = ANY(%s)), '
                          'count(*) FILTER (WHERE m."ProviderName" IS DISTINCT FROM p.provider_name) '
                          'FROM conflictvisitmaps m JOIN dim_provider p ON p.provider_id = m."ProviderID"',
                          (HOSTILE,)).fetchone()
    assert copied[0] > 0 and copied[1] == copied[0] and copied[2] == 0  # hostile names copied byte for byte


def _conflicting_caregivers(conn) -> list[tuple[str, str]]:
    """(caregiver_id, raw ssn) of caregivers with open conflicts, each SSN once."""
    rows = conn.execute('SELECT DISTINCT ON (c.ssn) c.caregiver_id::text, c.ssn FROM conflictvisitmaps m '
                        'JOIN dim_caregiver c ON c.caregiver_id = m."CaregiverID" WHERE m."StatusFlag" = %s '
                        'ORDER BY c.ssn, 1', ("U",)).fetchall()
    return [tuple(r) for r in rows]


def _decorate(digits: str, i: int) -> str:
    """The same nine digits inside hostile punctuation and non-ASCII digits (<= 20 characters)."""
    d, a, b = digits, digits[:4], digits[4:]
    forms = [f"'{d}';--", f'"{a}";{b}', f"٩{d}９", f"%{a}_\\{b}", f"{d})--", f" {d}\x7f"]
    return forms[i % len(forms)]


def test_hostile_ssns(pipeline):
    conn, config = pipeline
    load(conn, seed=22, p_conflict=0.5)
    phase1(conn, config)
    base = projection(conn)
    caregivers = _conflicting_caregivers(conn)
    assert len(caregivers) >= 8
    keep, destroy = caregivers[: len(caregivers) // 2], caregivers[len(caregivers) // 2:]
    for i, (cid, ssn) in enumerate(keep):
        digits = "".join(ch for ch in ssn if ch.isascii() and ch.isdigit())
        conn.execute("UPDATE dim_caregiver SET ssn = %s WHERE ssn = %s", (_decorate(digits, i), ssn))
    phase1(conn, config)
    assert projection(conn) == base  # same digits, same SSN: nothing changes

    wrecked = ["'; DROP TABLE x;--", "９１２３４５６７８", "912-34-567８", "%_\\'\";", "9'9;9-9\"9%9_9\\9 9",
               "\u0660" * 9, "1'||'23456789", "{}$1%s"]
    for i, (cid, ssn) in enumerate(destroy):
        conn.execute("UPDATE dim_caregiver SET ssn = %s WHERE ssn = %s", (wrecked[i % len(wrecked)], ssn))
    guarded = _guarded_state(conn, config)
    phase1(conn, config)
    assert _guarded_state(conn, config) == guarded
    assert same_as_reference(open_rows(conn), expected(conn)) == []
    resolved = conn.execute('SELECT count(*) FROM conflictvisitmaps WHERE "StatusFlag" = %s', ("R",)).fetchone()[0]
    assert resolved > 0  # pairs of wrecked SSNs are resolved, not deleted
    rejects = dict(conn.execute('SELECT "Reason", count(*) FROM visit_staging_rejects GROUP BY 1').fetchall())
    assert rejects.get("SSN_EMPTY", 0) > 0 and rejects.get("SSN_MALFORMED", 0) > 0
    for query in ('SELECT "SSN" FROM visit_staging', 'SELECT "SSN" FROM conflictvisitmaps', 'SELECT "SSN" FROM event_staging'):
        assert all(SSN_OK.match(r[0]) for r in conn.execute(query)), query


def _refused(event: dict) -> PipelineError:
    with pytest.raises(PipelineError) as info:
        lambda_handler(event, None)
    return info.value


def test_hostile_event_fields_are_refused_before_any_sql(pipeline, monkeypatch):
    conn, config = pipeline
    load(conn, seed=23)
    run_id = phase1(conn, config)["run_id"]
    for name, value in env_for(config).items():
        monkeypatch.setenv(name, value)
    everything = (config.conflict_schema, config.analytics_schema)
    before = [table_hashes(conn, s) for s in everything], relations(conn, everything)
    uuid_ish = [run_id + "\n", run_id + "\x00", " " + run_id, run_id.replace("-", ""), run_id + "'; --"]
    events = [{"action": value} for value in HOSTILE + ["task_01\x00", "TASK_01", None, ["task_01"], {"a": 1}]]
    for value in HOSTILE + ["2025-06-15\n", "2025-06-15\x00", "２０２５-06-15", "2025-02-30", 20250615, None]:
        events += [{"action": "task_01", "as_of": value}] if value is not None else []
        events += [{"action": "task_01", "input": {"as_of": value}}] if value is not None else []
    for value in HOSTILE + uuid_ish + [12, ["x"]]:
        events += [{"action": a, "run_id": value, "chunk_id": 0} for a in ("task_02", "process_task02_chunk", "task_02_finalize")]
    for value in HOSTILE + ["0", -1, 1.5, True, None, [0]]:
        events.append({"action": "process_task02_chunk", "run_id": run_id, "chunk_id": value})
    for event in events:
        error = _refused(event)
        assert error.code in ("BAD_INPUT", "UNKNOWN_ACTION"), (event, error)
        assert "SQLSTATE" not in str(error) and len(str(error)) < 400, (event, error)
    assert ([table_hashes(conn, s) for s in everything], relations(conn, everything)) == before

    for big in (2**31, 2**70):  # well-formed but out of range: unknown, not a SQL error
        error = _refused({"action": "process_task02_chunk", "run_id": run_id, "chunk_id": big})
        assert "SQLSTATE" not in str(error), error
    error = _refused({"action": "task_02", "run_id": str(uuid.uuid4())})
    assert error.code == "UNKNOWN_RUN" and "SQLSTATE" not in str(error)
    result = lambda_handler({"action": "task_02_finalize", "run_id": run_id, "'; DROP TABLE conflicts; --": LONG}, None)
    assert result["status"] == "success"


def test_nul_bytes_never_reach_the_database(pipeline):
    conn, config = pipeline
    load(conn, seed=24)
    before = table_hashes(conn, config.analytics_schema)
    for value in ("\x00", "abc\x00'; DROP TABLE fact_visit; --", "912-34-5678\x00"):
        with pytest.raises(psycopg.DataError):
            conn.execute("UPDATE dim_caregiver SET ssn = %s", (value,))
        with pytest.raises(psycopg.DataError):
            conn.execute("UPDATE dim_provider SET provider_name = %s", (value,))
    assert table_hashes(conn, config.analytics_schema) == before


def test_hostile_configuration_is_reported_not_executed(pipeline):
    conn, config = pipeline
    everything = (config.conflict_schema, config.analytics_schema)
    before = [table_hashes(conn, s) for s in everything], relations(conn, everything)
    env = env_for(config, CONFLICT_SCHEMA=f"{config.conflict_schema}; DROP SCHEMA {config.analytics_schema} CASCADE",
                  ANALYTICS_SCHEMA='analytics"; --', LOOKBACK_YEARS="2; DROP TABLE settings", AS_OF="2025-06-15'--",
                  MAX_CONCURRENCY="5\x00", TARGET_CHUNK_SIZE="1e9", ENABLE_EVENT_RULES="yes'; --", POSTGRES_SSLMODE=LONG)
    report = validate_config(env)
    assert report["status"] == "failed"
    bad = {e["message"].split("=", 1)[0] for e in report["errors"] if e["code"] == "CONFIG_INVALID"}
    assert {"CONFLICT_SCHEMA", "ANALYTICS_SCHEMA", "LOOKBACK_YEARS", "AS_OF", "MAX_CONCURRENCY", "TARGET_CHUNK_SIZE",
            "ENABLE_EVENT_RULES", "POSTGRES_SSLMODE"} <= bad
    assert all(len(e["message"]) < 400 for e in report["errors"])
    assert [c for c in report["checks"] if c["name"] == "connect"][0]["ok"] is None  # never connected
    assert ([table_hashes(conn, s) for s in everything], relations(conn, everything)) == before

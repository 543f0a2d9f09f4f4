"""The conflict pipeline against real PostgreSQL: parity with the brute-force reference, Phase 2
= Phase 1 for any chunk size, reruns change nothing, every manifest scenario, the lifecycle."""

from __future__ import annotations

import pytest

from cm_pipeline.generator import load_manifest
from cm_pipeline.task01 import task_01
from cm_pipeline.task02 import task_02
from cm_testlib import AS_OF, expected, load, open_rows, phase1, phase2, same_as_reference, snapshot


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_equals_reference(pipeline, seed):
    conn, config = pipeline
    load(conn, seed=seed)
    phase1(conn, config)
    actual = open_rows(conn)
    assert actual, "the data set must contain conflicts"
    assert same_as_reference(actual, expected(conn)) == []


def test_sql_equals_reference_with_event_rules(pipeline):
    conn, config = pipeline
    load(conn, seed=4)
    config = config.__class__(**{**config.__dict__, "enable_event_rules": True})
    phase1(conn, config)
    actual = open_rows(conn)
    assert any("PTOFlag" in f or "InServiceFlag" in f for _, f, _ in actual.values())
    assert same_as_reference(actual, expected(conn, event_rules=True)) == []


@pytest.mark.parametrize("chunk_size", [1, 7, 10_000])
def test_phase2_equals_phase1(pipeline, chunk_size):
    conn, config = pipeline
    load(conn, seed=5)
    plan = phase2(conn, config, chunk_size)
    chunked = snapshot(conn)
    if chunk_size == 1:
        assert plan["num_chunks"] > 10
    conn.execute("TRUNCATE conflictvisitmaps, conflicts")
    phase1(conn, config)
    assert snapshot(conn) == chunked


def test_rerun_changes_nothing(pipeline):
    conn, config = pipeline
    load(conn, seed=6)
    first = phase1(conn, config)
    before = snapshot(conn)
    again = phase1(conn, config)
    assert first["rows_upserted"] > 0
    assert (again["rows_upserted"], again["rows_resolved"]) == (0, 0)
    assert snapshot(conn) == before
    phase2(conn, config, 7)
    assert snapshot(conn) == before


def test_every_manifest_scenario(pipeline):
    conn, config = pipeline
    data = load(conn, seed=7, visits=3000, p_conflict=0.8)
    config = config.__class__(**{**config.__dict__, "enable_event_rules": True})
    phase1(conn, config)
    rows = open_rows(conn)
    manifest = load_manifest(data["manifest"])
    seen = {m["scenario"] for m in manifest}
    assert {f"S{i}" for i in range(1, 10)} | {f"N{i}" for i in range(1, 8)} <= seen
    for m in manifest:
        pair, back = (m["visit_id_a"], m["visit_id_b"]), (m["visit_id_b"], m["visit_id_a"])
        if m["expected_flag"]:
            assert pair in rows and back in rows, m
            assert rows[pair][1] == {m["expected_flag"]: "Y"} == rows[back][1], m
        else:
            assert pair not in rows and back not in rows, m


def test_vanished_conflict_is_resolved_and_deleted_visit_marks_d(pipeline):
    conn, config = pipeline
    load(conn, seed=8)
    phase1(conn, config)
    pairs = list(open_rows(conn))
    missed, deleted = pairs[0], next(p for p in pairs if set(p).isdisjoint(pairs[0]))
    conn.execute("UPDATE fact_visit SET is_missed = true, visit_start_time = NULL, visit_end_time = NULL "
                 "WHERE visit_id = %s", (missed[1],))
    conn.execute("INSERT INTO fact_visit_deleted VALUES (%s, 1, now())", (deleted[1],))
    phase1(conn, config)
    status = dict(((str(a), str(b)), s) for a, b, s in conn.execute(
        'SELECT "VisitID", "ConVisitID", "StatusFlag" FROM conflictvisitmaps').fetchall())
    assert status[missed] == "R" and status[deleted] == "D"
    flags = conn.execute('SELECT "SameSchTimeFlag", "DistanceFlag", "VisitTimeOverAnotherVisitTimeFlag" FROM '
                         'conflictvisitmaps WHERE "VisitID" = %s AND "ConVisitID" = %s', missed).fetchone()
    assert set(flags) == {"N"}
    assert same_as_reference(open_rows(conn), expected(conn)) == []


def test_manual_statuses_are_kept(pipeline):
    conn, config = pipeline
    load(conn, seed=9)
    phase1(conn, config)
    key = next(iter(open_rows(conn)))
    conn.execute('UPDATE conflictvisitmaps SET "StatusFlag" = %s WHERE "VisitID" = %s AND "ConVisitID" = %s', ("W", *key))
    task_01(conn, config, AS_OF)
    task_02(conn, config)
    assert conn.execute('SELECT "StatusFlag" FROM conflictvisitmaps WHERE "VisitID" = %s AND "ConVisitID" = %s',
                        key).fetchone()[0] == "W"

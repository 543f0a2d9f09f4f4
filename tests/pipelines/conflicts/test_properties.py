"""Hypothesis properties on tiny groups: 2-4 visits of one SSN across two agencies with
adversarial generated times (touching, identical, contained, overlapping by exactly
MinOverlapMinutes, inverted, partial, missed, seconds to truncate, overnight) and locations. On
each example the SQL rules equal the brute-force reference, every pair is symmetric with one
flag at most, and a rerun changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cm_pipeline import FLAGS
from cm_pipeline.generator.writer import ANALYTICS_TABLES, window
from cm_pipeline.reference import Cfg, load_raw, reference
from cm_pipeline.task01 import task_01
from cm_pipeline.task02 import task_02
from cm_testlib import AS_OF, open_rows, projection, same_as_reference

DAY = dt.datetime.combine(AS_OF - dt.timedelta(days=3), dt.time(8))
PROVIDERS = [uuid.UUID(int=i + 1) for i in range(2)]
CAREGIVERS = [uuid.UUID(int=100 + i) for i in range(2)]
SSN_FORMS = ["912-34-5678", "912345678", " 912-34-5678 "]
PLACES = [None, "", ",", '"40.7128,-74.0060"', "40.7128,-74.0060", "40.7306,-73.9866", "41.2,-74.6", "0,0", "x,y"]
HOMES = [None, ("10001", 40.7128, -74.0060), ("10002", 40.7306, -73.9866), ("10001", 41.2, -74.6), (None, 40.72, -74.0)]
TABLES = ANALYTICS_TABLES + ("conflictvisitmaps", "conflicts", "task02_chunk_keys", "task02_chunks", "staging_run",
                             "pipeline_runs")

# Times cluster on a few anchors, so identical, touching, contained and barely overlapping
# intervals are common; a wide draw now and then covers the rest (overnight, inverted).
minutes = (st.sampled_from([0, 60, 120]).flatmap(lambda m: st.sampled_from([m, m, m + 1, m - 1, m + 15, m + 59])
                                                 .map(int)) | st.integers(-2, 600))
lengths = st.sampled_from([60, 60, 120, 0, 1, 2, 15, 59, 61]) | st.integers(-30, 20 * 60)
nudge = st.sampled_from([0, 0, 0, 1, -1, 14, -15])


@st.composite
def visits(draw) -> dict:
    """One visit: agency, kind (S scheduled, A actual, P partial, X invalid, M missed), times, places."""
    kind = draw(st.sampled_from("SSSAAAAPXM"))
    start = draw(minutes)
    end = start + draw(lengths)
    sch = (DAY + dt.timedelta(minutes=start), DAY + dt.timedelta(minutes=end))
    if kind == "X" and draw(st.booleans()):
        sch = (sch[0], None)
    act = (None, None)
    if kind in "AX":
        a0, a1 = start + draw(nudge), end + draw(nudge)
        act = (DAY + dt.timedelta(minutes=a0, seconds=draw(st.sampled_from([0, 0, 30, 59]))),
               DAY + dt.timedelta(minutes=a1 if kind == "A" else a0 - draw(st.integers(0, 5))))
    elif kind == "P":
        act = (sch[0], None)
    return {"agency": draw(st.sampled_from([0, 1, 1])), "kind": kind, "sch": sch, "act": act,
            "gps": (draw(st.sampled_from(PLACES)), draw(st.sampled_from(PLACES))), "home": draw(st.sampled_from(HOMES)),
            "ssn": draw(st.sampled_from(SSN_FORMS))}


def _both_agencies(group: list[dict]) -> list[dict]:
    """The first visit at agency 0, so that most groups span both agencies."""
    return [{**group[0], "agency": 0}, *group[1:]]


def _reset(conn) -> None:
    for table in TABLES:  # DELETE: cheaper than TRUNCATE on tables this small
        conn.execute(f"DELETE FROM {table}")  # fixed names


def _insert(conn, group: list[dict], min_ov: int) -> None:
    conn.execute('UPDATE settings SET "MinOverlapMinutes" = %s', (min_ov,))
    for i, provider in enumerate(PROVIDERS):
        conn.execute("INSERT INTO dim_provider (provider_id, app_provider_id, provider_name, state) "
                     "VALUES (%s, %s, %s, 'NY')", (provider, i + 1, f"Agency {i}"))
    for n, v in enumerate(group):
        caregiver, patient = uuid.UUID(int=100 + n), uuid.UUID(int=200 + n)
        provider = PROVIDERS[v["agency"]]
        conn.execute("INSERT INTO dim_caregiver (caregiver_id, app_caregiver_id, provider_id, ssn) VALUES (%s, %s, %s, %s)",
                     (caregiver, n + 1, provider, v["ssn"]))
        conn.execute("INSERT INTO dim_patient (patient_id, provider_id) VALUES (%s, %s)", (patient, provider))
        if v["home"]:
            conn.execute("INSERT INTO dim_patient_address (patient_address_id, patient_id, zip_code, latitude, longitude,"
                         " created_at) VALUES (%s, %s, %s, %s, %s, %s)", (uuid.uuid4(), patient, *v["home"], DAY))
        conn.execute(
            "INSERT INTO fact_visit (visit_id, app_visit_id, provider_id, caregiver_id, patient_id, visit_date, "
            "scheduled_start_time, scheduled_end_time, visit_start_time, visit_end_time, call_in_gps, call_out_gps, "
            "is_missed, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (uuid.UUID(int=1000 + n), n + 1, provider, caregiver, patient, DAY.date(), *v["sch"], *v["act"], *v["gps"],
             v["kind"] == "M", DAY))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(group=st.lists(visits(), min_size=2, max_size=4).map(_both_agencies), min_ov=st.sampled_from([1, 1, 15]))
def test_tiny_groups_match_the_reference(pipeline, group, min_ov):
    conn, config = pipeline
    _reset(conn)
    _insert(conn, group, min_ov)
    task_01(conn, config, AS_OF)
    task_02(conn, config)
    rows = open_rows(conn)
    event(f"flags: {sorted({f for _, flags, _ in rows.values() for f in flags}) or 'none'}")
    wanted = reference(load_raw(conn), Cfg(window=window(AS_OF), min_ov=min_ov))
    assert same_as_reference(rows, wanted) == []

    for (a, b), (_, flags, derived) in rows.items():
        assert len(flags) == 1
        assert rows[(b, a)][1:] == (flags, derived)  # symmetric: same flag and numbers both ways
        assert set(flags) <= set(FLAGS)

    before = projection(conn)
    task_01(conn, config, AS_OF)
    again = task_02(conn, config)
    assert (again["rows_upserted"], again["rows_resolved"]) == (0, 0)
    assert projection(conn) == before

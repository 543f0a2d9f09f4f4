"""Injected scenarios S1-S9 (a known conflict) and N1-N7 (a known non-conflict), A8's table.

On a scenario day the person's visits are exactly the injected ones, with exact times (no
noise, no faults), so each expected flag depends on the pair alone. Each injection adds a
manifest entry (scenario, visit_id_a, visit_id_b, expected_flag, needs_event_rules).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid

from cm_pipeline import geo
from cm_pipeline.generator.visits import CONFIRMED, MISSED, PARTIAL, UNCONFIRMED, VisitFactory
from cm_pipeline.generator.world import Person, World, new_uuid, zip_of, METROS

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
EXPECTED = {"S1": "SameSchTimeFlag", "S2": "SameVisitTimeFlag", "S3": "SchAndVisitTimeSameFlag",
            "S4": "SchOverAnotherSchTimeFlag", "S5": "VisitTimeOverAnotherVisitTimeFlag",
            "S6": "SchTimeOverVisitTimeFlag", "S7": "DistanceFlag", "S8": "InServiceFlag", "S9": "PTOFlag"}
PAST = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "N1", "N2", "N3", "N4", "N5", "N6", "N7")
FUTURE = ("S1", "S4")


def event_id(kind: str, source_id: str) -> str:
    """md5('I'||id)::uuid / md5('P'||id)::uuid, as Task 01 names event pseudo-visits."""
    return str(uuid.UUID(hashlib.md5((kind + source_id).encode()).hexdigest()))


class Scenarios:
    def __init__(self, world: World, factory: VisitFactory, dates: list[dt.date]):
        self.world = world
        self.factory = factory
        self.dates = dates
        self.manifest: list[dict] = []
        self.as_of = world.params.as_of

    def wants(self, g, person: Person, date: dt.date) -> bool:
        eligible = len(person.agencies) >= 2 and person.ssn_ok and not person.shared
        return eligible and g.random() < self.world.params.p_conflict

    def inject(self, g, person: Person, date: dt.date, name: str | None = None) -> None:
        choices = FUTURE if date > self.as_of else PAST
        name = name or choices[int(g.integers(len(choices)))]
        if name == "N6" and date + dt.timedelta(days=1) > self.dates[-1]:
            name = "S5"
        if name in ("S8", "S9") and person.has_absence:
            name = "S5"
        a_prov, b_prov = (int(x) for x in g.choice(person.agencies, 2, replace=False))
        t0 = dt.datetime.combine(date, dt.time(8)) + 15 * M * int(g.integers(0, 9))
        getattr(self, "_" + name.lower())(g, person, date, a_prov, b_prov, t0, name)

    def flush_pending(self, g, date: dt.date) -> None:
        """Nothing is deferred today (kept as the hook for multi-day scenarios)."""

    # -- helpers -------------------------------------------------------------------------------

    def _patient(self, g, provider: int):
        patients = self.world.providers[provider].patients
        return self.world.patients[patients[int(g.integers(len(patients)))]]

    def _visit(self, g, person, provider, date, sch, kind, act=None, patient=None):
        v = self.factory.new(g, person, provider, patient or self._patient(g, provider), date, sch, kind,
                             act if act is not None else (sch if kind == CONFIRMED else None), exact=True)
        if kind == PARTIAL:
            v.act = (sch[0], None)
        self.factory.emit(g, v, self.as_of)
        return v

    def _record(self, name: str, a, b_id: str, flag: str | None = None, events: bool = False) -> None:
        self.manifest.append({"scenario": name, "visit_id_a": a.id, "visit_id_b": b_id,
                              "expected_flag": flag if flag is not None else EXPECTED.get(name),
                              "needs_event_rules": events, "visit_date": a.date})

    def _pair(self, g, name, person, date, a_prov, b_prov, a_sch, a_kind, b_sch, b_kind, a_act=None, b_act=None,
              b_patient=None):
        a = self._visit(g, person, a_prov, date, a_sch, a_kind, a_act)
        b = self._visit(g, person, b_prov, date, b_sch, b_kind, b_act, b_patient)
        self._record(name, a, b.id)
        return a, b

    # -- positives -----------------------------------------------------------------------------

    def _s1(self, g, person, date, a_prov, b_prov, t0, name):
        self._pair(g, name, person, date, a_prov, b_prov, (t0, t0 + 2 * H), UNCONFIRMED, (t0, t0 + 2 * H), UNCONFIRMED)

    def _s2(self, g, person, date, a_prov, b_prov, t0, name):
        self._pair(g, name, person, date, a_prov, b_prov, (t0, t0 + 2 * H), CONFIRMED, (t0, t0 + 2 * H), CONFIRMED)

    def _s3(self, g, person, date, a_prov, b_prov, t0, name):
        act = (t0, t0 + 2 * H)
        self._pair(g, name, person, date, a_prov, b_prov, act, UNCONFIRMED, (t0 + 15 * M, t0 + 135 * M), CONFIRMED,
                   b_act=act)

    def _overlapping(self, g, t0, low: int, contain: bool = False):
        k = int(g.integers(low, 121))
        if contain:
            return (t0, t0 + 4 * H), (t0 + 30 * M, t0 + 30 * M + k * M)
        a = (t0, t0 + 3 * H)
        return a, (a[1] - k * M, a[1] - k * M + 135 * M)

    def _s4(self, g, person, date, a_prov, b_prov, t0, name):
        a, b = self._overlapping(g, t0, 15)
        self._pair(g, name, person, date, a_prov, b_prov, a, UNCONFIRMED, b, UNCONFIRMED)

    def _s5(self, g, person, date, a_prov, b_prov, t0, name):
        a, b = self._overlapping(g, t0, 1, contain=g.random() < 0.3)
        self._pair(g, name, person, date, a_prov, b_prov, a, CONFIRMED, b, CONFIRMED)

    def _s6(self, g, person, date, a_prov, b_prov, t0, name):
        a, b = self._overlapping(g, t0, 1)
        self._pair(g, name, person, date, a_prov, b_prov, a, UNCONFIRMED, b, CONFIRMED)

    def _s7(self, g, person, date, a_prov, b_prov, t0, name):
        a_patient = self._patient(g, a_prov)
        miles = float(g.uniform(15, 40))
        b_patient = self._placed(g, b_prov, a_patient, miles, other_zip=True)
        gap = int(g.integers(5, 31))
        low = min(self._eta(a_patient, b_patient, d) for d in (-0.2, 0, 0.2))
        assert low >= gap + 1, "S7 must not be a knife-edge"
        a_sch = (t0, t0 + 2 * H)
        b_sch = (a_sch[1] + gap * M, a_sch[1] + gap * M + 2 * H)
        a = self._visit(g, person, a_prov, date, a_sch, CONFIRMED, patient=a_patient)
        b = self._visit(g, person, b_prov, date, b_sch, CONFIRMED, patient=b_patient)
        self._record(name, a, b.id)

    def _s8(self, g, person, date, a_prov, b_prov, t0, name):
        a = self._visit(g, person, a_prov, date, (t0, t0 + 2 * H), CONFIRMED)
        source = new_uuid(g)
        self.world.rows["fact_caregiver_inservice"].append(
            (source, person.caregivers[b_prov], self.world.providers[b_prov].id, t0 + 30 * M, t0 + 90 * M, "Infection control"))
        self._record(name, a, event_id("I", source), events=True)

    def _s9(self, g, person, date, a_prov, b_prov, t0, name):
        a = self._visit(g, person, a_prov, date, (t0, t0 + 2 * H), CONFIRMED)
        source = new_uuid(g)
        start = date - dt.timedelta(days=int(g.integers(0, 3)))
        end = date + dt.timedelta(days=int(g.integers(0, 3)))
        self.world.rows["fact_caregiver_absence"].append(
            (source, person.caregivers[b_prov], self.world.providers[b_prov].id, start, end,
             ("PTO", "Vacation")[int(g.integers(2))]))
        person.has_absence = True
        self._record(name, a, event_id("P", source), events=True)

    # -- negatives -----------------------------------------------------------------------------

    def _n1(self, g, person, date, a_prov, b_prov, t0, name):
        a_patient = self._placed(g, a_prov, self._patient(g, a_prov), 0.01, same_zip=True)
        b_patient = self._placed(g, b_prov, a_patient, 0.05, same_zip=True)
        a = self._visit(g, person, a_prov, date, (t0, t0 + 2 * H), CONFIRMED, patient=a_patient)
        b = self._visit(g, person, b_prov, date, (t0 + 2 * H, t0 + 4 * H), CONFIRMED, patient=b_patient)
        self._record(name, a, b.id)

    def _n2(self, g, person, date, a_prov, b_prov, t0, name):
        a_patient = self._patient(g, a_prov)
        b_patient = self._placed(g, b_prov, a_patient, float(g.uniform(1, 10)))
        high = max(self._eta(a_patient, b_patient, d) for d in (-0.2, 0, 0.2))
        gap = 15 * math.ceil((high + 30) / 15)
        a = self._visit(g, person, a_prov, date, (t0, t0 + 2 * H), CONFIRMED, patient=a_patient)
        start = t0 + 2 * H + gap * M
        b = self._visit(g, person, b_prov, date, (start, start + 2 * H), CONFIRMED, patient=b_patient)
        self._record(name, a, b.id)

    def _n3(self, g, person, date, a_prov, b_prov, t0, name):
        a, b = self._overlapping(g, t0, 15)
        self._pair(g, name, person, date, a_prov, a_prov, a, CONFIRMED, b, CONFIRMED)

    def _n4(self, g, person, date, a_prov, b_prov, t0, name):
        a, b = self._overlapping(g, t0, 15)
        self._pair(g, name, person, date, a_prov, b_prov, a, CONFIRMED, b, MISSED)

    def _n5(self, g, person, date, a_prov, b_prov, t0, name):
        a, b = self._overlapping(g, t0, 15)
        self._pair(g, name, person, date, a_prov, b_prov, a, CONFIRMED, b, PARTIAL)

    def _n6(self, g, person, date, a_prov, b_prov, t0, name):
        night = dt.datetime.combine(date, dt.time(22))
        a = self._visit(g, person, a_prov, date, (night, night + 8 * H), CONFIRMED)
        morning = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(5))
        b = self._visit(g, person, b_prov, date + dt.timedelta(days=1), (morning, morning + 4 * H), CONFIRMED)
        self._record(name, a, b.id)

    def _n7(self, g, person, date, a_prov, b_prov, t0, name):
        special = [p.idx for p in self.world.providers if p.special]
        x = special[int(g.integers(len(special)))]
        if x not in person.caregivers:
            self.world.add_caregiver(g, person, x)
        a, b = self._overlapping(g, t0, 15)
        self._pair(g, name, person, date, a_prov, x, a, CONFIRMED, b, CONFIRMED)

    # -- geometry ------------------------------------------------------------------------------

    def _placed(self, g, provider: int, near, miles: float, other_zip=False, same_zip=False):
        """A new patient of ``provider`` about ``miles`` from ``near`` (ZIP as asked)."""
        bearing = float(g.uniform(0, 2 * math.pi))
        km = miles * 1.60934
        dx, dy = near.dx + km * math.sin(bearing), near.dy + km * math.cos(bearing)
        zip_code = near.zip if same_zip else zip_of(dx, dy, METROS[near.metro][3])
        if other_zip and zip_code == near.zip:
            zip_code = zip_code[:-1] + str((int(zip_code[-1]) + 5) % 10)
        return self.world.add_patient(g, provider, dx, dy, zip_code, metro=near.metro, gps=True)

    @staticmethod
    def _eta(a, b, delta_miles: float) -> float:
        dist = geo.pg_round2(max(0.0, geo.haversine_mi((a.lat, a.lon), (b.lat, b.lon)) + delta_miles))
        return float(geo.eta_minutes(dist, geo.band(dist)))

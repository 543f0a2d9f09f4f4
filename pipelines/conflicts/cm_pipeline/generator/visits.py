"""Visit rows: each caregiver-workday laid out without conflicts (A8 "Daily schedule"), EVV
actual times with noise, devices and GPS, and the data-quality faults."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from cm_pipeline import geo
from cm_pipeline.generator.world import Patient, Person, World, new_uuid

MIN = dt.timedelta(minutes=1)
CONFIRMED, UNCONFIRMED, MISSED, PARTIAL = "confirmed", "unconfirmed", "missed", "partial"


@dataclass
class Visit:
    """One visit before it becomes a fact_visit row."""

    id: str
    person: Person
    provider: int
    patient: Patient
    date: dt.date
    sch: tuple[dt.datetime | None, dt.datetime | None]
    kind: str
    act: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
    exact: bool = False  # injected scenario visit: exact times, no faults, Mobile GPS
    device: str | None = None
    gps: tuple[str | None, str | None] = (None, None)


class VisitFactory:
    """Turns laid-out visits into fact_visit rows (with noise and faults unless exact)."""

    def __init__(self, world: World):
        self.world = world
        self.app_visit = 10_000_000
        self.rows: list[tuple] = []
        self.exact_ids: set[str] = set()

    def new(self, g, person, provider, patient, date, sch, kind, act=None, exact=False) -> Visit:
        return Visit(new_uuid(g), person, provider, patient, date, sch, kind, act or (None, None), exact)

    def emit(self, g, v: Visit, today: dt.date) -> None:
        if not v.exact:
            self._actuals(g, v)
        self._device(g, v)
        if not v.exact:
            self._faults(g, v)
        else:
            self.exact_ids.add(v.id)
        self.rows.append(self._row(g, v, today))

    # -- EVV ---------------------------------------------------------------------------------

    def _actuals(self, g, v: Visit) -> None:
        if v.kind in (UNCONFIRMED, MISSED):
            v.act = (None, None)
            return
        start = v.sch[0] + _noise(g) + dt.timedelta(seconds=int(g.integers(60)))
        end = v.sch[1] + _noise(g) + dt.timedelta(seconds=int(g.integers(60)))
        if g.random() < 0.03:  # edited by the office: confirmed times set to the schedule
            start, end = v.sch
        v.act = (start, None if v.kind == PARTIAL else end)

    def _device(self, g, v: Visit) -> None:
        if v.act[0] is None:
            return
        r = g.random() if not v.exact else 0.0
        v.device = "Mobile" if r < 0.85 else "IVR" if r < 0.95 else ("FOB" if r < 0.975 else "Manual")
        if v.device != "Mobile":
            return
        home = (v.patient.lat, v.patient.lon)
        v.gps = (_gps_text(g, home), _gps_text(g, home) if v.act[1] is not None else None)

    def _faults(self, g, v: Visit) -> None:
        f = self.world.params.faults
        if v.device == "Mobile":
            r = g.random()
            if r < f.gps_missing:
                v.gps = tuple(_bad_gps(g, text) for text in v.gps)
            elif r < f.gps_missing + f.gps_far:
                far = _offset((v.patient.lat, v.patient.lon), float(g.uniform(5, 50)), float(g.uniform(0, 6.28)))
                v.gps = (f"{far[0]:.6f},{far[1]:.6f}", v.gps[1])
            elif r < f.gps_missing + f.gps_far + f.gps_zero:
                v.gps = ("0,0", v.gps[1])
        r = g.random()
        if r < f.end_before_start:
            if v.act[1] is not None and g.random() < 0.5:
                v.act = (v.act[0], v.act[0] - 30 * MIN)
            elif v.sch[0] is not None:
                v.sch = (v.sch[0], v.sch[0] - 30 * MIN)
        elif r < f.end_before_start + f.null_schedule:
            v.sch = (None, v.sch[1]) if g.random() < 0.5 else (v.sch[0], None)

    def _row(self, g, v: Visit, today: dt.date) -> tuple:
        self.app_visit += 1
        provider = self.world.providers[v.provider]
        office = provider.offices[int(g.integers(len(provider.offices)))]
        payer = self.world.payers[int(g.integers(len(self.world.payers)))]
        code = self.world.service_codes[int(g.integers(len(self.world.service_codes)))]
        missed = v.kind == MISSED
        billed = "yes" if v.act[1] is not None and v.date < today - dt.timedelta(days=2) and g.random() < 0.7 else "no"
        hours = round((v.sch[1] - v.sch[0]).total_seconds() / 3600, 2) if None not in v.sch else None
        rate = round(float(g.uniform(18, 32)), 2)
        updated = dt.datetime.combine(min(v.date, today), dt.time(23, 0)) + dt.timedelta(seconds=int(g.integers(3600)))
        return (v.id, self.app_visit, provider.id, office, v.person.caregivers[v.provider], v.patient.id, payer, code,
                v.date, v.sch[0], v.sch[1], v.act[0], v.act[1], v.act[0], v.act[1], v.gps[0], v.gps[1], v.device,
                missed, "Caregiver no-show" if missed else None, billed,
                updated if billed == "yes" else None, hours if billed == "yes" else None, rate, rate,
                round(hours * rate, 2) if billed == "yes" and hours else None, updated, "generator")


def duplicate_of(g, row: tuple) -> tuple:
    """An older version of a visit row (same visit_id, earlier updated_at, other times)."""
    shifted = [t - 30 * MIN if isinstance(t, dt.datetime) else t for t in row[9:15]]
    return row[:9] + tuple(shifted) + row[15:26] + (row[26] - dt.timedelta(days=int(g.integers(1, 5))), "import")


def _noise(g) -> dt.timedelta:
    minutes = float(min(25.0, max(-25.0, g.normal(0, 5))))
    return dt.timedelta(minutes=round(minutes))


def _offset(p: tuple[float, float], km: float, bearing: float) -> tuple[float, float]:
    lat = p[0] + km * math.cos(bearing) / 111.0
    lon = p[1] + km * math.sin(bearing) / (111.0 * math.cos(math.radians(p[0])))
    return lat, lon


def _gps_text(g, home: tuple[float, float]) -> str:
    lat = home[0] + float(g.normal(0, 30)) / 111_000
    lon = home[1] + float(g.normal(0, 30)) / (111_000 * math.cos(math.radians(home[0])))
    return f"{lat:.6f},{lon:.6f}"


def _bad_gps(g, text: str | None) -> str | None:
    if text is None:
        return None
    choice = int(g.integers(5))
    return (None, "", ",", f'"{text}"', text.replace(",", ", "))[choice]


def eta_between(a: Patient, b: Patient) -> float:
    """Minutes of travel between two patients' homes (same bands as the pipeline)."""
    return float(geo.travel((a.lat, a.lon), (b.lat, b.lon))[2])

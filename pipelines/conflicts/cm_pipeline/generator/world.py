"""The people and places of a generated data set: agencies, payers, caregivers (persons with one
caregiver row per employing agency), patients and their addresses (domain spec A8)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field

import numpy as np

from cm_pipeline.generator.params import (
    STREAM_PATIENTS, STREAM_PERSONS, STREAM_PROVIDERS, GenParams, rng,
)

METROS = (  # name, state, centre, ZIP prefixes
    ("New York", "NY", (40.7128, -74.0060), ("100", "101", "102", "103", "104")),
    ("Philadelphia", "PA", (39.9526, -75.1652), ("191",)),
    ("Chicago", "IL", (41.8781, -87.6298), ("606",)),
    ("Houston", "TX", (29.7604, -95.3698), ("770",)),
)
FIRST = ("Maria", "James", "Ana", "John", "Grace", "Luis", "Fatima", "Wei", "Olga", "Kwame", "Rosa", "David",
         "Aisha", "Ivan", "Mei", "Carlos", "Nora", "Samuel", "Leila", "Tomas")
LAST = ("Garcia", "Smith", "Nguyen", "Johnson", "Rodriguez", "Brown", "Kim", "Lopez", "Okafor", "Cohen",
        "Patel", "Rivera", "Ivanova", "Chen", "Williams", "Diaz", "Haddad", "Silva", "Moore", "Kowalski")
SERVICE_CODES = (("T1019", "Personal care services, per 15 minutes", "15Min"),
                 ("S5125", "Attendant care services, per 15 minutes", "15Min"),
                 ("G0156", "Home health aide, per 15 minutes", "15Min"),
                 ("S5130", "Homemaker service, per 15 minutes", "15Min"),
                 ("T1020", "Personal care services, per diem", "Daily"),
                 ("S9122", "Home health aide, per hour", "Hourly"))
SPECIAL = ("excluded", "demo", "inactive")  # agencies whose visits Task 01 rejects (scenario N7)
KM_PER_DEG = 111.0


def new_uuid(g) -> str:
    """A version-4 UUID from the stream's bytes."""
    h = g.bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


@dataclass
class Provider:
    idx: int
    id: str
    metro: int
    special: str | None = None
    offices: list[str] = field(default_factory=list)
    patients: list[int] = field(default_factory=list)


@dataclass
class Person:
    idx: int
    metro: int
    ssn: str
    agencies: list[int]
    caregivers: dict[int, str] = field(default_factory=dict)  # provider idx -> caregiver_id
    ssn_ok: bool = True
    shared: bool = False
    has_absence: bool = False


@dataclass
class Patient:
    idx: int
    id: str
    provider: int
    metro: int
    dx: float  # km east of the metro centre
    dy: float  # km north
    zip: str
    lat: float
    lon: float


class World:
    """Everything but the visits; rows for the dimension tables accumulate in ``rows``."""

    def __init__(self, params: GenParams):
        self.params = params
        self.rows: dict[str, list[tuple]] = {k: [] for k in (
            "dim_provider", "dim_office", "dim_payer", "dim_service_code", "dim_caregiver", "dim_patient",
            "dim_patient_address", "fact_caregiver_inservice", "fact_caregiver_absence", "fact_visit_deleted")}
        self.excluded_agencies: list[tuple[str, str]] = []
        self.providers: list[Provider] = []
        self.persons: list[Person] = []
        self.patients: list[Patient] = []
        self.payers: list[str | None] = []
        self.service_codes: list[str] = []
        self._app_caregiver = 500_000
        self._app_patient = 700_000
        self._build()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        g = rng(self.params.seed, STREAM_PROVIDERS)
        self._payers_and_codes(g)
        n_metros = max(1, min(len(METROS), self.params.n_providers // 3))
        for i in range(self.params.n_providers):
            self._provider(g, i % n_metros, None)
        for kind in SPECIAL:
            self._provider(g, 0, kind)
        self._patients(rng(self.params.seed, STREAM_PATIENTS))
        self._persons(rng(self.params.seed, STREAM_PERSONS), n_metros)

    def _payers_and_codes(self, g) -> None:
        names = ["State Medicaid FFS"] + [f"MCO {c} Health Plan" for c in "ABCDEF"]
        for i, name in enumerate(names):
            pid = new_uuid(g)
            self.rows["dim_payer"].append((pid, 9000 + i, name, "NY", True, False))
            self.payers.append(pid)
        self.payers.append(None)  # private pay
        for code, description, rate in SERVICE_CODES:
            sid = new_uuid(g)
            self.rows["dim_service_code"].append((sid, code, description, rate))
            self.service_codes.append(sid)

    def _provider(self, g, metro: int, special: str | None) -> Provider:
        idx = len(self.providers)
        p = Provider(idx, new_uuid(g), metro, special)
        name = f"{LAST[idx % len(LAST)]} Home Care {idx}" + (f" ({special})" if special else "")
        tax = f"{g.integers(10**8, 10**9):09d}"
        self.rows["dim_provider"].append((p.id, 1000 + idx, name, tax, f"555-{idx:04d}", METROS[metro][1],
                                          special != "inactive", special == "demo"))
        for k in range(int(g.integers(1, 4))):
            oid = new_uuid(g)
            p.offices.append(oid)
            self.rows["dim_office"].append((oid, 2000 + idx * 10 + k, p.id, f"{name} office {k}", True))
        if special == "excluded":
            self.excluded_agencies.append((p.id, name))
        self.providers.append(p)
        return p

    def _patients(self, g) -> None:
        per_provider = max(3, round(1.5 * self.params.n_persons / self.params.n_providers))
        for p in self.providers:
            for _ in range(per_provider if p.special is None else 3):
                self.add_patient(g, p.idx, *self._home_offset(g))

    def _home_offset(self, g) -> tuple[float, float]:
        dx, dy = g.normal(0, 8.0, 2)
        r = math.hypot(dx, dy)
        if r > 40:
            dx, dy = dx * 40 / r, dy * 40 / r
        return float(dx), float(dy)

    def add_patient(self, g, provider: int, dx: float, dy: float, zip_code: str | None = None,
                    metro: int | None = None, gps: bool = False) -> Patient:
        """A patient of ``provider`` living ``dx``/``dy`` km from the centre of its (or ``metro``'s) metro."""
        metro = self.providers[provider].metro if metro is None else metro
        (clat, clon), prefixes = METROS[metro][2], METROS[metro][3]
        lat = clat + dy / KM_PER_DEG
        lon = clon + dx / (KM_PER_DEG * math.cos(math.radians(clat)))
        zip_code = zip_code or zip_of(dx, dy, prefixes)
        pt = Patient(len(self.patients), new_uuid(g), provider, metro, dx, dy, zip_code, lat, lon)
        self.patients.append(pt)
        self.providers[provider].patients.append(pt.idx)
        self._app_patient += 1
        first, last = FIRST[int(g.integers(len(FIRST)))], LAST[int(g.integers(len(LAST)))]
        self.rows["dim_patient"].append((pt.id, self._app_patient, self.providers[provider].id, f"ADM{self._app_patient}",
                                         first, last, f"MC{self._app_patient:08d}", "Active"))
        self._addresses(g, pt, gps)
        return pt

    def _addresses(self, g, pt: Patient, gps: bool = False) -> None:
        created = dt.datetime(2020, 1, 1) + dt.timedelta(days=int(g.integers(0, 1500)))
        state = METROS[pt.metro][1]
        r = max(g.random(), 0.5) if gps else g.random()
        if r < 0.03:  # no GPS address: the pipeline falls back to nothing for this patient
            self.rows["dim_patient_address"].append((new_uuid(g), pt.id, "1 Main St", None, METROS[pt.metro][0], state,
                                                     pt.zip, None, None, None, True, "Mailing", created))
            return
        if r < 0.15:  # an older primary GPS address elsewhere: the latest one must win
            old = created - dt.timedelta(days=int(g.integers(30, 900)))
            self.rows["dim_patient_address"].append((new_uuid(g), pt.id, "9 Old Rd", None, METROS[pt.metro][0], state,
                                                     pt.zip, None, pt.lat + 0.05, pt.lon - 0.05, True, "GPS", old))
        self.rows["dim_patient_address"].append((new_uuid(g), pt.id, f"{pt.idx % 997 + 1} Elm St", None,
                                                 METROS[pt.metro][0], state, pt.zip, None, pt.lat, pt.lon, True,
                                                 "GPS", created))

    def _persons(self, g, n_metros: int) -> None:
        regular = [p for p in self.providers if p.special is None]
        by_metro = [[p.idx for p in regular if p.metro == m] for m in range(n_metros)]
        used_ssns: set[str] = {"999999999"}
        for i in range(self.params.n_persons):
            metro = int(g.integers(n_metros))
            r = g.random()
            k = 1 if r < 0.85 else 2 if r < 0.97 else 3
            pool = by_metro[metro] if len(by_metro[metro]) >= k else [p.idx for p in regular]
            agencies = [int(a) for a in g.choice(pool, size=min(k, len(pool)), replace=False)]
            ssn = _new_ssn(g, used_ssns)
            person = Person(i, metro, ssn, agencies)
            self.persons.append(person)
        self._share_ssns(g)
        for person in self.persons:
            for provider in person.agencies:
                self.add_caregiver(g, person, provider)

    def _share_ssns(self, g) -> None:
        """0.1% of SSNs are used by two different persons at different agencies (fraud case)."""
        n = int(round(self.params.n_persons * self.params.shared_ssn_rate))
        for _ in range(n):
            a, b = (int(x) for x in g.choice(len(self.persons), 2, replace=False))
            pa, pb = self.persons[a], self.persons[b]
            if set(pa.agencies) & set(pb.agencies) or pa.shared or pb.shared:
                continue
            pb.ssn, pa.shared, pb.shared = pa.ssn, True, True

    def add_caregiver(self, g, person: Person, provider: int) -> str:
        """One caregiver row for ``person`` at ``provider``; SSN formatting faults per row."""
        cid = new_uuid(g)
        person.caregivers[provider] = cid
        raw, ok = self._ssn_format(g, person.ssn)
        person.ssn_ok = person.ssn_ok and ok
        self._app_caregiver += 1
        first, last = FIRST[person.idx % len(FIRST)], LAST[(person.idx // len(FIRST)) % len(LAST)]
        self.rows["dim_caregiver"].append((cid, self._app_caregiver, self.providers[provider].id,
                                           f"CG{self._app_caregiver}", first, last, raw, "Active"))
        return cid

    def _ssn_format(self, g, ssn: str) -> tuple[str | None, bool]:
        f = self.params.faults
        dashed = f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}"
        r = g.random()
        edges = list(np.cumsum([f.ssn_empty, f.ssn_placeholder, f.ssn_no_dashes, f.ssn_whitespace]))
        if r < edges[0]:
            return (None if g.random() < 0.5 else ""), False
        if r < edges[1]:
            return ("000-00-0000" if g.random() < 0.5 else "999-99-9999"), False
        if r < edges[2]:
            return ssn, True
        if r < edges[3]:
            return f" {dashed} ", True
        return dashed, True


def zip_of(dx: float, dy: float, prefixes: tuple[str, ...]) -> str:
    """Prefix + the 2-digit code of the ~5 km grid cell (nearby patients share ZIPs)."""
    cx, cy = math.floor(dx / 5), math.floor(dy / 5)
    prefix = prefixes[(cx + cy) % len(prefixes)]
    return f"{prefix}{(cx % 10) * 10 + (cy % 10):02d}"


def _new_ssn(g, used: set[str]) -> str:
    """Area 900-999: never issued by the SSA, so no real SSN can appear (A8)."""
    while True:
        ssn = f"{int(g.integers(900, 1000)):03d}{int(g.integers(1, 100)):02d}{int(g.integers(1, 10000)):04d}"
        if ssn not in used:
            used.add(ssn)
            return ssn

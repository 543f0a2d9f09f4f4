"""The independent brute-force reference (domain spec A9): plain Python over the raw generated
rows (not the staging table), so it checks Task 01 too. Per (VisitDate, SSN) group it tries all
ordered pairs. The only SQL is plain ``SELECT`` of the source and configuration tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from cm_pipeline import geo

NUM = r"[+-]?[0-9]{1,3}(\.[0-9]{1,20})?"
GPS = re.compile(NUM + "," + NUM)


def stable_id(s: str) -> int:
    return int(hashlib.md5(s.encode()).hexdigest()[:16], 16) & (2**63 - 1)


def event_uuid(kind: str, source: str) -> str:
    h = hashlib.md5((kind + source).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class Cfg:
    window: tuple[dt.date, dt.date]
    min_ov: int = 1
    extra: float = 1.0
    bands: tuple = geo.DEFAULT_BANDS
    event_rules: bool = False


@dataclass
class V:
    visit_id: str
    visit_date: dt.date
    ssn: str
    provider_id: str
    mode: str
    is_missed: bool
    is_deleted: bool
    iv: tuple  # effective interval: schedule for S, actual for A
    act: tuple
    in_gps: tuple | None
    out_gps: tuple | None
    home: tuple | None
    zip: str | None


def _minute(t):
    return t.replace(second=0, microsecond=0) if t is not None else None


def parse_gps(text):
    if text is None:
        return None
    clean = text.replace('"', "").replace(" ", "")
    if not GPS.fullmatch(clean):
        return None
    lat, lon = (float(x) for x in clean.split(","))
    if abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        return None
    return (lat, lon)


def digits(ssn) -> str:
    return "".join(ch for ch in (ssn or "") if "0" <= ch <= "9")


def load_raw(conn) -> dict:
    """The raw source rows and configuration, by table."""
    def rows(text):
        cur = conn.execute(text)
        names = [c.name for c in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    return {
        "visits": rows("SELECT * FROM fact_visit"), "caregivers": rows("SELECT * FROM dim_caregiver"),
        "providers": rows("SELECT * FROM dim_provider"), "addresses": rows("SELECT * FROM dim_patient_address"),
        "deleted": rows("SELECT visit_id FROM fact_visit_deleted"),
        "inservice": rows("SELECT * FROM fact_caregiver_inservice"), "absence": rows("SELECT * FROM fact_caregiver_absence"),
        "excluded_ssn": rows('SELECT "SSN" FROM excluded_ssn'), "excluded_agency": rows('SELECT "ProviderID" FROM excluded_agency'),
    }


def normalise(raw: dict, cfg: Cfg) -> tuple[list[V], dict, dict]:
    """(staged visits, caregiver id -> ssn or None, provider id -> ok)."""
    excluded = {r["SSN"] for r in raw["excluded_ssn"]}
    ssn_of = {}
    for c in raw["caregivers"]:
        d = digits(c["ssn"])
        ssn_of[str(c["caregiver_id"])] = d if len(d) == 9 and d not in excluded else None
    bad_agency = {str(r["ProviderID"]) for r in raw["excluded_agency"]}
    ok_provider = {str(p["provider_id"]): p["is_active"] and not p["is_demo"] and str(p["provider_id"]) not in bad_agency
                   for p in raw["providers"]}
    homes = {}
    for a in raw["addresses"]:
        if a["is_primary"] and "GPS" in a["address_type"]:
            key = (a["created_at"], str(a["patient_address_id"]))
            pid = str(a["patient_id"])
            if pid not in homes or key > homes[pid][0]:
                homes[pid] = (key, a)
    latest = {}
    for v in raw["visits"]:
        vid = str(v["visit_id"])
        if vid not in latest or (v["updated_at"], v["row_id"]) > (latest[vid]["updated_at"], latest[vid]["row_id"]):
            latest[vid] = v
    deleted = {str(r["visit_id"]) for r in raw["deleted"]}
    staged = []
    for vid, v in latest.items():
        ssn = ssn_of.get(str(v["caregiver_id"]))
        if not (cfg.window[0] <= v["visit_date"] <= cfg.window[1]) or ssn is None \
                or not ok_provider.get(str(v["provider_id"]), False):
            continue
        staged.append(_visit(vid, v, ssn, homes.get(str(v["patient_id"])), vid in deleted))
    return staged, ssn_of, ok_provider


def _visit(vid, v, ssn, home_row, deleted) -> V:
    ss, se, vs, ve = (_minute(v[k]) for k in ("scheduled_start_time", "scheduled_end_time", "visit_start_time", "visit_end_time"))
    if vs is not None and ve is not None:
        mode = "A" if ve > vs else "X"
    elif vs is None and ve is None:
        mode = "S" if ss is not None and se is not None and se > ss else "X"
    else:
        mode = "P"
    home, zip_code = None, None
    if home_row is not None:
        a = home_row[1]
        zip_code = a["zip_code"]
        if a["latitude"] is not None and a["longitude"] is not None:
            home = (a["latitude"], a["longitude"])
    return V(vid, v["visit_date"], ssn, str(v["provider_id"]), mode, v["is_missed"], deleted,
             (ss, se) if mode == "S" else (vs, ve), (vs, ve), parse_gps(v["call_in_gps"]), parse_gps(v["call_out_gps"]),
             home, zip_code)


def _mins(t0, t1) -> float:
    return (t1 - t0).total_seconds() / 60


def pair(a: V, b: V, cfg: Cfg) -> tuple[dict, dict]:
    """Flags and derived numbers of the ordered pair (a, b) (A4.4)."""
    flags, d = {}, {}
    same = a.iv == b.iv
    ov = _mins(max(a.iv[0], b.iv[0]), min(a.iv[1], b.iv[1]))
    d["OverlapMinutes"] = max(int(ov), 0)
    modes = a.mode + b.mode
    family = {"SS": ("SameSchTimeFlag", "SchOverAnotherSchTimeFlag"), "AA": ("SameVisitTimeFlag", "VisitTimeOverAnotherVisitTimeFlag")}
    same_flag, over_flag = family.get(modes, ("SchAndVisitTimeSameFlag", "SchTimeOverVisitTimeFlag"))
    if same:
        flags[same_flag] = "Y"
    elif ov >= cfg.min_ov:
        flags[over_flag] = "Y"
    elif modes == "AA":
        first, second = sorted((a, b), key=lambda v: (v.iv[0], v.iv[1], v.visit_id))
        gap = _mins(first.iv[1], second.iv[0])
        d["MinuteDiffBetweenSch"] = Decimal(str(gap))
        src = first.out_gps or first.in_gps or first.home
        dst = second.in_gps or second.out_gps or second.home
        if src and dst:
            dist, mph, eta = geo.travel(src, dst, cfg.extra, cfg.bands)
            d.update(DistanceMilesFromLatLng=dist, AverageMilesPerHour=mph, ETATravelMinutes=eta)
            zip_differs = first.zip is None or second.zip is None or first.zip != second.zip
            if zip_differs and eta > Decimal(str(gap)):
                flags["DistanceFlag"] = "Y"
    return flags, d


def reference(raw: dict, cfg: Cfg) -> dict:
    """{(VisitID, ConVisitID): (CONFLICTID, flags, derived)} of every conflicting ordered pair."""
    staged, ssn_of, ok_provider = normalise(raw, cfg)
    groups = defaultdict(list)
    for v in staged:
        if v.mode in "AS" and not v.is_missed and not v.is_deleted:
            groups[(v.visit_date, v.ssn)].append(v)
    out = {}
    for vs in groups.values():
        for a in vs:
            for b in vs:
                if a.visit_id == b.visit_id or a.provider_id == b.provider_id:
                    continue
                flags, derived = pair(a, b, cfg)
                if flags:
                    out[(a.visit_id, b.visit_id)] = (stable_id(a.visit_id), flags, derived)
    if cfg.event_rules:
        _events(out, groups, raw, cfg, ssn_of, ok_provider)
    return out


def _events(out, groups, raw, cfg, ssn_of, ok_provider) -> None:
    events = []
    for r in raw["inservice"]:
        events.append(("I", str(r["inservice_id"]), str(r["caregiver_id"]), str(r["provider_id"]),
                       _minute(r["start_time"]), _minute(r["end_time"]), r["start_time"].date(), r["end_time"].date()))
    for r in raw["absence"]:
        events.append(("P", str(r["absence_id"]), str(r["caregiver_id"]), str(r["provider_id"]), None, None,
                       r["start_date"], r["end_date"]))
    by_ssn = defaultdict(list)
    for kind, sid, cg, prov, s, e, d0, d1 in events:
        ssn = ssn_of.get(cg)
        if ssn and ok_provider.get(prov, False) and d1 >= cfg.window[0] and d0 <= cfg.window[1]:
            by_ssn[ssn].append((kind, event_uuid(kind, sid), prov, s, e, d0, d1))
    for vs in groups.values():
        for a in vs:
            if a.mode != "A":
                continue
            for kind, eid, prov, s, e, d0, d1 in by_ssn.get(a.ssn, ()):
                if prov == a.provider_id:
                    continue
                if kind == "I":
                    ov = _mins(max(a.act[0], s), min(a.act[1], e))
                    if ov < cfg.min_ov:
                        continue
                    derived = {"OverlapMinutes": max(int(ov), 0)}
                else:
                    if not (a.act[0].date() <= d1 and a.act[1].date() >= d0):
                        continue
                    if any(k == "P" and p == a.provider_id and a.act[0].date() <= y1 and a.act[1].date() >= y0
                           for k, _, p, _, _, y0, y1 in by_ssn[a.ssn]):
                        continue
                    derived = {}
                flag = {"InServiceFlag" if kind == "I" else "PTOFlag": "Y"}
                out[(a.visit_id, eid)] = (stable_id(a.visit_id), flag, derived)
                out[(eid, a.visit_id)] = (stable_id(eid), flag, derived)

"""Generator settings; the same (seed, params) always gives the same rows."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class Faults:
    """Data-quality fault rates (of visits, or of caregiver rows for SSN formats)."""

    end_before_start: float = 0.005
    null_schedule: float = 0.002
    duplicate: float = 0.002
    ssn_no_dashes: float = 0.10
    ssn_whitespace: float = 0.02
    ssn_empty: float = 0.002
    ssn_placeholder: float = 0.001
    gps_missing: float = 0.05
    gps_far: float = 0.01
    gps_zero: float = 0.003
    deleted: float = 0.005


@dataclass(frozen=True)
class GenParams:
    n_visits: int = 1000
    seed: int = 1
    as_of: dt.date = dt.date(2025, 6, 15)
    days: int | None = None
    p_conflict: float = 0.15
    shared_ssn_rate: float = 0.001
    boundary_pairs: int = 2
    faults: Faults = field(default_factory=Faults)

    @property
    def n_days(self) -> int:
        if self.days:
            return self.days
        return 7 if self.n_visits <= 10_000 else 30 if self.n_visits <= 1_000_000 else 90

    @property
    def n_persons(self) -> int:
        return max(4, round(self.n_visits / (1.4 * self.n_days)))

    @property
    def n_providers(self) -> int:
        return max(3, self.n_persons // 150)

    def dates(self) -> list[dt.date]:
        past = round(self.n_days * 0.75)
        return [self.as_of + dt.timedelta(days=i - past) for i in range(self.n_days)]

    def key(self) -> str:
        """Identifies the data set: a second run with the same key reuses what is there."""
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return json.dumps(data, sort_keys=True)


def rng(seed: int, stream: int, index: int = 0) -> "Draws":
    """One independent generator per entity family and per day (A8 Determinism)."""
    return Draws(np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, index]))))


class Draws:
    """A PCG64 stream drawn in vectorised blocks and handed out one value at a time.

    numpy's per-call overhead (~1-5 us) dominated a row-at-a-time generator; drawing 4096
    values per call keeps the same seeded source and determinism at a fraction of the cost.
    """

    BLOCK = 4096

    def __init__(self, gen: np.random.Generator):
        self.gen = gen
        self._u: list[float] = []
        self._n: list[float] = []
        self._b = b""
        self._bi = 0

    def random(self) -> float:
        if not self._u:
            self._u = self.gen.random(self.BLOCK).tolist()
        return self._u.pop()

    def integers(self, low: int, high: int | None = None) -> int:
        if high is None:
            low, high = 0, low
        return low + min(int(self.random() * (high - low)), high - low - 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def normal(self, mu: float = 0.0, sigma: float = 1.0, size: int | None = None):
        if size is not None:
            return [self.normal(mu, sigma) for _ in range(size)]
        if not self._n:
            self._n = self.gen.standard_normal(self.BLOCK).tolist()
        return mu + sigma * self._n.pop()

    def bytes(self, n: int) -> bytes:
        if self._bi + n > len(self._b):
            self._b, self._bi = self._b[self._bi:] + self.gen.bytes(16 * self.BLOCK), 0
        out = self._b[self._bi:self._bi + n]
        self._bi += n
        return out

    def choice(self, items, size: int, replace: bool = False) -> list:
        pool = list(range(items)) if isinstance(items, int) else list(items)
        out = []
        for _ in range(size):
            out.append(pool.pop(self.integers(len(pool))) if not replace else pool[self.integers(len(pool))])
        return out


STREAM_PROVIDERS, STREAM_PERSONS, STREAM_PATIENTS, STREAM_DAY, STREAM_BOUNDARY = 1, 2, 3, 100, 99

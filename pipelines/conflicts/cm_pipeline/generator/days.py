"""One day at a time: baseline schedules per caregiver-workday and the injected scenarios."""

from __future__ import annotations

import datetime as dt
import math

from cm_pipeline.generator.params import STREAM_DAY, rng
from cm_pipeline.generator.scenarios import Scenarios
from cm_pipeline.generator.visits import CONFIRMED, MIN, MISSED, PARTIAL, UNCONFIRMED, VisitFactory, eta_between
from cm_pipeline.generator.world import Person, World

LONG_HOURS = (4, 6, 8, 10, 12)
GRID = 15  # minutes


class DayPlanner:
    """Lays out every person's visits for one date and hands them to the factory."""

    def __init__(self, world: World, factory: VisitFactory, scenarios: Scenarios):
        self.world = world
        self.factory = factory
        self.scenarios = scenarios
        self.as_of = world.params.as_of

    def day(self, index: int, date: dt.date) -> None:
        g = rng(self.world.params.seed, STREAM_DAY, index)
        for person in self.world.persons:
            if g.random() >= 0.7:
                continue
            if self.scenarios.wants(g, person, date):
                self.scenarios.inject(g, person, date)
                continue
            for v in self.baseline(g, person, date):
                self.factory.emit(g, v, self.as_of)
        self.scenarios.flush_pending(g, date)

    def baseline(self, g, person: Person, date: dt.date) -> list:
        """A conflict-free day: consecutive visits separated by travel time + 15 min."""
        durations, overnight = self._durations(g)
        start_minute = self._first_start(g, durations, overnight)
        t = dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=start_minute)
        out, previous = [], None
        for minutes in durations:
            provider = person.agencies[int(g.integers(len(person.agencies)))]
            patients = self.world.providers[provider].patients
            patient = self.world.patients[patients[int(g.integers(len(patients)))]]
            if previous is not None:
                gap = eta_between(previous.patient, patient) + 15
                t = previous.sch[1] + dt.timedelta(minutes=GRID * math.ceil(gap / GRID))
                if t.date() != date or t.hour >= 21:
                    break
            sch = (t, t + dt.timedelta(minutes=minutes))
            previous = self.factory.new(g, person, provider, patient, date, sch, self._kind(g, date))
            out.append(previous)
        return out

    def _durations(self, g) -> tuple[list[int], bool]:
        r = g.random()
        if r < 0.40:
            return [60 * LONG_HOURS[int(g.integers(len(LONG_HOURS)))]], g.random() < 0.03
        if r < 0.85:
            return [int(g.integers(4, 9)) * 30 for _ in range(int(g.integers(2, 4)))], False
        return [60] * int(g.integers(4, 7)), False

    def _first_start(self, g, durations: list[int], overnight: bool) -> int:
        if overnight:
            return 60 * 20 + GRID * int(g.integers(0, 9))  # 20:00-22:00, ends the next day
        latest = max(6 * 60, min(20 * 60, 23 * 60 - sum(durations)))
        return 6 * 60 + GRID * int(g.integers(0, (latest - 6 * 60) // GRID + 1))

    def _kind(self, g, date: dt.date) -> str:
        if date > self.as_of or (date == self.as_of and g.random() < 0.5):
            return UNCONFIRMED
        r = g.random()
        return CONFIRMED if r < 0.92 else MISSED if r < 0.97 else PARTIAL


__all__ = ["DayPlanner", "CONFIRMED", "UNCONFIRMED", "MISSED", "PARTIAL", "MIN"]

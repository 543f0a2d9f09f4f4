"""Time as a parameter: the engine asks a clock for ``now`` and for due times.

``time_scale`` multiplies every duration the engine waits for (Wait, Retry backoff, timeouts):
1 is real time, 0.01 is a hundred times faster, 0 is instant. Timestamps in history stay on the
clock's own time line.
"""

from __future__ import annotations

import time


class Clock:
    """Real time, optionally scaled."""

    virtual = False  # True for clocks whose time only moves when a timer fires

    def __init__(self, time_scale: float = 1.0):
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.time_scale = time_scale

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def due_in(self, seconds: float) -> float:
        """The clock time at which a wait of ``seconds`` (scaled) ends."""
        return self.now() + max(0.0, seconds) * self.time_scale

    def timeout_due(self, seconds: float) -> float | None:
        """When a timeout of ``seconds`` expires; None at time scale 0, where timeouts are not
        enforced (work takes real time, so a zero-length timeout would fail every task)."""
        if self.time_scale == 0:
            return None
        return self.now() + max(0.0, seconds) * self.time_scale

    def due_at(self, timestamp: float) -> float:
        """The clock time at which a wait until ``timestamp`` (scaled) ends."""
        now = self.now()
        return now + max(0.0, timestamp - now) * self.time_scale


class FakeClock(Clock):
    """Virtual time: ``now`` moves only when advanced or when a timer fires (it jumps to the
    timer's due time), so waits of hours take no time and timestamps are reproducible."""

    virtual = True

    def __init__(self, start: float = 1_700_000_000.0, time_scale: float = 1.0):
        super().__init__(time_scale)
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = max(self._now, when)

"""Great-circle distance and travel time exactly as the SQL computes them (domain spec A4.4, A9)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

EARTH_RADIUS_M = 6371000
METRES_PER_MILE = 1609.34
DEFAULT_BANDS = (  # (From, To or None, mph): half-open [From, To), conflict.mph defaults
    (Decimal("0"), Decimal("2"), Decimal("2.00")), (Decimal("2"), Decimal("5"), Decimal("6.00")),
    (Decimal("5"), Decimal("10"), Decimal("15.00")), (Decimal("10"), Decimal("25"), Decimal("25.00")),
    (Decimal("25"), Decimal("50"), Decimal("45.00")), (Decimal("50"), Decimal("100"), Decimal("55.00")),
    (Decimal("100"), None, Decimal("60.00")),
)
CENT = Decimal("0.01")


def haversine_mi(p: tuple[float, float], q: tuple[float, float], extra: float = 1.0) -> float:
    """Miles between two (lat, lon) points, times ``extra`` (same operation order as the SQL)."""
    (la1, lo1), (la2, lo2) = p, q
    h = (math.sin(math.radians((la2 - la1) / 2)) ** 2
         + math.cos(math.radians(la1)) * math.cos(math.radians(la2))
         * math.sin(math.radians((lo2 - lo1) / 2)) ** 2)
    return EARTH_RADIUS_M * 2 * math.asin(math.sqrt(h)) / METRES_PER_MILE * extra


def pg_round2(x: float) -> Decimal:
    """``ROUND(x::numeric, 2)`` for a float8 x (float8 -> numeric keeps 15 significant digits)."""
    return Decimal(format(x, ".15g")).quantize(CENT, rounding=ROUND_HALF_UP)


def band(dist: Decimal, bands=DEFAULT_BANDS) -> Decimal:
    """The mph of the half-open band holding ``dist``."""
    for low, high, mph in bands:
        if low <= dist and (high is None or dist < high):
            return mph
    raise ValueError(f"no speed band holds {dist} miles")


def eta_minutes(dist: Decimal, mph: Decimal) -> Decimal:
    """``ROUND(dist / mph * 60, 2)`` in numeric arithmetic."""
    return (dist / mph * 60).quantize(CENT, rounding=ROUND_HALF_UP)


def travel(p, q, extra: float = 1.0, bands=DEFAULT_BANDS) -> tuple[Decimal, Decimal, Decimal]:
    """(distance miles, mph, eta minutes) between two points."""
    dist = pg_round2(haversine_mi(p, q, extra))
    mph = band(dist, bands)
    return dist, mph, eta_minutes(dist, mph)

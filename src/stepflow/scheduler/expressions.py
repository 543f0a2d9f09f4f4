"""EventBridge schedule expressions: ``cron(...)``, ``rate(...)`` and ``at(...)``.

EventBridge cron has six fields, ``minutes hours day-of-month month day-of-week year``, with
``?`` in one of the two day fields, day-of-week numbered 1-7 from Sunday, and ``L``, ``W``, ``#``.
Matching is done by ``croniter`` (a well-kept cron library); this module only translates
EventBridge's dialect to croniter's five fields (day names instead of numbers, ``?`` as ``*``)
and applies the year field itself, because croniter has no year field and numbers Sunday 0.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter

_DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MAX_YEARS_AHEAD = 200


class ScheduleExpressionError(ValueError):
    """An expression EventBridge would refuse; the message says why, in its terms."""


@dataclass(frozen=True)
class Schedule:
    """A parsed expression: ``next_after(t)`` is the first fire time strictly after ``t``."""

    text: str
    kind: str  # cron, rate, at
    timezone: str = "UTC"
    _cron: str | None = None
    _years: frozenset | None = None
    _every: int = 0
    _at: dt.datetime | None = None

    def next_after(self, moment: dt.datetime) -> dt.datetime | None:
        """Next fire time after ``moment`` (an aware datetime), in UTC; None when there is none."""
        moment = moment.astimezone(dt.timezone.utc)
        if self.kind == "rate":
            return moment + dt.timedelta(seconds=self._every)
        if self.kind == "at":
            return self._at if self._at > moment else None
        return self._next_cron(moment)

    def _next_cron(self, moment: dt.datetime) -> dt.datetime | None:
        zone = ZoneInfo(self.timezone)
        it = croniter(self._cron, moment.astimezone(zone))
        for _ in range(10000):
            candidate = it.get_next(dt.datetime)
            if candidate.year - moment.year > _MAX_YEARS_AHEAD:
                return None
            if self._years is None or candidate.year in self._years:
                return candidate.astimezone(dt.timezone.utc)
        return None


def parse(text: str, timezone: str | None = None) -> Schedule:
    """Parse an EventBridge schedule expression (``ScheduleExpressionTimezone`` optional)."""
    text = text.strip()
    zone = timezone or "UTC"
    try:
        ZoneInfo(zone)
    except Exception:
        raise ScheduleExpressionError(f"Invalid ScheduleExpressionTimezone: {zone}") from None
    if match := _RATE.match(text):
        return _rate(text, int(match.group(1)), match.group(2))
    if match := _AT.match(text):
        at = dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=ZoneInfo(zone)).astimezone(dt.timezone.utc)
        return Schedule(text, "at", zone, _at=at)
    if match := _CRON.match(text):
        cron, years = _translate_cron(match.group(1))
        return Schedule(text, "cron", zone, _cron=cron, _years=years)
    raise ScheduleExpressionError(f"Parameter ScheduleExpression is not valid: {text}")


def _rate(text: str, value: int, unit: str) -> Schedule:
    singular = unit.rstrip("s")
    if value < 1:
        raise ScheduleExpressionError(f"Parameter ScheduleExpression is not valid: {text} (the value must be positive)")
    if (value == 1) != (unit == singular):
        raise ScheduleExpressionError(f"Parameter ScheduleExpression is not valid: {text} (use '1 {singular}' or 'N {singular}s')")
    return Schedule(text, "rate", _every=value * _UNIT_SECONDS[singular])


def _translate_cron(body: str) -> tuple[str, frozenset | None]:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(f"Parameter ScheduleExpression is not valid: cron({body}) needs 6 fields")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(
            f"Parameter ScheduleExpression is not valid: cron({body}): use '?' in exactly one of day-of-month and day-of-week"
        )
    cron = " ".join([minutes, hours, "*" if dom == "?" else dom, month, "*" if dow == "?" else _day_names(dow)])
    if not croniter.is_valid(cron):
        raise ScheduleExpressionError(f"Parameter ScheduleExpression is not valid: cron({body})")
    return cron, _years(year, body)


def _day_names(field: str) -> str:
    """EventBridge numbers days 1 (SUN) to 7 (SAT); name them so croniter cannot misread."""
    return re.sub(r"(?<![#\d])([1-7])(?![\d])", lambda m: _DAY_NAMES[int(m.group(1)) - 1], field)


def _years(field: str, body: str) -> frozenset | None:
    if field == "*":
        return None
    years: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if "-" in part:
            low, high = (int(x) for x in part.split("-", 1))
        elif part == "*":
            low, high = 1970, 2199
        else:
            low = high = int(part)
        if not 1970 <= low <= high <= 2199:
            raise ScheduleExpressionError(f"Parameter ScheduleExpression is not valid: cron({body}): year {part}")
        years.update(range(low, high + 1, step))
    return frozenset(years)

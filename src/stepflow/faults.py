"""Named fault points for crash tests: ``STEPFLOW_FAULTS="store.commit.after:3"`` makes the
process kill itself with SIGKILL the 3rd time it reaches that point.

Points: ``store.commit.before`` (a transition computed, not yet committed),
``store.commit.after`` (committed, its tasks and timers not yet started),
``task.result.before_commit`` (a task finished, its result not yet recorded).
Unset, a point costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

_COUNTS: dict[str, int] = {}


def _parse(spec: str) -> dict[str, int]:
    points = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition(":")
        points[name] = int(count or 1)
    return points


_ARMED = _parse(os.environ.get("STEPFLOW_FAULTS", ""))


def hit(point: str) -> None:
    """Count a pass through ``point``; die at the armed count."""
    if not _ARMED or point not in _ARMED:
        return
    _COUNTS[point] = _COUNTS.get(point, 0) + 1
    if _COUNTS[point] == _ARMED[point]:
        os.kill(os.getpid(), signal.SIGKILL)

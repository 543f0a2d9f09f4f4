"""Retry and Catch as pure decisions (DESIGN.md §7.4).

``retry_decision`` and ``catch_decision`` look at the state's retriers/catchers, the error, and the
attempts already made, and return what to do; they never touch an execution.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from stepflow.asl.model import Catcher, Retrier
from stepflow.errors import ALL, RUNTIME, TASK_FAILED, TIMEOUT

# Errors that end the execution whatever the Retry/Catch say (States.ALL does not match them).
UNCATCHABLE = frozenset({RUNTIME})


def error_matches(error_equals: tuple[str, ...], error: str) -> bool:
    """Does a retrier/catcher's ErrorEquals list match this error name?

    ``States.ALL`` matches every error but States.Runtime; ``States.TaskFailed`` matches every
    error but States.Timeout (and States.Runtime), as the States Language specification says.
    """
    if error in UNCATCHABLE:
        return False
    for name in error_equals:
        if name == error:
            return True
        if name == ALL:
            return True
        if name == TASK_FAILED and error != TIMEOUT:
            return True
    return False


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Retry after ``delay`` seconds, counting against retrier ``index``."""

    index: int
    delay: float


def retry_decision(
    retriers: tuple[Retrier, ...],
    error: str,
    attempts: list[int] | None,
    rng: random.Random | None = None,
) -> RetryDecision | None:
    """The retry to make for this error, or None when the state must catch or fail.

    The first retrier whose ErrorEquals matches decides; when its MaxAttempts are used up the
    error goes to Catch (later retriers are not consulted, as in AWS).
    """
    found = _retrier_for(retriers, error, attempts)
    if found is None:
        return None
    index, done = found
    return RetryDecision(index, backoff_delay(retriers[index], done, rng))


def will_retry(retriers: tuple[Retrier, ...], error: str, attempts: list[int] | None) -> bool:
    """Would :func:`retry_decision` retry this error? (Draws no jitter.)"""
    return _retrier_for(retriers, error, attempts) is not None


def _retrier_for(retriers, error: str, attempts: list[int] | None) -> tuple[int, int] | None:
    """(index, attempts made) of the first retrier matching the error, if it has attempts left."""
    for index, retrier in enumerate(retriers or ()):
        if not error_matches(retrier.error_equals, error):
            continue
        done = attempts[index] if attempts and index < len(attempts) else 0
        return (index, done) if done < retrier.max_attempts else None
    return None


def backoff_delay(retrier: Retrier, done: int, rng: random.Random | None = None) -> float:
    """IntervalSeconds x BackoffRate^done, capped by MaxDelaySeconds, with optional FULL jitter."""
    delay = retrier.interval_seconds * (retrier.backoff_rate**done)
    if retrier.max_delay_seconds is not None:
        delay = min(delay, retrier.max_delay_seconds)
    if retrier.jitter_strategy == "FULL":
        delay = (rng or random).uniform(0, delay)
    return float(delay)


def catch_decision(catchers: tuple[Catcher, ...], error: str) -> Catcher | None:
    """The first catcher whose ErrorEquals matches, or None."""
    for catcher in catchers:
        if error_matches(catcher.error_equals, error):
            return catcher
    return None

"""How many Lambda execution environments exist, and who may use which.

:class:`EnvironmentPool` hands out *grants*: a warm idle :class:`Environment` of the function
(the most recently used one, so a small set stays warm and the rest age out), or
:data:`START`, a reserved slot in which the caller starts a new environment (a cold start).
Two bounds apply:

* per function, ``ReservedConcurrentExecutions``: at most that many environments of the
  function are busy (invoking or starting) at once;
* overall, ``max_environments``: when it is reached, a function that needs a new environment
  takes the slot of the least recently used idle environment of another function (evicted),
  or waits.

An invocation that cannot be granted waits in FIFO order. AWS would answer it at once with
``TooManyRequestsException`` (which Step Functions surfaces as ``Lambda.TooManyRequestsException``
and the retry policy AWS recommends for Lambda tasks retries); locally the bound is this
machine's capacity, so waiting gives the same end result without making a run depend on
timing. A reserved concurrency of 0 is the exception: it can never run, so it throttles.

Waiting is cross-thread and loop-agnostic: a waiter is a ``deliver(grant)`` callable (an
asyncio future's loop or a threading Event) called outside the lock. Idle environments older
than ``idle_seconds`` are closed by a daemon reaper thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from stepflow.integrations.lambda_environment import Environment, sweep_orphan_folders
from stepflow.sam import FunctionSpec

START = "start"  # the grant "start a new environment in the slot reserved for you"
CLOSED = "closed"  # the grant given to waiters when the pool shuts down

Grant = Environment | str
Deliver = Callable[[Grant], None]


@dataclass(slots=True)
class _Function:
    idle: list[Environment] = field(default_factory=list)  # oldest first
    busy: int = 0  # environments in use or starting


@dataclass(slots=True)
class _Waiter:
    spec: FunctionSpec
    deliver: Deliver


class EnvironmentPool:
    """Counts and idle lists of every function's environments (thread-safe)."""

    def __init__(self, max_environments: int, idle_seconds: float):
        self.max_environments = max_environments
        self.idle_seconds = idle_seconds
        self.live: set[Environment] = set()  # every environment not yet closed
        self.closed = False
        self._lock = threading.Lock()
        self._functions: dict[str, _Function] = {}
        self._total = 0  # environments alive or being started (slots taken)
        self._waiters: deque[_Waiter] = deque()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    # -- taking and giving back -------------------------------------------------------------

    def take(self, spec: FunctionSpec, deliver: Deliver) -> Grant | None:
        """A grant now, or None: ``deliver`` will be called with one later."""
        with self._lock:
            if self.closed:
                return CLOSED
            grant, victim = self._take_locked(spec)
            if grant is None:
                self._waiters.append(_Waiter(spec, deliver))
        self._close([victim])
        return grant

    def forget(self, deliver: Deliver) -> bool:
        """Withdraw a waiter; False when it was already granted (its grant must be given back)."""
        with self._lock:
            for waiter in self._waiters:
                if waiter.deliver is deliver:
                    self._waiters.remove(waiter)
                    return True
        return False

    def give_back(self, spec: FunctionSpec, grant: Grant, keep: bool = True) -> None:
        """Return a grant: a warm environment goes idle (if ``keep``), a slot is freed."""
        env = grant if isinstance(grant, Environment) else None
        with self._lock:
            state = self._functions[spec.name]
            state.busy -= 1
            if env is not None and keep and not self.closed and env.alive:
                env.last_used = time.monotonic()
                state.idle.append(env)
                env = None
            else:
                self._total -= 1
            woken = self._wake_locked()
        self._close([env] + [victim for _, _, victim in woken])
        for waiter, granted, _ in woken:
            waiter.deliver(granted)

    def started(self, env: Environment) -> None:
        """Record a new environment (so that shutdown can find it)."""
        with self._lock:
            self.live.add(env)
            if self._reaper is None and self.idle_seconds > 0:
                self._reaper = threading.Thread(target=self._reap_loop, daemon=True, name="stepflow-lambda-reaper")
                self._reaper.start()
                threading.Thread(target=sweep_orphan_folders, daemon=True, name="stepflow-lambda-sweep").start()

    def _close(self, envs: list[Environment | None]) -> None:
        """Close environments that will not be used again (outside the lock: kills take time)."""
        for env in envs:
            if env is not None:
                with self._lock:
                    self.live.discard(env)
                env.close()

    # -- the rules ----------------------------------------------------------------------------

    def _take_locked(self, spec: FunctionSpec) -> tuple[Grant | None, Environment | None]:
        state = self._functions.setdefault(spec.name, _Function())
        if state.idle:
            state.busy += 1
            return state.idle.pop(), None
        if spec.reserved_concurrency is not None and state.busy >= spec.reserved_concurrency:
            return None, None
        if self._total < self.max_environments:
            self._total += 1
            state.busy += 1
            return START, None
        victim = self._evict_locked()
        if victim is None:
            return None, None
        state.busy += 1
        return START, victim

    def _evict_locked(self) -> Environment | None:
        """Take the least recently used idle environment of any function (its slot is reused)."""
        candidates = [s for s in self._functions.values() if s.idle]
        if not candidates:
            return None
        state = min(candidates, key=lambda s: s.idle[0].last_used)
        return state.idle.pop(0)

    def _wake_locked(self) -> list[tuple[_Waiter, Grant, Environment | None]]:
        woken = []
        for waiter in list(self._waiters):
            grant, victim = self._take_locked(waiter.spec)
            if grant is not None:
                self._waiters.remove(waiter)
                woken.append((waiter, grant, victim))
        return woken

    # -- ageing and shutdown ------------------------------------------------------------------

    def _reap_loop(self) -> None:
        interval = max(0.05, min(self.idle_seconds / 4, 30.0))
        while not self._stop.wait(interval):
            self.reap()

    def reap(self, now: float | None = None) -> int:
        """Close idle environments unused for ``idle_seconds``; how many were closed."""
        limit = (time.monotonic() if now is None else now) - self.idle_seconds
        with self._lock:
            old = [env for state in self._functions.values() for env in state.idle if env.last_used <= limit]
            for state in self._functions.values():
                state.idle = [env for env in state.idle if env.last_used > limit]
            self._total -= len(old)
        self._close(old)
        return len(old)

    def shutdown(self) -> None:
        """Close idle environments, kill busy ones (their threads close them), fail waiters."""
        with self._lock:
            self.closed = True
            idle = [env for state in self._functions.values() for env in state.idle]
            for state in self._functions.values():
                state.idle.clear()
            busy = [env for env in self.live if env not in idle]
            waiters = list(self._waiters)
            self._waiters.clear()
        self._stop.set()
        self._close(idle)
        for env in busy:  # their invoking threads close them; at interpreter exit they may not run
            env.kill()
            env.remove_folder()
        for waiter in waiters:
            waiter.deliver(CLOSED)

    def counts(self, name: str) -> tuple[int, int]:
        """(idle, busy) environments of a function, for tests and diagnostics."""
        with self._lock:
            state = self._functions.get(name) or _Function()
            return len(state.idle), state.busy

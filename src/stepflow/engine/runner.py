"""The runner: drives executions on an asyncio event loop.

It calls the interpreter, persists each call's progress through the journal (the store), and
carries out the commands: tasks run as asyncio tasks through the TaskExecutor, timers are loop
callbacks. Everything that touches an Execution happens on the loop's thread.

Group commit: the progress of every interpreter call made during one turn of the event loop
is committed in ONE transaction (``Journal.commit_many``) by :meth:`Runner.flush`, scheduled
once per turn; only then are its commands carried out (tasks started, timers set, waiters
told). An API action that changes an execution calls :meth:`Runner.before_reply`, so nothing
acknowledged to a client is ever uncommitted: it flushes at once, unless its caller (the HTTP
API) awaits :meth:`Runner.synced` before replying; then the actions of concurrent requests
share one transaction too. StartExecution's new row joins that transaction
(:meth:`Runner.start_new`); a reply whose commit failed, or whose new execution the store
refused, is an error instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import logging
from collections.abc import Callable, Collection
from typing import Protocol

from stepflow import faults
from stepflow.asl.model import StateMachine
from stepflow.engine.interpreter import (
    CancelTask,
    Interpreter,
    Progress,
    RunTask,
    StartTimer,
)
from stepflow.engine.snapshot import Execution
from stepflow.engine.tasks import TaskExecutor, TaskRequest, TaskResult
from stepflow.errors import TASK_FAILED, ExecutionDropped

log = logging.getLogger("stepflow.runner")

# Set (True) by an API caller that awaits Runner.synced() before it sends its reply (the HTTP
# API): before_reply() then leaves the commit to this loop turn's group flush.
REPLY_AWAITS_COMMIT: contextvars.ContextVar[bool] = contextvars.ContextVar("stepflow_reply_awaits_commit", default=False)
# The executions an API request started (Runner.start_new) whose reply waits for the group flush:
# Runner.synced() checks that the store took them.
_STARTS_IN_REQUEST: contextvars.ContextVar[list | None] = contextvars.ContextVar("stepflow_starts_in_request", default=None)
_CLEAN_CONTEXT = contextvars.Context()  # the flush (and the tasks it starts) run outside any request's context


def _only_waits(frame) -> bool:
    """A task that computes nothing itself: a callback task (waits for SendTask*), or a nested
    execution run by this same runner (``states:startExecution.sync``), whose own timers move
    virtual time."""
    wait = frame.wait if frame is not None else None
    if wait is None:
        return False
    return bool(wait.get("task_token")) or ":states:::states:startExecution.sync" in wait.get("resource", "")


class Journal(Protocol):
    """Where the runner records progress: the store's write side."""

    def commit(self, exe: Execution, progress: Progress) -> None:  # pragma: no cover - protocol
        """Persist, in one transaction, the frames, events and status one interpreter call changed."""
        ...

    def commit_many(self, batch: list[tuple[Execution, Progress]]) -> list[Execution]:  # pragma: no cover - protocol
        """Persist several interpreter calls in one transaction; the executions it refused."""
        ...

    def discard(self, exe: Execution) -> None:  # pragma: no cover - protocol
        """Forget a new execution that will never be committed (its start failed)."""
        ...


class Runner:
    """Runs many executions concurrently on one event loop."""

    def __init__(
        self,
        interpreter: Interpreter,
        tasks: TaskExecutor,
        journal: Journal,
        machine_for: Callable[[Execution], StateMachine],
    ):
        self.ix = interpreter
        self.tasks = tasks
        self.journal = journal
        self.machine_for = machine_for
        self.active: dict[str, Execution] = {}
        self._running: dict[tuple[str, str], asyncio.Task] = {}  # (arn, step) -> the task running it
        self._timers: dict[int, tuple[Execution, dict[int, asyncio.TimerHandle]]] = {}  # id(exe) -> its pending timers
        self._done: dict[str, list[asyncio.Future]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._virtual: list = []  # (due, seq, exe, StartTimer) heap, for a virtual clock
        self._virtual_seq = itertools.count()
        self._ticking = False
        self._batch: list[tuple[Execution, Progress]] = []  # computed, not yet committed
        self._flush_handle: asyncio.Handle | None = None  # the flush scheduled for this turn
        self._synced: asyncio.Future | None = None  # resolved by the flush of the current batch
        self._new: dict[int, bool | Exception | None] = {}  # id(exe) -> stored? (start_new)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    # entry points (call on the loop thread) ------------------------------------------------

    def start(self, exe: Execution) -> None:
        """Start a new execution (created in the store, or to be written by its first commit:
        ``Store.create_execution(exe, with_first_commit=True)``). If the interpreter raises,
        the execution is forgotten, here and by the store (nothing of it is committed)."""
        self.active[exe.arn] = exe
        try:
            machine = self.machine_for(exe)
            progress = self.ix.start(exe, machine)
        except BaseException:
            if self.active.get(exe.arn) is exe:
                del self.active[exe.arn]
            self.journal.discard(exe)
            raise
        self._apply(exe, machine, progress)

    def resume(self, exe: Execution) -> None:
        """Continue an execution loaded from the store after a restart."""
        self.active[exe.arn] = exe
        machine = self.machine_for(exe)
        self._apply(exe, machine, self.ix.resume(exe, machine))

    def redrive(self, exe: Execution) -> None:
        """Run a FAILED, TIMED_OUT or ABORTED execution (loaded with its frames) again."""
        self.active[exe.arn] = exe
        machine = self.machine_for(exe)
        self._apply(exe, machine, self.ix.redrive(exe, machine))

    def changed(self, exe: Execution, *keys: str) -> None:
        """An API action changed frames of an active execution itself (UpdateMapRun sets a running
        Map's limits): commit them with the next group commit, as an interpreter call's (the
        action then calls :meth:`before_reply`)."""
        if self._live(exe):
            self._apply(exe, self.machine_for(exe), Progress(dirty=set(keys), first_event=len(exe.events)))

    def stop(self, exe: Execution, error: str | None = None, cause: str | None = None) -> None:
        machine = self.machine_for(exe)
        self._apply(exe, machine, self.ix.stop(exe, machine, error, cause))

    async def wait(self, arn: str) -> Execution:
        """Wait until an active execution reaches a terminal status. Raises
        :class:`~stepflow.errors.ExecutionDropped` if this process stops running it first (a
        commit of its progress failed or was refused), KeyError if it is not active."""
        exe = self.active.get(arn)
        if exe is None:
            raise KeyError(arn)
        future = self.loop.create_future()
        self._done.setdefault(arn, []).append(future)
        return await future

    # applying progress ---------------------------------------------------------------------

    def _apply(self, exe: Execution, machine: StateMachine, progress: Progress) -> None:
        """Queue an interpreter call's progress for the next group commit."""
        self._batch.append((exe, progress))
        if self._flush_handle is None:
            try:
                self._flush_handle = self.loop.call_soon(self.flush, context=_CLEAN_CONTEXT)
            except RuntimeError:  # no running event loop (a synchronous caller): commit now
                self.flush()

    def flush(self) -> Exception | None:
        """Commit every queued transition in one transaction, then carry out their commands.
        Idempotent: with nothing queued it does nothing. Returns the store's error when the
        commit failed (nothing of the batch is persisted; the replies waiting for it get it)."""
        if self._flush_handle is not None:  # called early: the scheduled one would flush a later turn's work too soon
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._batch = self._batch, []
        synced, self._synced = self._synced, None
        failure = None
        try:
            if batch:
                refused, failure = self._commit(batch)
                if self._new:
                    self._note_new(batch, refused, failure)
                self._settle(batch, refused, failure)
        finally:  # the replies waiting for this commit go out even if acting on it failed
            if synced is not None and not synced.done():
                if failure is None:
                    synced.set_result(None)
                else:
                    synced.set_exception(failure)
        return failure

    def _settle(self, batch: list[tuple[Execution, Progress]], refused: set[int], failure: Exception | None) -> None:
        for exe, progress in batch:
            if id(exe) in refused:
                self._forget(exe, failure)
            else:
                self._carry_out(exe, progress)

    def before_reply(self) -> None:
        """What an API action that changed an execution calls before it replies: commit now,
        unless the caller awaits :meth:`synced` before sending the reply (REPLY_AWAITS_COMMIT).
        Raises the store's error if that commit failed: the change must not be acknowledged."""
        if not REPLY_AWAITS_COMMIT.get():
            failure = self.flush()
            if failure is not None:
                raise failure

    async def synced(self) -> None:
        """Wait until every transition queued so far is committed (the group flush of this turn).
        Raises the store's error if that commit failed, and the refusal of an execution this
        request started (:meth:`start_new`) that the store did not take."""
        waiting = _STARTS_IN_REQUEST.get()
        if waiting:
            _STARTS_IN_REQUEST.set(None)
        try:
            if self._batch:
                if self._synced is None:
                    self._synced = self.loop.create_future()
                await self._synced
        finally:
            outcomes = [(self._new.pop(key, None), refused) for key, refused in waiting or ()]
        for outcome, refused in outcomes:
            _unless_stored(outcome, refused)

    def start_new(self, exe: Execution, reply: dict, refused: Callable[[], Exception]) -> dict:
        """Start an execution whose row its first commit writes (``Store.create_execution(exe,
        with_first_commit=True)``), for an API action: :meth:`start`, :meth:`before_reply`, and
        ``reply`` once that commit took ``exe``; ``refused()`` is raised if the store refused it
        (another process created that ARN first), the store's error if the commit failed. Under
        REPLY_AWAITS_COMMIT the reply is returned at once and :meth:`synced` raises instead."""
        key = id(exe)
        self._new[key] = None
        try:
            self.start(exe)
            self.before_reply()
        except BaseException:
            self._new.pop(key, None)
            raise
        if REPLY_AWAITS_COMMIT.get():
            waiting = _STARTS_IN_REQUEST.get()
            if waiting is None:
                waiting = []
                _STARTS_IN_REQUEST.set(waiting)
            waiting.append((key, refused))
        else:  # before_reply flushed
            _unless_stored(self._new.pop(key, None), refused)
        return reply

    def _note_new(self, batch: list[tuple[Execution, Progress]], refused: set[int], failure: Exception | None) -> None:
        """What became of the executions whose creation a reply waits for (start_new)."""
        for exe, _ in batch:
            key = id(exe)
            if key in self._new and self._new[key] is None:
                self._new[key] = failure if failure is not None else key not in refused

    def _commit(self, batch: list[tuple[Execution, Progress]]) -> tuple[set[int], Exception | None]:
        """One transaction for the batch: the ids of the executions that were not persisted, and
        the store's error if the commit failed."""
        faults.hit("store.commit.before")
        try:
            refused = self.journal.commit_many(batch)
        except Exception as failure:
            # Not persisted (the store failed): this process must not act on transitions it
            # could not record. Drop them; they continue from the store (resume, adoption).
            log.exception("could not commit %d transitions; no longer running their executions here", len(batch))
            return {id(exe) for exe, _ in batch}, failure
        faults.hit("store.commit.after")
        for exe in refused:  # another process owns it now: its owner continues
            log.error("could not commit %s (another process committed it); no longer running it here", exe.arn)
        return {id(exe) for exe in refused}, None

    def _carry_out(self, exe: Execution, progress: Progress) -> None:
        """A committed transition's commands: start tasks and timers, cancel tasks; then tell
        waiters that the execution ended, or let it proceed."""
        for command in progress.commands:
            if isinstance(command, RunTask):
                self._run_task(exe, command.request)
            elif isinstance(command, StartTimer):
                self._start_timer(exe, command)
            elif isinstance(command, CancelTask):
                self._cancel(exe, command.step)
        if exe.finished:
            self._finished(exe)
        elif progress.more:
            self.loop.call_soon(self._proceed, exe)

    def _live(self, exe: Execution) -> bool:
        """Is this execution still ours to run (not finished, not dropped)?"""
        return not exe.finished and self.active.get(exe.arn) is exe

    def _proceed(self, exe: Execution) -> None:
        if not self._live(exe):
            return
        machine = self.machine_for(exe)
        self._apply(exe, machine, self.ix.proceed(exe, machine))

    def _forget(self, exe: Execution, failure: Exception | None = None) -> None:
        """Stop running an execution whose progress was not committed (``failure``: the store's
        error; None: the store refused it), or that another process took over (:meth:`drop_unowned`):
        its tasks and timers are cancelled, its waiters get ExecutionDropped: they must not wait
        for an end this process will not see."""
        if self.active.get(exe.arn) is exe:
            del self.active[exe.arn]
        for step in list(exe.inflight):
            self._cancel(exe, step)
        self._cancel_timers(exe)
        if exe.arn not in self.active:  # not running here under another object either
            self._release(exe.arn, failure)

    def drop_unowned(self, owned: Collection[str]) -> list[str]:
        """Stop running the active executions whose ARN is not in ``owned`` (what the store says
        this process still holds, ``Store.renew_leases``): another process took them over
        (StopExecution, RedriveExecution, an expired lease), so their next commit here would be
        refused anyway. An execution with a transition waiting for the group commit is left to
        that commit (a new one has no row yet). Returns the ARNs dropped."""
        pending = {id(exe) for exe, _ in self._batch}
        gone = [exe for arn, exe in self.active.items() if arn not in owned and id(exe) not in pending]
        for exe in gone:
            log.warning("%s is no longer ours (another process took it over); no longer running it here", exe.arn)
            self._forget(exe)
        return [exe.arn for exe in gone]

    def _release(self, arn: str, failure: Exception | None) -> None:
        for future in self._done.pop(arn, ()):
            if not future.done():
                future.set_exception(_dropped(arn, failure))

    def _finished(self, exe: Execution) -> None:
        if self.active.get(exe.arn) is exe:
            del self.active[exe.arn]
        self._cancel_timers(exe)
        for future in self._done.pop(exe.arn, ()):
            if not future.done():
                future.set_result(exe)

    # tasks ------------------------------------------------------------------------------------

    def _run_task(self, exe: Execution, request: TaskRequest) -> None:
        request.on_submitted = lambda output=None, worker=None: self._submitted(exe, request.step, output, worker)
        task = self.loop.create_task(self._invoke(exe, request))
        self._running[(exe.arn, request.step)] = task

    async def _invoke(self, exe: Execution, request: TaskRequest) -> None:
        try:
            result = await self.tasks.invoke(request)
        except asyncio.CancelledError:
            return
        except Exception as failure:  # a bug in an integration fails the state, not the server
            log.exception("task %s failed inside stepflow", request.step)
            result = TaskResult(error=TASK_FAILED, cause=f"{type(failure).__name__}: {failure}")
        finally:
            if self._running.get((exe.arn, request.step)) is asyncio.current_task():
                del self._running[(exe.arn, request.step)]
        if not self._live(exe):
            return
        faults.hit("task.result.before_commit")
        machine = self.machine_for(exe)
        self._apply(exe, machine, self.ix.task_done(exe, machine, request.step, result))

    def _submitted(self, exe: Execution, step: str, output, worker) -> None:
        if self._live(exe):
            machine = self.machine_for(exe)
            self._apply(exe, machine, self.ix.task_submitted(exe, machine, step, output, worker))

    def heartbeat(self, exe: Execution, step: str) -> None:
        """SendTaskHeartbeat for a task of an active execution."""
        if self._live(exe):
            machine = self.machine_for(exe)
            self._apply(exe, machine, self.ix.heartbeat(exe, machine, step))

    def _cancel(self, exe: Execution, step: str) -> None:
        task = self._running.pop((exe.arn, step), None)
        if task is not None:
            task.cancel()

    # timers -----------------------------------------------------------------------------------

    def _start_timer(self, exe: Execution, command: StartTimer) -> None:
        clock = self.ix.clock
        if clock.virtual:
            heapq.heappush(self._virtual, (command.due, next(self._virtual_seq), exe, command))
            self._schedule_tick(0)
            return
        delay = command.due - clock.now()
        if delay <= 0:
            self.loop.call_soon(self._fire, exe, command)
        else:
            _, pending = self._timers.setdefault(id(exe), (exe, {}))
            pending[id(command)] = self.loop.call_later(delay, self._timer_due, exe, command)

    def _timer_due(self, exe: Execution, command: StartTimer) -> None:
        entry = self._timers.get(id(exe))
        if entry is not None:
            entry[1].pop(id(command), None)
            if not entry[1]:
                del self._timers[id(exe)]
        self._fire(exe, command)

    def _cancel_timers(self, exe: Execution) -> None:
        """Cancel the pending (real-time) timers of an execution this process no longer runs."""
        entry = self._timers.pop(id(exe), None)
        if entry is not None:
            for handle in entry[1].values():
                handle.cancel()

    # Virtual time: timers fire in due order, one at a time, and only when nothing else can
    # happen first (no task in flight, no frame ready), so a FakeClock never lets a long timer
    # (say the execution's TimeoutSeconds) overtake a shorter one or a running task.

    def _schedule_tick(self, delay: float) -> None:
        if not self._ticking:
            self._ticking = True
            self.loop.call_later(delay, self._virtual_tick)

    def _virtual_tick(self) -> None:
        self._ticking = False
        if not self._virtual:
            return
        if self._busy():
            self._schedule_tick(0.001)  # look again shortly
            return
        _, _, exe, command = heapq.heappop(self._virtual)
        self._fire(exe, command)
        self._schedule_tick(0)

    def _busy(self) -> bool:
        """Is work pending that takes no virtual time: uncommitted transitions, a ready frame, or
        a task computing? (A callback task, which only waits for SendTask*, does not hold
        virtual time back.)"""
        if self._batch:
            return True
        for exe in self.active.values():
            if exe.ready:
                return True
            for step, key in exe.inflight.items():
                if (exe.arn, step) in self._running and not _only_waits(exe.frames.get(key)):
                    return True
        return False

    def _fire(self, exe: Execution, command: StartTimer) -> None:
        if not self._live(exe):
            return
        clock = self.ix.clock
        if clock.virtual:
            clock.set(command.due)  # a virtual clock jumps to the timer's due time
        machine = self.machine_for(exe)
        self._apply(exe, machine, self.ix.timer_fired(exe, machine, command.frame, command.token))


def _dropped(arn: str, failure: Exception | None) -> ExecutionDropped:
    """What a waiter of an execution this process stopped running gets."""
    if failure is None:
        return ExecutionDropped(arn, "another process committed it first")
    dropped = ExecutionDropped(arn, f"its progress could not be committed ({type(failure).__name__}: {failure})")
    dropped.__cause__ = failure
    return dropped


def _unless_stored(outcome: bool | Exception | None, refused: Callable[[], Exception]) -> None:
    """Raise unless a new execution's first commit stored it (its outcome from Runner._note_new)."""
    if outcome is True:
        return
    if isinstance(outcome, Exception):
        raise outcome
    raise refused()

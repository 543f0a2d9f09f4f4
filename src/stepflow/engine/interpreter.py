"""The interpreter: decides what happens next in an execution.

It never performs I/O. Each entry point (``start``, ``task_done``, ``timer_fired``, ``stop``,
``proceed``, ``resume``) mutates the :class:`~stepflow.engine.snapshot.Execution` it is given,
appends history events, and returns a :class:`Progress` with the commands the runner must carry
out (run a task, start a timer, cancel a task) and which frames changed (for the store).

Frames run in a work queue, never by recursion: a Map over 10,000 items is 10,000 frames taking
turns in ``Execution.ready``; a budget bounds how many transitions one call makes so that other
executions get their turn.
"""

from __future__ import annotations

import random
from typing import Any

from stepflow.asl.json_text import dumps
from stepflow.asl.model import StateMachine
from stepflow.engine import history
from stepflow.engine.clock import Clock
from stepflow.engine.commands import CancelTask, Limits, Progress, RunTask, StartTimer
from stepflow.engine.run import DEFAULT_BUDGET, Run
from stepflow.engine.snapshot import ABORTED, ROOT, RUNNING, TIMED_OUT, Execution, Frame
from stepflow.engine.tasks import ACTIVITY, TaskResult, parse_resource
from stepflow.errors import TIMEOUT

__all__ = ["Interpreter", "Run", "Limits", "Progress", "RunTask", "StartTimer", "CancelTask", "DEFAULT_BUDGET"]


class Interpreter:
    """Stateless apart from its clock, limits and random source; one per runner."""

    def __init__(self, clock: Clock | None = None, limits: Limits | None = None, rng: random.Random | None = None):
        self.clock = clock or Clock()
        self.limits = limits or Limits()
        self.rng = rng or random.Random()

    # entry points ------------------------------------------------------------------------

    def start(self, exe: Execution, machine: StateMachine, budget: int = DEFAULT_BUDGET) -> Progress:
        """Begin a new execution: ExecutionStarted, the machine timeout, the first state."""
        run = Run(self, exe, machine)
        text, info = history.payload_text(exe.input_text)
        details = {"input": text, "inputDetails": info, "roleArn": exe.role_arn}
        if exe.state_machine_alias_arn:
            details["stateMachineAliasArn"] = exe.state_machine_alias_arn
        if exe.state_machine_version_arn:
            details["stateMachineVersionArn"] = exe.state_machine_version_arn
        root = Frame(key=ROOT, program=machine.root.key, state=machine.root.start_at, input=exe.input, input_text=exe.input_text)
        exe.frames[ROOT] = root
        run.emit(root, "ExecutionStarted", details)
        root.last_event = 0  # AWS: the first state's Entered event has previousEventId 0
        due = self.clock.timeout_due(machine.timeout_seconds) if machine.timeout_seconds else None
        if due is not None:
            run.timer(root, "execution-timeout", due)
        exe.ready.append(root)
        return run.finish(budget)

    def proceed(self, exe: Execution, machine: StateMachine, budget: int = DEFAULT_BUDGET) -> Progress:
        """Run frames that are ready (after a budget ran out)."""
        return Run(self, exe, machine).finish(budget)

    def task_done(self, exe: Execution, machine: StateMachine, step: str, result: TaskResult, budget: int = DEFAULT_BUDGET) -> Progress:
        """A task finished; ignored if its frame no longer waits for it (timed out, aborted)."""
        run = Run(self, exe, machine)
        frame = run.frame_waiting(step)
        if frame is not None:
            run.guard(frame, lambda: run.handler(frame).task_done(run, frame, run.state(frame), step, result))
            run.requeue(frame)
        return run.finish(budget)

    def timer_fired(self, exe: Execution, machine: StateMachine, frame_key: str, token: str, budget: int = DEFAULT_BUDGET) -> Progress:
        """A timer came due; ignored when stale."""
        run = Run(self, exe, machine)
        frame = exe.frames.get(frame_key)
        if frame is not None and exe.status == RUNNING:
            if token == "execution-timeout":
                run.end_execution(TIMED_OUT, "ExecutionTimedOut", error=TIMEOUT, cause="Execution timed out.")
            elif frame.wait is not None and token in (frame.wait.get("token"), frame.wait.get("heartbeat_token")) and frame.status == RUNNING:
                run.guard(frame, lambda: run.timer_fired(frame, token))
                run.requeue(frame)
        return run.finish(budget)

    def task_submitted(self, exe: Execution, machine: StateMachine, step: str, output: Any = None, worker: str | None = None) -> Progress:
        """A callback task's request went out (TaskSubmitted), or an activity worker took it
        (ActivityStarted); from now on a restart waits for the callback instead of asking again."""
        run = Run(self, exe, machine)
        frame = run.frame_for_step(step)
        if frame is not None and not frame.wait.get("submitted"):
            frame.wait["submitted"] = True
            run.touch(frame)
            resource = parse_resource(frame.wait["resource"])
            if resource.kind == ACTIVITY:
                run.emit(frame, "ActivityStarted", {"workerName": worker or ""})
            else:
                run.emit(frame, *history.task_submitted(resource, dumps(output)))
        return run.finish(0)

    def heartbeat(self, exe: Execution, machine: StateMachine, step: str) -> Progress:
        """SendTaskHeartbeat: the HeartbeatSeconds clock of the task starts again."""
        run = Run(self, exe, machine)
        frame = run.frame_for_step(step)
        if frame is not None and frame.wait.get("heartbeat_seconds"):
            run.arm_heartbeat(frame)
        return run.finish(0)

    def stop(self, exe: Execution, machine: StateMachine, error: str | None = None, cause: str | None = None) -> Progress:
        """StopExecution: the execution ends ABORTED."""
        run = Run(self, exe, machine)
        if exe.status == RUNNING:
            run.end_execution(ABORTED, "ExecutionAborted", error=error, cause=cause)
        return run.finish(0)

    def redrive(self, exe: Execution, machine: StateMachine, budget: int = DEFAULT_BUDGET) -> Progress:
        """RedriveExecution: the execution runs again from its unsuccessful states."""
        run = Run(self, exe, machine)
        exe.ready.clear()
        exe.inflight.clear()
        run.redrive_execution()
        return run.finish(budget)

    def resume(self, exe: Execution, machine: StateMachine) -> Progress:
        """After a load from the store: rebuild indexes, re-issue in-flight tasks and timers.
        An execution created but without a committed first transition (the process died in
        between) starts now."""
        if not exe.frames and exe.status == RUNNING:
            return self.start(exe, machine)
        run = Run(self, exe, machine)
        exe.ready.clear()
        exe.inflight.clear()
        for frame in exe.frames.values():
            run.reactivate(frame)
        if machine.timeout_seconds and exe.status == RUNNING and self.clock.time_scale > 0:
            due = exe.start_date + machine.timeout_seconds * self.clock.time_scale
            run.progress.commands.append(StartTimer(ROOT, "execution-timeout", due))
        return run.finish(0)

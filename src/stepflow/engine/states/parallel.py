"""Parallel: run every branch on the same input; the result is the list of branch outputs.

If a branch fails, the others are stopped and the Parallel state fails with that branch's error
(then its own Retry/Catch apply; a retry runs every branch again). An uncaught failure keeps the
branches, so a redrive re-runs only the unsuccessful ones."""

from __future__ import annotations

from stepflow.asl.json_text import dumps
from stepflow.engine.policy import will_retry
from stepflow.engine.snapshot import FAILED, SUCCEEDED
from stepflow.engine.states.base import emit_unchained
from stepflow.engine.states.children import ChildrenHandler, child_key


class ParallelHandler(ChildrenHandler):
    def start(self, run, frame, state) -> None:
        scope = run.scope(frame, state)
        branch_input = state.io.arguments(scope)
        text = dumps(branch_input)
        run.emit(frame, "ParallelStateStarted", None)
        frame.wait = {"kind": "children", "pending": len(state.branches)}
        run.touch(frame)
        for index, program in enumerate(state.branches):
            child = run.spawn(frame, program.key, index, child_key(frame, state, index), branch_input)
            child.input_text = text

    def child_count(self, frame, state) -> int:
        return len(state.branches)

    def child_done(self, run, frame, state, child) -> None:
        wait = frame.wait
        if wait is None or wait.get("kind") != "children" or wait.get("failed"):
            return
        keys = self.child_keys(frame, state)
        if child.status == FAILED:
            wait["failed"] = True
            last = child.last_event
            for key in keys:
                run.abort_frame(run.exe.frames.get(key))
            frame.last_event = last  # AWS links what follows to the failed branch's last event
            if not will_retry(state.retry, child.error, frame.retries):  # not between attempts
                run.emit(frame, "ParallelStateFailed", None)
            run.state_failed(frame, state, child.error, child.cause)
            return
        wait["pending"] -= 1
        run.touch(frame)
        if wait["pending"] > 0:
            return
        results = [run.exe.frames[key].output for key in keys]
        self.release(run, frame, state, keys)
        frame.last_event = child.last_event  # the last branch event, as AWS links it
        emit_unchained(run, frame, "ParallelStateSucceeded")
        frame.wait = None
        scope = run.scope(frame, state)
        output, assigned = state.io.output(scope, results)
        run.exit_state(frame, state, output, assigned, None if state.end else state.next)

    def revive(self, run, frame, state) -> None:
        """Redrive: branches that succeeded keep their output; the others run again."""
        wait = frame.wait
        wait.pop("failed", None)
        pending = 0
        for key in self.child_keys(frame, state):
            child = run.exe.frames.get(key)
            if child is not None and child.status != SUCCEEDED:
                pending += 1
                run.revive(child)
        wait["pending"] = pending
        run.emit(frame, "ParallelStateStarted", None)

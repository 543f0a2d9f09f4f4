"""What every state handler offers the interpreter; defaults for states that never wait."""

from __future__ import annotations


def emit_unchained(run, frame, event_type: str, details=None) -> None:
    """Emit an event the next one does not link to: AWS points a Map/Parallel state's Exited
    event at the same predecessor as its MapStateSucceeded/ParallelStateSucceeded."""
    previous = frame.last_event
    run.emit(frame, event_type, details)
    frame.last_event = previous


class StateHandler:
    """One state type's behaviour. Every method receives the interpreter Run, the frame and
    the (compiled) state; failures are raised as StatesError or reported via run.state_failed."""

    def enter(self, run, frame, state) -> None:
        raise NotImplementedError

    def retry(self, run, frame, state) -> None:
        """Run the state again after a Retry backoff (states with Retry override this)."""
        raise NotImplementedError

    def timer_fired(self, run, frame, state) -> None:
        raise NotImplementedError

    def task_done(self, run, frame, state, step, result) -> None:
        raise NotImplementedError

    def child_done(self, run, frame, state, child) -> None:
        raise NotImplementedError

    def child_keys(self, frame, state) -> list[str]:
        """Keys of the frames this state started (none for states without children)."""
        return []

    def release(self, run, frame, state) -> None:
        """Forget what the state started (Map iterations, Parallel branches) before a retry or
        a catch; an uncaught failure keeps them for redrive."""

    def revive(self, run, frame, state) -> None:
        """Redrive a state that waits on children: re-run the unsuccessful ones."""
        raise NotImplementedError

    def reissue(self, run, frame, state) -> None:
        """After a crash: redo whatever this state was waiting for."""
        raise NotImplementedError

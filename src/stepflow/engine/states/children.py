"""What Map and Parallel share: they start child frames and wait for them."""

from __future__ import annotations

from stepflow.engine.states.base import StateHandler


def child_key(frame, state, index: int) -> str:
    """The deterministic key of a state's index-th iteration or branch: ``/Outer[2]/Inner[0]``."""
    return f"{frame.key}/{state.name}[{index}]"


def child_key_prefix(frame, state) -> str:
    """What every child key of the state starts with: ``child_key`` is ``f"{prefix}{index}]"``."""
    return f"{frame.key}/{state.name}["


class ChildrenHandler(StateHandler):
    """A state whose work is child frames; entering and retrying both start them afresh."""

    def enter(self, run, frame, state) -> None:
        self.start(run, frame, state)

    def retry(self, run, frame, state) -> None:
        self.start(run, frame, state)

    def start(self, run, frame, state) -> None:
        raise NotImplementedError

    def child_count(self, frame, state) -> int:
        raise NotImplementedError

    def child_keys(self, frame, state) -> list[str]:
        prefix = child_key_prefix(frame, state)
        return [f"{prefix}{i}]" for i in range(self.child_count(frame, state))]

    def release(self, run, frame, state, keys: list[str] | None = None) -> None:
        """Remove the child frames (``keys``: their keys, when the caller has them already)."""
        run.remove_frames(self.child_keys(frame, state) if keys is None else keys)

"""Child frames (Map iterations, Parallel branches): made, started, aborted and forgotten.

:class:`ChildFrames` is a part of :class:`stepflow.engine.run.Run` (its base class), kept apart
by concept; it uses the run's ``exe``, ``programs``, ``progress``, ``mark_dirty``, ``touch``,
``state``, ``revive`` and ``cancel_task``.
"""

from __future__ import annotations

from typing import Any

from stepflow.engine.snapshot import ABORTED, NOT_STARTED, RUNNING, Frame
from stepflow.engine.states import HANDLERS


class ChildFrames:
    def spawn(self, parent: Frame, program_key: str, index: int, key: str, input_value: Any, start: bool = True) -> Frame:
        """One child frame (a Parallel branch; a Map's iterations come from ``spawn_all``)."""
        child = Frame(key, program_key, parent.key, index, self.programs[program_key].start_at, input_value)
        child.last_event = parent.last_event
        if not start:
            child.status = NOT_STARTED
        if parent.silent:
            child.silent = True
        self.exe.frames[key] = child
        self.mark_dirty(key)
        if start:
            self.exe.ready.append(child)
        return child

    def spawn_all(self, parent: Frame, program_key: str, prefix: str, inputs: list, start: bool) -> list[Frame]:
        """``spawn`` for each of a Map's inputs, keys ``f"{prefix}{index}]"``: one loop with the
        per-call lookups hoisted out of it (a Map makes one frame per item). Frame's fields are
        positional here (key, program, parent, index, state, input): keywords cost twice as much."""
        start_at, parent_key, last_event = self.programs[program_key].start_at, parent.key, parent.last_event
        frames, mark_dirty = self.exe.frames, self.mark_dirty
        children = []
        for index, value in enumerate(inputs):
            key = f"{prefix}{index}]"
            child = frames[key] = Frame(key, program_key, parent_key, index, start_at, value)
            child.last_event = last_event
            mark_dirty(key)
            children.append(child)
        if not start:
            for child in children:
                child.status = NOT_STARTED
        if parent.silent:
            for child in children:
                child.silent = True
        if start:
            self.exe.ready.extend(children)
        return children

    def activate(self, child: Frame, parent: Frame) -> None:
        """Start an iteration (or, on redrive, continue it where it stopped)."""
        child.last_event = parent.last_event
        self.revive(child)

    def remove_frames(self, keys: list[str]) -> list[Frame]:
        """Forget these child frames (their tasks cancelled, the store told to delete them);
        the ones that were there, in the order of ``keys``."""
        pop, removed, frames = self.exe.frames.pop, [], []
        for key in keys:
            frame = pop(key, None)
            if frame is not None:
                if frame.wait is not None:
                    self.cancel_task(frame)
                removed.append(key)
                frames.append(frame)
        self.progress.dirty.difference_update(removed)
        self.progress.removed.update(removed)
        return frames

    def abort_frame(self, frame: Frame | None) -> bool:
        """Stop a running frame and everything under it (tasks cancelled); state and input are
        kept so that a redrive can resume it. True when the frame was running."""
        if frame is None or frame.status != RUNNING:
            return False
        wait = frame.wait
        if wait is not None and wait.get("kind") == "children" and frame.state is not None:
            for key in HANDLERS[self.state(frame).type].child_keys(frame, self.state(frame)):
                self.abort_frame(self.exe.frames.get(key))
        self.cancel_task(frame)
        frame.status = ABORTED
        self.touch(frame)
        return True

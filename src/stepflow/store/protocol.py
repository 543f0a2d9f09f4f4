"""The store protocol: about ten methods, one contract suite for every backend.

Executions are :class:`~stepflow.engine.snapshot.Execution` snapshots; ``commit`` persists one
interpreter call's :class:`~stepflow.engine.interpreter.Progress` (changed frames, removed
frames, new events, status) as one transaction.
"""

from __future__ import annotations

from typing import Protocol

from stepflow.engine.interpreter import Progress
from stepflow.engine.snapshot import Execution
from stepflow.store.records import StateMachineRecord


class Store(Protocol):
    def put_state_machine(self, record: StateMachineRecord) -> None:
        """Create or replace a state machine record (its definition kept under its revision id)."""

    def get_state_machine(self, arn: str) -> StateMachineRecord | None:
        """The record, or None."""

    def list_state_machines(self) -> list[StateMachineRecord]:
        """Every state machine, in creation order."""

    def delete_state_machine(self, arn: str) -> None:
        """Forget a state machine (its executions stay readable)."""

    def definition(self, revision_id: str) -> str | None:
        """The definition text of a revision, for executions started on an older revision."""

    def create_execution(self, exe: Execution, with_first_commit: bool = False) -> None:
        """Record a new execution before its first transition; ``with_first_commit``: write it
        in the transaction of the first ``commit_many`` carrying it instead (which refuses it,
        writing nothing of it, if another process created that ARN in the meantime)."""

    def discard(self, exe: Execution) -> None:
        """Forget a new execution that will never be committed (its start failed before its first
        commit): one created ``with_first_commit`` is dropped unwritten; a row already written
        (``create_execution`` without it) stays."""

    def commit(self, exe: Execution, progress: Progress) -> None:
        """Persist one interpreter call's changes atomically (LeaseLost if another process did)."""

    def commit_many(self, batch: list[tuple[Execution, Progress]]) -> list[Execution]:
        """Group commit: persist several calls in one transaction; return the refused executions
        (another process committed them or took their ARN first). A refused execution is
        forgotten: it is refused again until it is loaded to run (``get_execution(with_frames=True)``
        after ``claim``), so it can never be written over another process's row."""

    def get_execution(self, arn: str, with_frames: bool = False) -> Execution | None:
        """The execution's status and result; its frames too when asked (to run it)."""

    def list_executions(self, state_machine_arn: str | None = None, status: str | None = None) -> list[Execution]:
        """Executions, newest first, optionally of one state machine and one status."""

    def history(self, arn: str) -> list[dict]:
        """Every history event of an execution, in id order."""

    def running(self) -> list[Execution]:
        """Executions still RUNNING that this process may run (claimed), with their frames."""

    def claim(self, arn: str, force: bool = False) -> bool:
        """Take the lease on a RUNNING execution (free, expired, or its holder died); ``force``
        takes it whatever its state (redrive)."""

    def renew_leases(self) -> set[str]:
        """Extend the leases this process holds; the ARNs of the RUNNING executions it holds
        (an execution it runs that is missing was taken over by another process, or ended there)."""

    def put_resource(self, kind: str, arn: str, data: dict) -> None:
        """Create or replace another API resource (activity, version, alias, tags, map run...)."""

    def get_resource(self, kind: str, arn: str) -> dict | None:
        """One resource document, or None."""

    def list_resources(self, kind: str) -> list[dict]:
        """Every resource of a kind, in creation order."""

    def delete_resource(self, kind: str, arn: str) -> None:
        """Forget a resource."""

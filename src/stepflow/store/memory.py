"""The memory store: everything in dicts, for tests, `stepflow run` and benchmarks."""

from __future__ import annotations

import copy

from stepflow.engine.history import as_dict
from stepflow.engine.interpreter import Progress
from stepflow.engine.snapshot import RUNNING, Execution
from stepflow.store.records import StateMachineRecord


class MemoryStore:
    """Keeps live objects: ``commit`` has nothing to copy, the snapshot is the object itself."""

    url = "memory://"

    def __init__(self):
        self._machines: dict[str, StateMachineRecord] = {}
        self._definitions: dict[str, str] = {}
        self._executions: dict[str, Execution] = {}
        self._resources: dict[str, dict[str, dict]] = {}
        self._unwritten: set[str] = set()  # created with_first_commit, not yet committed (discard)

    def put_state_machine(self, record: StateMachineRecord) -> None:
        self._machines[record.arn] = record
        self._definitions[record.revision_id] = record.definition

    def get_state_machine(self, arn: str) -> StateMachineRecord | None:
        return self._machines.get(arn)

    def list_state_machines(self) -> list[StateMachineRecord]:
        return list(self._machines.values())

    def delete_state_machine(self, arn: str) -> None:
        self._machines.pop(arn, None)

    def definition(self, revision_id: str) -> str | None:
        return self._definitions.get(revision_id)

    def create_execution(self, exe: Execution, with_first_commit: bool = False) -> None:
        """Kept at once, whenever the caller would have it written: nothing here is durable."""
        self._executions[exe.arn] = exe
        if with_first_commit:
            self._unwritten.add(exe.arn)

    def discard(self, exe: Execution) -> None:
        """Forget a ``with_first_commit`` execution that will never be committed."""
        if exe.arn in self._unwritten and self._executions.get(exe.arn) is exe:
            self._unwritten.discard(exe.arn)
            del self._executions[exe.arn]

    def commit(self, exe: Execution, progress: Progress) -> None:
        """Nothing to write: the execution object is the stored snapshot."""
        self._unwritten.discard(exe.arn)

    def commit_many(self, batch: list) -> list[Execution]:
        """Nothing to write, nothing refused."""
        if self._unwritten:
            for exe, _ in batch:
                self._unwritten.discard(exe.arn)
        return []

    def get_execution(self, arn: str, with_frames: bool = False) -> Execution | None:
        return self._executions.get(arn)

    def list_executions(self, state_machine_arn: str | None = None, status: str | None = None) -> list[Execution]:
        found = [
            e for e in self._executions.values()
            if (state_machine_arn is None or e.state_machine_arn == state_machine_arn)
            and (status is None or e.status == status)
        ]
        return sorted(found, key=lambda e: e.start_date, reverse=True)

    def history(self, arn: str) -> list[dict]:
        exe = self._executions.get(arn)
        return [as_dict(event) for event in exe.events] if exe is not None else []

    def running(self) -> list[Execution]:
        return [e for e in self._executions.values() if e.status == RUNNING]

    def put_resource(self, kind: str, arn: str, data: dict) -> None:
        self._resources.setdefault(kind, {})[arn] = copy.deepcopy(data)

    def get_resource(self, kind: str, arn: str) -> dict | None:
        found = self._resources.get(kind, {}).get(arn)
        return copy.deepcopy(found) if found is not None else None

    def list_resources(self, kind: str) -> list[dict]:
        return [copy.deepcopy(d) for d in self._resources.get(kind, {}).values()]

    def delete_resource(self, kind: str, arn: str) -> None:
        self._resources.get(kind, {}).pop(arn, None)

    def claim(self, arn: str, force: bool = False) -> bool:
        """One process only: every execution is ours."""
        return True

    def renew_leases(self) -> set[str]:
        """Nothing to renew in one process: every RUNNING execution is ours."""
        return {arn for arn, e in self._executions.items() if e.status == RUNNING}

    def close(self) -> None:
        """Nothing to release."""

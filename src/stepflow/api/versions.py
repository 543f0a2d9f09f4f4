"""State machine versions: PublishStateMachineVersion, ListStateMachineVersions,
DeleteStateMachineVersion, DescribeStateMachine of a version ARN, and :func:`resolve_target`,
which turns the ARN StartExecution was given (state machine, version ``...:name:3`` or alias
``...:name:PROD``) into what to run.

A version is an immutable snapshot of one revision: its document (kind ``version``) keeps the
revision id (whose definition the store keeps), the role and the configuration at publish time.
Version numbers are never reused, so a per-machine counter (kind ``version-counter``) remembers
the last one.
"""

from __future__ import annotations

import dataclasses
import random

from stepflow.api.common import (
    RESOURCE_NOT_FOUND,
    arn_kind,
    base_machine_arn,
    expect_kind,
    paginate,
    require,
    with_token,
)
from stepflow.errors import ApiError
from stepflow.store.records import StateMachineRecord

VERSION = "version"
COUNTER = "version-counter"
ALIAS = "alias"
MAX_VERSIONS = 1000  # per state machine (Step Functions quota)
MAX_DESCRIPTION = 256
INITIAL = "INITIAL"  # PublishStateMachineVersion's revisionId for a machine never updated


def version_doc(record: StateMachineRecord, number: int, description: str | None, now: float) -> dict:
    """The document of a new version of ``record``'s current revision."""
    doc = {
        "stateMachineVersionArn": f"{record.arn}:{number}", "stateMachineArn": record.arn, "version": number,
        "revisionId": record.revision_id, "creationDate": now, "name": record.name, "roleArn": record.role_arn,
        "type": record.type, "loggingConfiguration": record.logging_configuration,
        "tracingConfiguration": record.tracing_configuration,
    }
    if description:
        doc["description"] = description
    return doc


def check_description(description, field: str = "description") -> None:
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise ApiError("ValidationException", f"1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {MAX_DESCRIPTION}")


def pick_version(routing: list[dict], rng: random.Random | None = None) -> str:
    """The version an alias routes one execution to, chosen at random by weight."""
    arns = [r["stateMachineVersionArn"] for r in routing]
    weights = [r["weight"] for r in routing]
    if sum(weights) <= 0:
        return arns[0]
    return (rng or random).choices(arns, weights=weights, k=1)[0]


def resolve_target(service, arn: str, rng: random.Random | None = None) -> tuple[StateMachineRecord, str, str | None, str | None]:
    """What StartExecution runs for ``arn``: ``(record, revision_id, version_arn, alias_arn)``.

    For a version or alias the record is the state machine's as of that version (its
    definition, role and revision id); StateMachineDoesNotExist when the version or alias (or
    its machine) does not exist, InvalidArn for an ARN of another kind.
    """
    kind = arn_kind(arn)
    if kind not in ("version", "alias"):
        record = service._machine(arn)
        return record, record.revision_id, None, None
    alias_arn = None
    version_arn = arn
    if kind == "alias":
        alias = service.store.get_resource(ALIAS, arn)
        if alias is None or service.store.get_state_machine(base_machine_arn(arn)) is None:
            raise _machine_missing(arn)
        alias_arn, version_arn = arn, pick_version(alias["routingConfiguration"], rng)
    version = _live_version(service, version_arn)
    if version is None:
        raise _machine_missing(version_arn)
    return version_record(service, version), version["revisionId"], version_arn, alias_arn


def version_record(service, version: dict) -> StateMachineRecord:
    """The state machine record as the version saw it."""
    record = service.store.get_state_machine(version["stateMachineArn"])
    definition = service.store.definition(version["revisionId"]) or record.definition
    return dataclasses.replace(
        record, definition=definition, revision_id=version["revisionId"], role_arn=version["roleArn"],
        type=version["type"], logging_configuration=version["loggingConfiguration"],
        tracing_configuration=version["tracingConfiguration"],
    )


def _live_version(service, version_arn: str) -> dict | None:
    """A version document whose state machine still exists."""
    doc = service.store.get_resource(VERSION, version_arn)
    if doc is None or service.store.get_state_machine(doc["stateMachineArn"]) is None:
        return None
    return doc


def _machine_missing(arn: str) -> ApiError:
    return ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")


class VersionsMixin:
    """The version actions of :class:`stepflow.service.StepFunctions`."""

    def publish_state_machine_version(self, stateMachineArn: str = None, revisionId: str = None, description: str = None, **_) -> dict:
        require(stateMachineArn=stateMachineArn)
        expect_kind(stateMachineArn, "stateMachine")
        check_description(description)
        record = self._machine(stateMachineArn)
        if revisionId is not None and not _revision_matches(record, revisionId):
            raise ApiError("ConflictException", f"Failed to publish the State Machine version for revision {revisionId}. The current State Machine revision is {record.revision_id}.", 409)
        doc = self.publish_version(record, description)
        return {"creationDate": doc["creationDate"], "stateMachineVersionArn": doc["stateMachineVersionArn"]}

    def publish_version(self, record: StateMachineRecord, description: str | None = None) -> dict:
        """Publish ``record``'s current revision (or return the version that already has it).

        CreateStateMachine and UpdateStateMachine with ``publish=true`` call this too.
        """
        existing = self._versions_of(record.arn)
        for doc in existing:
            if doc["revisionId"] == record.revision_id:
                return doc
        if len(existing) >= MAX_VERSIONS:
            raise ApiError("ServiceQuotaExceededException", f"Maximum number of versions ({MAX_VERSIONS}) reached for state machine: '{record.arn}'", 402)
        counter = self.store.get_resource(COUNTER, record.arn) or {"last": 0}
        number = counter["last"] + 1
        doc = version_doc(record, number, description, self.clock.now())
        self.store.put_resource(COUNTER, record.arn, {"last": number})
        self.store.put_resource(VERSION, doc["stateMachineVersionArn"], doc)
        return doc

    def list_state_machine_versions(self, stateMachineArn: str = None, nextToken: str = None, maxResults: int = None, **_) -> dict:
        require(stateMachineArn=stateMachineArn)
        expect_kind(stateMachineArn, "stateMachine")
        docs = sorted(self._versions_of(stateMachineArn), key=lambda d: d["version"], reverse=True)
        page, token = paginate(docs, maxResults, nextToken)
        items = [{"stateMachineVersionArn": d["stateMachineVersionArn"], "creationDate": d["creationDate"]} for d in page]
        return with_token({"stateMachineVersions": items}, token)

    def delete_state_machine_version(self, stateMachineVersionArn: str = None, **_) -> dict:
        require(stateMachineVersionArn=stateMachineVersionArn)
        expect_kind(stateMachineVersionArn, "version")
        names = [a["name"] for a in self._aliases_of(base_machine_arn(stateMachineVersionArn)) if _routes_to(a, stateMachineVersionArn)]
        if names:
            raise ApiError("ConflictException", "Version to be deleted must not be referenced by an alias. "
                           f"Current list of aliases referencing this version: [{', '.join(names)}]", 409)
        self.store.delete_resource(VERSION, stateMachineVersionArn)
        return {}

    def describe_state_machine_version(self, arn: str) -> dict:
        """DescribeStateMachine's answer for a version ARN (the service's describe_state_machine
        calls this when given one)."""
        version = _live_version(self, arn)
        if version is None:
            raise _machine_missing(arn)
        record = version_record(self, version)
        out = {
            "stateMachineArn": arn, "name": record.name, "status": "ACTIVE", "definition": record.definition,
            "roleArn": record.role_arn, "type": record.type, "creationDate": version["creationDate"],
            "loggingConfiguration": record.logging_configuration, "tracingConfiguration": record.tracing_configuration,
            "revisionId": record.revision_id,
        }
        if version.get("description"):
            out["description"] = version["description"]
        return out

    def forget_versions_and_aliases(self, state_machine_arn: str) -> None:
        """DeleteStateMachine also deletes the machine's versions and aliases."""
        for alias in self._aliases_of(state_machine_arn):
            self.store.delete_resource(ALIAS, alias["stateMachineAliasArn"])
        for doc in self._versions_of(state_machine_arn):
            self.store.delete_resource(VERSION, doc["stateMachineVersionArn"])
        self.store.delete_resource(COUNTER, state_machine_arn)

    # -- helpers ------------------------------------------------------------------------------

    def _versions_of(self, state_machine_arn: str) -> list[dict]:
        if self.store.get_state_machine(state_machine_arn) is None:
            return []
        return [d for d in self.store.list_resources(VERSION) if d["stateMachineArn"] == state_machine_arn]

    def _aliases_of(self, state_machine_arn: str) -> list[dict]:
        return [a for a in self.store.list_resources(ALIAS) if a["stateMachineArn"] == state_machine_arn]

    def _version(self, arn: str) -> dict:
        """A version document, or ResourceNotFound."""
        doc = _live_version(self, arn)
        if doc is None:
            raise ApiError("ResourceNotFound", RESOURCE_NOT_FOUND)
        return doc


def _revision_matches(record: StateMachineRecord, revision_id: str) -> bool:
    if revision_id == INITIAL:
        return record.update_date is None
    return revision_id == record.revision_id


def _routes_to(alias: dict, version_arn: str) -> bool:
    return any(r["stateMachineVersionArn"] == version_arn for r in alias["routingConfiguration"])

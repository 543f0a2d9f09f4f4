"""State machine aliases: CreateStateMachineAlias, DescribeStateMachineAlias,
UpdateStateMachineAlias, DeleteStateMachineAlias, ListStateMachineAliases.

An alias (``arn:...:stateMachine:NAME:ALIAS``) routes each StartExecution to one of one or two
versions of the same machine, at random by weight (see
:func:`stepflow.api.versions.resolve_target`). Checks and messages follow AWS's, in AWS's order:
the model's constraints first, then the routing rules.
"""

from __future__ import annotations

import re

from stepflow.api.common import (
    RESOURCE_NOT_FOUND,
    arn_kind,
    base_machine_arn,
    expect_kind,
    paginate,
    require,
    with_token,
)
from stepflow.api.versions import ALIAS, check_description
from stepflow.errors import ApiError

MAX_ALIASES = 100  # per state machine (Step Functions quota)
_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$")
_ALIAS_PATTERN_TEXT = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"


def check_alias_name(name: str) -> None:
    """ValidationException unless ``name`` is a CharacterRestrictedName (1-80, not all digits)."""
    prefix = f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must "
    if not isinstance(name, str) or not name:
        raise ApiError("ValidationException", prefix + "have length greater than or equal to 1")
    if len(name) > 80:
        raise ApiError("ValidationException", prefix + "have length less than or equal to 80")
    if not _ALIAS_NAME.match(name):
        raise ApiError("ValidationException", prefix + f"satisfy regular expression pattern: {_ALIAS_PATTERN_TEXT}")


def check_routing(routing) -> list[dict]:
    """The routing configuration, normalised, after AWS's checks (ValidationException)."""
    if not isinstance(routing, list) or not routing:
        raise ApiError("ValidationException", "1 validation error detected: Value '[]' at 'routingConfiguration' failed to satisfy constraint: Member must have length greater than or equal to 1")
    if len(routing) > 2:
        raise ApiError("ValidationException", f"1 validation error detected: Value '{_render(routing)}' at 'routingConfiguration' failed to satisfy constraint: Member must have length less than or equal to 2")
    items = [_routing_item(item, index) for index, item in enumerate(routing, start=1)]
    arns = [i["stateMachineVersionArn"] for i in items]
    if any(arn_kind(a) != "version" for a in arns):
        raise _invalid_routing(f"Routing configuration must contain state machine version ARNs. Received: [{', '.join(arns)}]")
    if len(set(arns)) != len(arns):
        raise _invalid_routing(f"Routing configuration must contain distinct state machine version ARNs. Received: [{', '.join(arns)}]")
    if len({base_machine_arn(a) for a in arns}) != 1:
        raise _invalid_routing(f"Routing configuration must contain state machine version ARNs of the same state machine. Received: [{', '.join(arns)}]")
    weights = [i["weight"] for i in items]
    if sum(weights) != 100:
        raise _invalid_routing(f"Sum of routing configuration weights must equal 100. Received: [{', '.join(map(str, weights))}]")
    return items


def _routing_item(item, index: int) -> dict:
    where = f"routingConfiguration.{index}.member"
    if not isinstance(item, dict) or not isinstance(item.get("stateMachineVersionArn"), str):
        raise ApiError("ValidationException", f"1 validation error detected: Value null at '{where}.stateMachineVersionArn' failed to satisfy constraint: Member must not be null")
    weight = item.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise ApiError("ValidationException", f"1 validation error detected: Value null at '{where}.weight' failed to satisfy constraint: Member must not be null")
    if weight > 100:
        raise ApiError("ValidationException", f"1 validation error detected: Value '{weight}' at '{where}.weight' failed to satisfy constraint: Member must have value less than or equal to 100")
    if weight < 0:
        raise ApiError("ValidationException", f"1 validation error detected: Value '{weight}' at '{where}.weight' failed to satisfy constraint: Member must have value greater than or equal to 0")
    return {"stateMachineVersionArn": item["stateMachineVersionArn"], "weight": weight}


def _render(routing: list) -> str:
    parts = [
        f"RoutingConfigurationListItem(stateMachineVersionArn={r.get('stateMachineVersionArn')}, weight={r.get('weight')})"
        if isinstance(r, dict) else str(r)
        for r in routing
    ]
    return "[" + ", ".join(parts) + "]"


def _invalid_routing(message: str) -> ApiError:
    return ApiError("ValidationException", message)


class AliasesMixin:
    """The alias actions of :class:`stepflow.service.StepFunctions` (uses VersionsMixin)."""

    def create_state_machine_alias(self, name: str = None, routingConfiguration: list = None, description: str = None, **_) -> dict:
        require(name=name, routingConfiguration=routingConfiguration)
        check_description(description)
        check_alias_name(name)
        routing = check_routing(routingConfiguration)
        machine_arn = base_machine_arn(routing[0]["stateMachineVersionArn"])
        self._routed_versions_exist(routing)
        arn = f"{machine_arn}:{name}"
        existing = self.store.get_resource(ALIAS, arn)
        if existing is not None:
            if existing["routingConfiguration"] == routing and existing.get("description") == description:
                return {"stateMachineAliasArn": arn, "creationDate": existing["creationDate"]}
            raise ApiError("ConflictException", "Failed to create alias because an alias with the same name and a different routing configuration already exists.", 409)
        if len(self._aliases_of(machine_arn)) >= MAX_ALIASES:
            raise ApiError("ServiceQuotaExceededException", f"Maximum number of aliases ({MAX_ALIASES}) reached for state machine: '{machine_arn}'", 402)
        now = self.clock.now()
        doc = {"stateMachineAliasArn": arn, "name": name, "stateMachineArn": machine_arn, "routingConfiguration": routing, "creationDate": now, "updateDate": now}
        if description is not None:
            doc["description"] = description
        self.store.put_resource(ALIAS, arn, doc)
        return {"stateMachineAliasArn": arn, "creationDate": now}

    def describe_state_machine_alias(self, stateMachineAliasArn: str = None, **_) -> dict:
        doc = self._alias(stateMachineAliasArn)
        keys = ("stateMachineAliasArn", "name", "description", "routingConfiguration", "creationDate", "updateDate")
        return {k: doc[k] for k in keys if k in doc}

    def update_state_machine_alias(self, stateMachineAliasArn: str = None, description: str = None, routingConfiguration: list = None, **_) -> dict:
        doc = self._alias(stateMachineAliasArn)
        if description is None and routingConfiguration is None:
            raise ApiError("ValidationException", "Either the description or the RoutingConfiguration must be specified")
        check_description(description)
        if routingConfiguration is not None:
            routing = check_routing(routingConfiguration)
            if base_machine_arn(routing[0]["stateMachineVersionArn"]) != doc["stateMachineArn"]:
                raise _invalid_routing("Routing configuration must contain state machine version ARNs of the state machine of the alias. "
                                       f"Received: [{', '.join(r['stateMachineVersionArn'] for r in routing)}]")
            self._routed_versions_exist(routing)
            doc["routingConfiguration"] = routing
        if description is not None:
            doc["description"] = description
        doc["updateDate"] = self.clock.now()
        self.store.put_resource(ALIAS, doc["stateMachineAliasArn"], doc)
        return {"updateDate": doc["updateDate"]}

    def delete_state_machine_alias(self, stateMachineAliasArn: str = None, **_) -> dict:
        require(stateMachineAliasArn=stateMachineAliasArn)
        expect_kind(stateMachineAliasArn, "alias")
        self.store.delete_resource(ALIAS, stateMachineAliasArn)
        return {}

    def list_state_machine_aliases(self, stateMachineArn: str = None, nextToken: str = None, maxResults: int = None, **_) -> dict:
        require(stateMachineArn=stateMachineArn)
        kind = expect_kind(stateMachineArn, "stateMachine", "version")
        if kind == "version":
            self._version(stateMachineArn)
            docs = [a for a in self._aliases_of(base_machine_arn(stateMachineArn))
                    if any(r["stateMachineVersionArn"] == stateMachineArn for r in a["routingConfiguration"])]
        else:
            self._machine(stateMachineArn)
            docs = self._aliases_of(stateMachineArn)
        page, token = paginate(docs, maxResults, nextToken)
        items = [{"stateMachineAliasArn": a["stateMachineAliasArn"], "creationDate": a["creationDate"]} for a in page]
        return with_token({"stateMachineAliases": items}, token)

    # -- helpers ------------------------------------------------------------------------------

    def _alias(self, arn: str | None) -> dict:
        require(stateMachineAliasArn=arn)
        expect_kind(arn, "alias")
        doc = self.store.get_resource(ALIAS, arn)
        if doc is None or self.store.get_state_machine(doc["stateMachineArn"]) is None:
            raise ApiError("ResourceNotFound", RESOURCE_NOT_FOUND)
        return doc

    def _routed_versions_exist(self, routing: list[dict]) -> None:
        for item in routing:
            self._version(item["stateMachineVersionArn"])

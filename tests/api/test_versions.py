"""Versions, aliases and resolve_target (what StartExecution runs for a version or alias ARN)."""

from __future__ import annotations

import random

import pytest
from api_helpers import PASS2, ROLE

from stepflow.api.versions import pick_version, resolve_target
from stepflow.errors import ApiError


def publish(svc, arn, **kw):
    return svc.publish_state_machine_version(stateMachineArn=arn, **kw)["stateMachineVersionArn"]


def test_publish_is_idempotent_per_revision_and_numbers_are_not_reused(svc, machine):
    v1 = publish(svc, machine, description="first")
    assert v1 == machine + ":1"
    assert publish(svc, machine) == v1
    svc.update_state_machine(stateMachineArn=machine, definition=PASS2)
    v2 = publish(svc, machine)
    assert v2 == machine + ":2"
    listed = [v["stateMachineVersionArn"] for v in svc.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"]]
    assert listed == [v2, v1]
    svc.delete_state_machine_version(stateMachineVersionArn=v2)
    svc.delete_state_machine_version(stateMachineVersionArn=v2)  # twice: fine
    svc.update_state_machine(stateMachineArn=machine, definition=PASS2.replace("2", "3"))
    assert publish(svc, machine) == machine + ":3"


def test_publish_with_stale_revision_is_a_conflict(svc, machine):
    old = svc.describe_state_machine(stateMachineArn=machine)["revisionId"]
    assert publish(svc, machine, revisionId="INITIAL") == machine + ":1"
    new = svc.update_state_machine(stateMachineArn=machine, definition=PASS2)["revisionId"]
    with pytest.raises(ApiError) as err:
        publish(svc, machine, revisionId=old)
    assert err.value.code == "ConflictException"
    assert err.value.message == f"Failed to publish the State Machine version for revision {old}. The current State Machine revision is {new}."
    with pytest.raises(ApiError) as err:
        publish(svc, machine + "x")
    assert err.value.code == "StateMachineDoesNotExist"


def test_describe_version_keeps_the_published_definition(svc, machine):
    v1 = publish(svc, machine, description="HelloWorld!")
    svc.update_state_machine(stateMachineArn=machine, definition=PASS2)
    described = svc.describe_state_machine_version(v1)
    assert described["stateMachineArn"] == v1 and described["description"] == "HelloWorld!"
    assert '"v": 1' in described["definition"]


def alias(svc, name, routing, **kw):
    return svc.create_state_machine_alias(name=name, routingConfiguration=routing, **kw)["stateMachineAliasArn"]


def test_alias_lifecycle(svc, machine):
    v1 = publish(svc, machine)
    svc.update_state_machine(stateMachineArn=machine, definition=PASS2)
    v2 = publish(svc, machine)
    arn = alias(svc, "PROD", [{"stateMachineVersionArn": v1, "weight": 100}], description="d")
    assert arn == machine + ":PROD"
    assert alias(svc, "PROD", [{"stateMachineVersionArn": v1, "weight": 100}], description="d") == arn
    with pytest.raises(ApiError) as err:
        alias(svc, "PROD", [{"stateMachineVersionArn": v2, "weight": 100}], description="d")
    assert err.value.code == "ConflictException"
    routing = [{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 50}]
    svc.update_state_machine_alias(stateMachineAliasArn=arn, routingConfiguration=routing)
    described = svc.describe_state_machine_alias(stateMachineAliasArn=arn)
    assert described["routingConfiguration"] == routing and described["name"] == "PROD" and described["description"] == "d"
    with pytest.raises(ApiError) as err:
        svc.delete_state_machine_version(stateMachineVersionArn=v1)
    assert err.value.message == "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [PROD]"
    assert [a["stateMachineAliasArn"] for a in svc.list_state_machine_aliases(stateMachineArn=v2)["stateMachineAliases"]] == [arn]
    svc.delete_state_machine_alias(stateMachineAliasArn=arn)
    svc.delete_state_machine_alias(stateMachineAliasArn=arn)
    assert svc.list_state_machine_aliases(stateMachineArn=machine)["stateMachineAliases"] == []
    with pytest.raises(ApiError) as err:
        svc.update_state_machine_alias(stateMachineAliasArn=arn, description="x")
    assert (err.value.code, err.value.message) == ("ResourceNotFound", "Request references a resource that does not exist.")


@pytest.mark.parametrize("routing, message", [
    ([{"stateMachineVersionArn": "{m}:1", "weight": 70}, {"stateMachineVersionArn": "{m}:2", "weight": 29}],
     "Sum of routing configuration weights must equal 100. Received: [70, 29]"),
    ([{"stateMachineVersionArn": "{m}:1", "weight": 50}, {"stateMachineVersionArn": "{m}:1", "weight": 50}],
     "Routing configuration must contain distinct state machine version ARNs. Received: [{m}:1, {m}:1]"),
    ([{"stateMachineVersionArn": "{m}", "weight": 100}],
     "Routing configuration must contain state machine version ARNs. Received: [{m}]"),
    ([{"stateMachineVersionArn": "{m}:1", "weight": 101}],
     "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100"),
])
def test_invalid_routing_is_refused_with_aws_words(svc, machine, routing, message):
    publish(svc, machine)
    svc.update_state_machine(stateMachineArn=machine, definition=PASS2)
    publish(svc, machine)
    routing = [{k: (v.replace("{m}", machine) if isinstance(v, str) else v) for k, v in r.items()} for r in routing]
    with pytest.raises(ApiError) as err:
        alias(svc, "A", routing)
    assert (err.value.code, err.value.message) == ("ValidationException", message.replace("{m}", machine))


@pytest.mark.parametrize("name", ["123", "INVALID ALIAS", "!INVALID", "ALIAS@", "A" * 81])
def test_alias_names_follow_the_pattern(svc, machine, name):
    v1 = publish(svc, machine)
    with pytest.raises(ApiError) as err:
        alias(svc, name, [{"stateMachineVersionArn": v1, "weight": 100}])
    assert err.value.code == "ValidationException" and f"Value '{name}' at 'name'" in err.value.message


def test_resolve_target_for_machine_version_and_alias(svc, machine):
    record, revision, version_arn, alias_arn = resolve_target(svc, machine)
    assert (record.arn, version_arn, alias_arn) == (machine, None, None)
    v1 = publish(svc, machine)
    svc.update_state_machine(stateMachineArn=machine, definition=PASS2)
    record, revision, version_arn, alias_arn = resolve_target(svc, v1)
    assert '"v": 1' in record.definition and revision != svc.describe_state_machine(stateMachineArn=machine)["revisionId"]
    assert (version_arn, alias_arn) == (v1, None)
    a = alias(svc, "live", [{"stateMachineVersionArn": v1, "weight": 100}])
    assert resolve_target(svc, a)[2:] == (v1, a)
    with pytest.raises(ApiError) as err:
        resolve_target(svc, machine + ":9")
    assert (err.value.code, err.value.message) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{machine}:9'")


def test_pick_version_follows_weights():
    routing = [{"stateMachineVersionArn": "a:1", "weight": 80}, {"stateMachineVersionArn": "a:2", "weight": 20}]
    rng = random.Random(7)
    picks = [pick_version(routing, rng) for _ in range(2000)]
    share = picks.count("a:1") / len(picks)
    assert 0.75 < share < 0.85
    assert {pick_version([{"stateMachineVersionArn": "a:1", "weight": 0}, {"stateMachineVersionArn": "a:2", "weight": 100}], rng) for _ in range(50)} == {"a:2"}


def test_forget_versions_and_aliases(svc, machine):
    v1 = publish(svc, machine)
    alias(svc, "x", [{"stateMachineVersionArn": v1, "weight": 100}])
    svc.forget_versions_and_aliases(machine)
    assert svc.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"] == []
    assert svc.list_state_machine_aliases(stateMachineArn=machine)["stateMachineAliases"] == []
    assert ROLE

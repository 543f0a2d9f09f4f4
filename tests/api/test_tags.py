"""TagResource, UntagResource, ListTagsForResource."""

from __future__ import annotations

import pytest
from api_helpers import PASS, ROLE

from stepflow.errors import ApiError


def test_tags_of_a_state_machine(svc):
    arn = svc.create_state_machine(name="t", definition=PASS, roleArn=ROLE, tags=[{"key": "a", "value": "1"}])["stateMachineArn"]
    assert svc.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "a", "value": "1"}]
    svc.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": ""}, {"key": "a", "value": "2"}])
    assert svc.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "a", "value": "2"}, {"key": "b", "value": ""}]
    svc.untag_resource(resourceArn=arn, tagKeys=["a", "missing"])
    assert svc.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": ""}]


def test_versions_cannot_be_tagged_and_unknown_resources_are_not_found(svc, machine):
    version = svc.publish_state_machine_version(stateMachineArn=machine)["stateMachineVersionArn"]
    for arn in (version, machine + "-gone"):
        with pytest.raises(ApiError) as err:
            svc.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
        assert (err.value.code, err.value.message) == ("ResourceNotFound", f"Resource not found: '{arn}'")
    with pytest.raises(ApiError) as err:
        svc.list_tags_for_resource(resourceArn="not-an-arn")
    assert err.value.code == "InvalidArn"


def test_tag_validation_and_limit(svc, machine):
    with pytest.raises(ApiError) as err:
        svc.tag_resource(resourceArn=machine, tags=[{"key": "", "value": "v"}])
    assert err.value.code == "ValidationException"
    svc.tag_resource(resourceArn=machine, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    with pytest.raises(ApiError) as err:
        svc.tag_resource(resourceArn=machine, tags=[{"key": "one-more", "value": "v"}])
    assert err.value.code == "TooManyTags"
    svc.tag_resource(resourceArn=machine, tags=[{"key": "k0", "value": "replaced"}])  # replacing is not adding


def test_tags_survive_in_sqlite(tmp_path):
    from api_helpers import make_runtime

    url = f"sqlite:///{tmp_path}/s.db"
    svc = make_runtime(store_url=url).service
    arn = svc.create_activity(name="act")["activityArn"]
    svc.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"}])
    again = make_runtime(store_url=url).service
    assert again.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]

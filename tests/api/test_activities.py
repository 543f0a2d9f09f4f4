"""Activities API and the in-process activity queue."""

from __future__ import annotations

import asyncio

import pytest

from stepflow.api.activities import ActivityQueue
from stepflow.errors import ApiError, StatesError


def test_create_is_idempotent_by_name_and_describe_lists(svc):
    first = svc.create_activity(name="work", tags=[{"key": "team", "value": "etl"}])
    again = svc.create_activity(name="work", tags=[{"key": "other", "value": "x"}])
    assert again == first
    assert first["activityArn"] == "arn:aws:states:us-east-1:123456789012:activity:work"
    described = svc.describe_activity(activityArn=first["activityArn"])
    assert described == {"activityArn": first["activityArn"], "name": "work", "creationDate": first["creationDate"]}
    svc.create_activity(name="second")
    names = [a["name"] for a in svc.list_activities()["activities"]]
    assert names == ["work", "second"]
    assert svc.list_tags_for_resource(resourceArn=first["activityArn"])["tags"] == [{"key": "team", "value": "etl"}]


def test_invalid_name_and_missing_activity(svc):
    with pytest.raises(ApiError) as err:
        svc.create_activity(name="TestActivity InvalidName$")
    assert (err.value.code, err.value.message) == ("InvalidName", "Invalid Name: 'TestActivity InvalidName$'")
    arn = svc.create_activity(name="gone")["activityArn"]
    assert svc.delete_activity(activityArn=arn) == {}
    assert svc.delete_activity(activityArn=arn) == {}  # deleting twice is fine, as in AWS
    with pytest.raises(ApiError) as err:
        svc.describe_activity(activityArn=arn)
    assert (err.value.code, err.value.message) == ("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
    with pytest.raises(ApiError) as err:
        svc.describe_activity(activityArn="arn:aws:states:us-east-1:123456789012:stateMachine:x")
    assert err.value.code == "InvalidArn"


def test_list_activities_pages(svc):
    for i in range(5):
        svc.create_activity(name=f"a{i}")
    page = svc.list_activities(maxResults=2)
    assert [a["name"] for a in page["activities"]] == ["a0", "a1"]
    rest = svc.list_activities(maxResults=10, nextToken=page["nextToken"])
    assert [a["name"] for a in rest["activities"]] == ["a2", "a3", "a4"] and "nextToken" not in rest
    with pytest.raises(ApiError) as err:
        svc.list_activities(nextToken="not a token")
    assert err.value.code == "InvalidToken"


def test_get_activity_task_long_poll_receives_a_task_put_while_waiting(svc):
    arn = svc.create_activity(name="worker")["activityArn"]
    started = []

    async def scenario():
        poll = asyncio.ensure_future(svc.get_activity_task(activityArn=arn, workerName="w1"))
        await asyncio.sleep(0.01)
        assert not poll.done()
        svc.activity_queue.put(arn, "token-1", '{"a": 1}', on_started=started.append)
        return await asyncio.wait_for(poll, 1)

    assert asyncio.run(scenario()) == {"taskToken": "token-1", "input": '{"a": 1}'}
    assert started == ["w1"]


def test_get_activity_task_times_out_empty_and_rejects_missing_activity(svc):
    arn = svc.create_activity(name="idle")["activityArn"]
    svc.activity_queue.poll_seconds = 0.02
    assert asyncio.run(svc.get_activity_task(activityArn=arn)) == {}
    with pytest.raises(ApiError) as err:
        asyncio.run(svc.get_activity_task(activityArn=arn + "x"))
    assert err.value.code == "ActivityDoesNotExist"


def test_queue_is_fifo_per_activity_and_skips_cancelled_tasks():
    queue = ActivityQueue(poll_seconds=0.01)

    async def drain(arn, n):
        return [(await queue.get(arn)).get("taskToken") for _ in range(n)]

    queue.put("A", "t1", "{}")
    queue.put("B", "b1", "{}")
    queue.put("A", "t2", "{}")
    queue.put("A", "t3", "{}")
    assert queue.cancel("t2") and not queue.cancel("nope")
    assert queue.pending("A") == 2
    assert asyncio.run(drain("A", 3)) == ["t1", "t3", None]
    assert asyncio.run(drain("B", 1)) == ["b1"]


def test_queue_check_says_what_aws_says_for_a_missing_activity():
    queue = ActivityQueue(exists=lambda arn: arn.endswith(":here"))
    queue.check("arn:aws:states:us-east-1:1:activity:here")
    with pytest.raises(StatesError) as err:
        queue.check("arn:aws:states:us-east-1:1:activity:gone")
    assert err.value.error == "States.Runtime"
    assert err.value.cause == "The activity arn:aws:states:us-east-1:1:activity:gone does not exist."

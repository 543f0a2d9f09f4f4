"""Activities: CreateActivity, DescribeActivity, ListActivities, DeleteActivity and the worker's
GetActivityTask long poll, over an in-process :class:`ActivityQueue`.

The engine puts a task in the queue when a Task state's resource is an activity ARN
(``arn:aws:states:REGION:ACCOUNT:activity:NAME``); a worker's GetActivityTask takes it, and the
worker answers with SendTaskSuccess/Failure/Heartbeat and the task token. Pending tasks live in
memory only: after a restart the engine re-issues in-flight tasks, which puts them back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from stepflow.api.common import check_name, expect_kind, paginate, require, with_token
from stepflow.api.tags import ACTIVITY, MAX_TAGS, tag_map, too_many_tags
from stepflow.errors import RUNTIME, ApiError, StatesError

POLL_SECONDS = 60.0  # AWS holds a GetActivityTask poll open at most 60 seconds


@dataclass(slots=True)
class ActivityTask:
    """One scheduled activity task waiting for a worker."""

    token: str
    input_text: str
    on_started: Callable[[str | None], None] | None = None
    cancelled: bool = False


@dataclass(slots=True)
class _Lane:
    """The tasks and the waiting workers of one activity."""

    tasks: deque = field(default_factory=deque)
    waiters: deque = field(default_factory=deque)


class ActivityQueue:
    """Pending activity tasks by activity ARN, handed to long-polling workers in FIFO order.

    Use on the event loop thread. ``exists`` (optional) tells whether an activity exists, for
    :meth:`check`; ``poll_seconds`` is the longest a :meth:`get` waits.
    """

    def __init__(self, exists: Callable[[str], bool] | None = None, poll_seconds: float = POLL_SECONDS):
        self._lanes: dict[str, _Lane] = {}
        self._by_token: dict[str, ActivityTask] = {}
        self._exists = exists
        self.poll_seconds = poll_seconds

    def check(self, activity_arn: str) -> None:
        """Raise States.Runtime (AWS's words) when the activity does not exist."""
        if self._exists is not None and not self._exists(activity_arn):
            raise StatesError(RUNTIME, f"The activity {activity_arn} does not exist.")

    def put(self, activity_arn: str, task_token: str, input_text: str, on_started: Callable[[str | None], None] | None = None) -> None:
        """Schedule a task; ``on_started(worker_name)`` runs when a worker takes it."""
        task = ActivityTask(task_token, input_text, on_started)
        self._by_token[task_token] = task
        lane = self._lanes.setdefault(activity_arn, _Lane())
        while lane.waiters:
            waiter = lane.waiters.popleft()
            if not waiter.done():
                waiter.set_result(task)
                return
        lane.tasks.append(task)

    def cancel(self, task_token: str) -> bool:
        """Withdraw a task no worker has taken yet (its state timed out or the execution ended)."""
        task = self._by_token.pop(task_token, None)
        if task is None:
            return False
        task.cancelled = True
        return True

    def pending(self, activity_arn: str) -> int:
        """How many tasks of an activity wait for a worker."""
        lane = self._lanes.get(activity_arn)
        return sum(1 for t in lane.tasks if not t.cancelled) if lane else 0

    async def get(self, activity_arn: str, worker_name: str | None = None, timeout: float | None = None) -> dict:
        """The next task as ``{"taskToken", "input"}``, or ``{}`` when none came within the timeout."""
        task = self._take(activity_arn)
        if task is None:
            task = await self._wait(activity_arn, self.poll_seconds if timeout is None else timeout)
        if task is None:
            return {}
        self._by_token.pop(task.token, None)
        if task.on_started is not None:
            task.on_started(worker_name)
        return {"taskToken": task.token, "input": task.input_text}

    def _take(self, activity_arn: str) -> ActivityTask | None:
        lane = self._lanes.get(activity_arn)
        while lane is not None and lane.tasks:
            task = lane.tasks.popleft()
            if not task.cancelled:
                return task
        return None

    async def _wait(self, activity_arn: str, timeout: float) -> ActivityTask | None:
        waiter = asyncio.get_running_loop().create_future()
        lane = self._lanes.setdefault(activity_arn, _Lane())
        lane.waiters.append(waiter)
        try:
            task = await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            if waiter in lane.waiters:
                lane.waiters.remove(waiter)
        if task.cancelled:  # withdrawn between hand-over and wake-up: poll again for the rest
            return self._take(activity_arn)
        return task


class ActivitiesMixin:
    """The activity actions of :class:`stepflow.service.StepFunctions`."""

    @property
    def activity_queue(self) -> ActivityQueue:
        """The service's one activity queue (made on first use)."""
        queue = self.__dict__.get("_activity_queue")
        if queue is None:
            queue = self.__dict__["_activity_queue"] = ActivityQueue(self.activity_exists)
        return queue

    def activity_exists(self, activity_arn: str) -> bool:
        return self.store.get_resource(ACTIVITY, activity_arn) is not None

    def create_activity(self, name: str = None, tags: list = None, encryptionConfiguration: dict = None, **_) -> dict:
        require(name=name)
        check_name(name)
        arn = self._arn("activity", name)
        existing = self.store.get_resource(ACTIVITY, arn)
        encryption = encryptionConfiguration or {"type": "AWS_OWNED_KEY"}
        if existing is not None:
            if existing.get("encryptionConfiguration", encryption) != encryption:
                raise ApiError("ActivityAlreadyExists", f"Activity already exists. EncryptionConfiguration may not be updated: '{arn}'")
            return {"activityArn": arn, "creationDate": existing["creationDate"]}
        tag_values = tag_map(tags)
        if len(tag_values) > MAX_TAGS:
            raise too_many_tags(arn)
        doc = {"activityArn": arn, "name": name, "creationDate": self.clock.now(), "tags": tag_values, "encryptionConfiguration": encryption}
        self.store.put_resource(ACTIVITY, arn, doc)
        return {"activityArn": arn, "creationDate": doc["creationDate"]}

    def describe_activity(self, activityArn: str = None, **_) -> dict:
        doc = self._activity(activityArn)
        out = {"activityArn": doc["activityArn"], "name": doc["name"], "creationDate": doc["creationDate"]}
        if doc.get("encryptionConfiguration", {}).get("type", "AWS_OWNED_KEY") != "AWS_OWNED_KEY":
            out["encryptionConfiguration"] = doc["encryptionConfiguration"]
        return out

    def list_activities(self, maxResults: int = None, nextToken: str = None, **_) -> dict:
        docs = self.store.list_resources(ACTIVITY)
        page, token = paginate(docs, maxResults, nextToken)
        items = [{"activityArn": d["activityArn"], "name": d["name"], "creationDate": d["creationDate"]} for d in page]
        return with_token({"activities": items}, token)

    def delete_activity(self, activityArn: str = None, **_) -> dict:
        require(activityArn=activityArn)
        expect_kind(activityArn, "activity")
        self.store.delete_resource(ACTIVITY, activityArn)
        return {}

    async def get_activity_task(self, activityArn: str = None, workerName: str = None, **_) -> dict:
        self._activity(activityArn)
        task = await self.activity_queue.get(activityArn, workerName)
        self.runner.before_reply()  # the ActivityStarted it caused is committed before the worker hears of it
        return task

    def _activity(self, arn: str | None) -> dict:
        require(activityArn=arn)
        expect_kind(arn, "activity")
        doc = self.store.get_resource(ACTIVITY, arn)
        if doc is None:
            raise ApiError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
        return doc

"""TagResource, UntagResource, ListTagsForResource for state machines and activities.

A state machine's tags live on its :class:`~stepflow.store.records.StateMachineRecord` (where
CreateStateMachine's ``tags`` put them); an activity's in its resource document. Versions,
aliases and executions cannot be tagged (ResourceNotFound, as AWS answers).
"""

from __future__ import annotations

from typing import Any

from stepflow.api.common import arn_kind, invalid_arn, require
from stepflow.errors import ApiError

MAX_TAGS = 50  # per resource (Step Functions quota)
MAX_KEY = 128
MAX_VALUE = 256
ACTIVITY = "activity"  # resource kind of activity documents


def tag_map(tags: Any, field: str = "tags") -> dict[str, str]:
    """A TagList (``[{"key", "value"}]``) as a dict, checked as the API model says."""
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise ApiError("ValidationException", f"1 validation error detected: Value '{tags}' at '{field}' failed to satisfy constraint: Member must be a list")
    out: dict[str, str] = {}
    for index, tag in enumerate(tags, start=1):
        key, value = _tag_pair(tag, f"{field}.{index}.member")
        out[key] = value
    return out


def _tag_pair(tag: Any, where: str) -> tuple[str, str]:
    if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
        raise ApiError("ValidationException", f"1 validation error detected: Value null at '{where}.key' failed to satisfy constraint: Member must not be null")
    key, value = tag["key"], tag.get("value", "")
    if not isinstance(value, str):
        raise ApiError("ValidationException", f"1 validation error detected: Value '{value}' at '{where}.value' failed to satisfy constraint: Member must be a string")
    if not 1 <= len(key) <= MAX_KEY:
        bound = "greater than or equal to 1" if not key else f"less than or equal to {MAX_KEY}"
        raise ApiError("ValidationException", f"1 validation error detected: Value '{key}' at '{where}.key' failed to satisfy constraint: Member must have length {bound}")
    if len(value) > MAX_VALUE:
        raise ApiError("ValidationException", f"1 validation error detected: Value '{value}' at '{where}.value' failed to satisfy constraint: Member must have length less than or equal to {MAX_VALUE}")
    return key, value


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """A dict of tags as the API's TagList."""
    return [{"key": k, "value": v} for k, v in tags.items()]


def too_many_tags(arn: str) -> ApiError:
    return ApiError("TooManyTags", f"Too many tags: the maximum number of tags for a resource is {MAX_TAGS}: '{arn}'")


class TagsMixin:
    """The tagging actions of :class:`stepflow.service.StepFunctions`."""

    def tag_resource(self, resourceArn: str = None, tags: list = None, **_) -> dict:
        require(resourceArn=resourceArn, tags=tags)
        new = tag_map(tags)
        current = self._tags_of(resourceArn)
        merged = {**current, **new}
        if len(merged) > MAX_TAGS:
            raise too_many_tags(resourceArn)
        self._set_tags(resourceArn, merged)
        return {}

    def untag_resource(self, resourceArn: str = None, tagKeys: list = None, **_) -> dict:
        require(resourceArn=resourceArn, tagKeys=tagKeys)
        current = self._tags_of(resourceArn)
        kept = {k: v for k, v in current.items() if k not in set(tagKeys)}
        self._set_tags(resourceArn, kept)
        return {}

    def list_tags_for_resource(self, resourceArn: str = None, **_) -> dict:
        require(resourceArn=resourceArn)
        return {"tags": tag_list(self._tags_of(resourceArn))}

    # -- helpers ------------------------------------------------------------------------------

    def _tags_of(self, arn: str) -> dict[str, str]:
        kind = arn_kind(arn)
        if kind == "stateMachine":
            record = self.store.get_state_machine(arn)
            if record is not None:
                return dict(record.tags or {})
        elif kind == ACTIVITY:
            doc = self.store.get_resource(ACTIVITY, arn)
            if doc is not None:
                return dict(doc.get("tags") or {})
        elif kind not in ("version", "alias", "execution", "express", "mapRun"):
            raise invalid_arn(arn)
        raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")

    def _set_tags(self, arn: str, tags: dict[str, str]) -> None:
        if arn_kind(arn) == "stateMachine":
            record = self.store.get_state_machine(arn)
            record.tags = tags
            self.store.put_state_machine(record)
            return
        doc = self.store.get_resource(ACTIVITY, arn)
        doc["tags"] = tags
        self.store.put_resource(ACTIVITY, arn, doc)

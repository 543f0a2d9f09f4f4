"""History events in AWS's shapes (GetExecutionHistory).

While an execution runs, its new events are compact tuples ``(id, previousEventId, timestamp,
type, details)`` (building a dict per event was a fifth of a 10,000-item Map's time); stores
turn them into the API's dicts ``{"id", "previousEventId", "timestamp", "type",
<detailsKey>: {...}}`` with :func:`as_dict`. The timestamp is epoch seconds (the API layer
formats it). Payloads are stored as JSON text, as
AWS returns them, with ``...Details: {"truncated": bool}``.
"""

from __future__ import annotations

from stepflow.asl.json_text import dumps, size_in_bytes
from stepflow.engine.tasks import ACTIVITY, LAMBDA, Resource

HISTORY_PAYLOAD_LIMIT = 256 * 1024  # bytes kept per payload in history before truncation

# Shared, never mutated: most payloads are not truncated, and one object for all of them keeps
# the garbage collector's work down (profiled: allocation-triggered collections dominated Map).
NOT_TRUNCATED = {"truncated": False}

_KEYS: dict[str, str | None] = {}  # event type -> details field, filled as types are seen


def as_dict(event) -> dict:
    """The API shape of an event (a tuple from the interpreter, or already a dict)."""
    if isinstance(event, dict):
        return event
    event_id, previous, timestamp, event_type, details = event
    out = {"id": event_id, "previousEventId": previous, "timestamp": timestamp, "type": event_type}
    if details is not None:
        if type(details) is tuple:
            details = _expand(event_type, details)
        out[details_key(event_type)] = details
    return out


def _expand(event_type: str, details: tuple) -> dict:
    """AWS's shape of compact details. The engine records the commonest details as tuples of
    strings and numbers: ``(name, input)`` for ``*StateEntered`` and ``(name, output)`` for
    ``*StateExited`` when the payload is too small ever to be truncated, ``(name, index)`` for
    ``MapIteration*``. Such a tuple, and so the event tuple holding it, drops out of the garbage
    collector's tracking at its first collection, where a dict would keep the event tracked for
    as long as the history lives (a Map keeps six events per item)."""
    name, value = details
    if event_type.endswith("Entered"):
        return {"name": name, "input": value, "inputDetails": NOT_TRUNCATED}
    if event_type.endswith("Exited"):
        return {"name": name, "output": value, "outputDetails": NOT_TRUNCATED}
    return {"name": name, "index": value}


def event_type(event) -> str:
    """The type of an event in either form."""
    return event["type"] if isinstance(event, dict) else event[3]


def event_id(event) -> int:
    """The id of an event in either form."""
    return event["id"] if isinstance(event, dict) else event[0]


def details_key(event_type: str) -> str | None:
    """The name of the details field for an event type (None for types without details)."""
    key = _KEYS.get(event_type, "")
    if key == "":
        key = _KEYS[event_type] = _details_key(event_type)
    return key


def _details_key(event_type: str) -> str | None:
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    if event_type in _NO_DETAILS:
        return None
    return event_type[0].lower() + event_type[1:] + "EventDetails"


_NO_DETAILS = frozenset(
    {
        "ParallelStateStarted",
        "ParallelStateSucceeded",
        "ParallelStateFailed",
        "ParallelStateAborted",
        "MapStateSucceeded",
        "MapStateFailed",
        "MapStateAborted",
        "LambdaFunctionStarted",
        "WaitStateAborted",
        "MapRunSucceeded",
        "MapRunAborted",
    }
)


def payload(value, limit: int = HISTORY_PAYLOAD_LIMIT) -> tuple[str, dict]:
    """(JSON text, details) for a payload in history, truncated as AWS does past the limit."""
    return _truncate(dumps(value), limit)


def payload_text(text: str, limit: int = HISTORY_PAYLOAD_LIMIT) -> tuple[str, dict]:
    """(text, details) for a payload that is already JSON text."""
    return _truncate(text, limit)


def _truncate(text: str, limit: int) -> tuple[str, dict]:
    if len(text) * 4 <= limit or size_in_bytes(text) <= limit:
        return text, NOT_TRUNCATED
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore"), {"truncated": True}


def state_entered(name: str, input_text: str) -> dict:
    if len(input_text) * 4 <= HISTORY_PAYLOAD_LIMIT:  # fast path: small payloads are never truncated
        return {"name": name, "input": input_text, "inputDetails": NOT_TRUNCATED}
    text, info = payload_text(input_text)
    return {"name": name, "input": text, "inputDetails": info}


def state_exited(name: str, output_text: str, assigned: dict | None) -> dict:
    if len(output_text) * 4 <= HISTORY_PAYLOAD_LIMIT:
        details = {"name": name, "output": output_text, "outputDetails": NOT_TRUNCATED}
    else:
        text, info = payload_text(output_text)
        details = {"name": name, "output": text, "outputDetails": info}
    if assigned:
        details["assignedVariables"] = {k: dumps(v) for k, v in assigned.items()}
        details["assignedVariablesDetails"] = {"truncated": False}
    return details


def error_details(error: str | None, cause: str | None) -> dict:
    details = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details


# -- task families ------------------------------------------------------------------------------


def task_family(resource: Resource) -> str:
    """'Lambda', 'Activity' or 'Task': the prefix of the task's history event types."""
    if resource.kind == LAMBDA:
        return "LambdaFunction"
    if resource.kind == ACTIVITY:
        return "Activity"
    return "Task"


def task_scheduled(resource: Resource, parameters_text: str, timeout: float | None, heartbeat: float | None) -> tuple[str, dict]:
    """The Scheduled event of a task, in its family's shape."""
    text, info = payload_text(parameters_text)
    if resource.kind == LAMBDA:
        details = {"resource": resource.arn, "input": text, "inputDetails": info}
        if timeout is not None:
            details["timeoutInSeconds"] = int(timeout)
        return "LambdaFunctionScheduled", details
    if resource.kind == ACTIVITY:
        details = {"resource": resource.arn, "input": text, "inputDetails": info}
        _add_timeouts(details, timeout, heartbeat)
        return "ActivityScheduled", details
    details = {
        "resourceType": resource.service,
        "resource": resource.history_resource,
        "region": resource.region,
        "parameters": text,
    }
    _add_timeouts(details, timeout, heartbeat)
    return "TaskScheduled", details


def _add_timeouts(details: dict, timeout: float | None, heartbeat: float | None) -> None:
    if timeout is not None:
        details["timeoutInSeconds"] = int(timeout)
    if heartbeat is not None:
        details["heartbeatInSeconds"] = int(heartbeat)


def task_started(resource: Resource) -> tuple[str, dict | None]:
    if resource.kind == LAMBDA:
        return "LambdaFunctionStarted", None
    if resource.kind == ACTIVITY:
        return "ActivityStarted", {"workerName": ""}
    return "TaskStarted", {"resourceType": resource.service, "resource": resource.history_resource}


def task_succeeded(resource: Resource, output_text: str) -> tuple[str, dict]:
    text, info = payload_text(output_text)
    family = task_family(resource)
    details = {"output": text, "outputDetails": info}
    if family == "Task":
        details = {"resourceType": resource.service, "resource": resource.history_resource, **details}
    return f"{family}Succeeded", details


def task_failed(resource: Resource, error: str | None, cause: str | None, timed_out: bool = False) -> tuple[str, dict]:
    family = task_family(resource)
    details = error_details(error, cause)
    if family == "Task":
        details = {"resourceType": resource.service, "resource": resource.history_resource, **details}
    return f"{family}{'TimedOut' if timed_out else 'Failed'}", details


def task_submitted(resource: Resource, output_text: str) -> tuple[str, dict]:
    text, info = payload_text(output_text)
    return "TaskSubmitted", {
        "resourceType": resource.service,
        "resource": resource.history_resource,
        "output": text,
        "outputDetails": info,
    }

"""A state machine's ``Events`` of type Schedule (EventBridge rule) and ScheduleV2 (EventBridge
Scheduler) as ScheduleSpecs for the scheduler; other event types are reported as not run."""

from __future__ import annotations

import json
import re
from typing import Any

from stepflow.errors import TemplateError
from stepflow.sam.context import Context
from stepflow.sam.specs import ScheduleSpec

_EXPRESSION = {"Schedule": re.compile(r"(cron|rate)\(.+\)"), "ScheduleV2": re.compile(r"(cron|rate|at)\(.+\)")}
_EXPRESSION_KEY = {"Schedule": "Schedule", "ScheduleV2": "ScheduleExpression"}


def schedules(ctx: Context, logical_id: str, events: Any) -> list[ScheduleSpec]:
    """The schedules among a state machine's Events (in template order)."""
    where = f"Resources/{logical_id}/Properties/Events"
    if not isinstance(events, dict):
        raise TemplateError(f"{where}: must be a map of event names to event sources")
    out = []
    for event_id, event in events.items():
        event_type = event.get("Type") if isinstance(event, dict) else None
        if event_type in _EXPRESSION:
            out.append(_schedule(ctx, logical_id, event_id, event_type, event.get("Properties") or {}))
        else:
            ctx.warn(f"{where}/{event_id}: event type {event_type} is not run locally")
    return out


def _schedule(ctx: Context, logical_id: str, event_id: str, kind: str, props: dict) -> ScheduleSpec:
    where = f"Resources/{logical_id}/Properties/Events/{event_id}/Properties"
    resolve = ctx.resolver
    key = _EXPRESSION_KEY[kind]
    if props.get(key) is None:
        raise TemplateError(f"{where}/{key}: a {kind} event needs {key}")
    expression = resolve.string(props[key], f"{where}/{key}").strip()
    if not _EXPRESSION[kind].fullmatch(expression):
        forms = "cron(...) or rate(...)" + (" or at(...)" if kind == "ScheduleV2" else "")
        raise TemplateError(f"{where}/{key}: {expression!r} is not a {forms} expression")
    return ScheduleSpec(
        name=_optional(ctx, props, "Name", where) or f"{logical_id}{event_id}",
        expression=expression,
        state_machine_arn=resolve.value({"Fn::GetAtt": [logical_id, "Arn"]}, where),
        input=_input(ctx, props, where),
        enabled=_enabled(ctx, kind, props, where),
        timezone=_optional(ctx, props, "ScheduleExpressionTimezone", where) if kind == "ScheduleV2" else None,
        kind=kind,
        start_date=_optional(ctx, props, "StartDate", where),
        end_date=_optional(ctx, props, "EndDate", where),
    )


def _optional(ctx: Context, props: dict, key: str, where: str) -> str | None:
    return None if props.get(key) is None else ctx.resolver.string(props[key], f"{where}/{key}")


def _input(ctx: Context, props: dict, where: str) -> str | None:
    """The execution input: JSON text (a YAML map is accepted and written as JSON)."""
    if props.get("Input") is None:
        return None
    value = ctx.resolver.value(props["Input"], f"{where}/Input")
    if not isinstance(value, str):
        return json.dumps(value)
    try:
        json.loads(value)
    except ValueError as err:
        raise TemplateError(f"{where}/Input: not valid JSON: {err}") from None
    return value


def _enabled(ctx: Context, kind: str, props: dict, where: str) -> bool:
    if kind == "Schedule" and "Enabled" in props and "State" in props:
        raise TemplateError(f"{where}: give Enabled or State, not both")
    if kind == "Schedule" and "Enabled" in props:
        return ctx.resolver.boolean(props["Enabled"], f"{where}/Enabled")
    state = _optional(ctx, props, "State", where) or "ENABLED"
    if state not in ("ENABLED", "DISABLED"):
        raise TemplateError(f"{where}/State: {state!r} is not ENABLED or DISABLED")
    return state == "ENABLED"

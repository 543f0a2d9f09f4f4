"""The loop that fires schedules: at each due time it starts the schedule's state machine.

Each fire starts an execution named ``<schedule>-<UTC time>``: the name makes a fire idempotent,
so two stepflow processes sharing a store, or a restart right after a fire, never start it
twice (the second start gets ExecutionAlreadyExists). Missed fires while stepflow was down are
not replayed, as EventBridge does not replay them either.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid

from stepflow.errors import ApiError
from stepflow.scheduler.expressions import Schedule, parse

log = logging.getLogger("stepflow.scheduler")

MAX_SLEEP_SECONDS = 30.0  # re-check at least this often (clock changes, new schedules)


def execution_name(schedule_name: str, fire_time: dt.datetime) -> str:
    stamp = fire_time.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{schedule_name[:62]}-{stamp}"


def scheduled_event(rule_arn: str, fire_time: dt.datetime, region: str, account: str) -> dict:
    """The input EventBridge gives a target when the schedule has no Input of its own."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": fire_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class Scheduler:
    """Fires the given schedules (sam.ScheduleSpec) through the Step Functions service."""

    def __init__(self, service, specs, now=None):
        self.service = service
        self.specs = [s for s in specs if s.enabled]
        self.parsed: dict[str, Schedule] = {s.name: parse(s.expression, s.timezone) for s in self.specs}
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self.next_fire: dict[str, dt.datetime | None] = {}
        self.fired: list[str] = []  # execution ARNs started, newest last

    def plan(self) -> None:
        now = self._now()
        for spec in self.specs:
            self.next_fire[spec.name] = self.parsed[spec.name].next_after(now)

    async def run(self) -> None:
        self.plan()
        while True:
            due = [t for t in self.next_fire.values() if t is not None]
            if not due:
                return
            wait = (min(due) - self._now()).total_seconds()
            await asyncio.sleep(min(max(wait, 0.0), MAX_SLEEP_SECONDS))
            self.fire_due()

    def fire_due(self) -> None:
        now = self._now()
        for spec in self.specs:
            when = self.next_fire.get(spec.name)
            if when is not None and when <= now:
                self.fire(spec, when)
                self.next_fire[spec.name] = self.parsed[spec.name].next_after(when)

    def fire(self, spec, when: dt.datetime) -> str | None:
        rule_arn = f"arn:aws:scheduler:{self.service.region}:{self.service.account}:schedule/default/{spec.name}"
        payload = spec.input if spec.input is not None else json.dumps(
            scheduled_event(rule_arn, when, self.service.region, self.service.account))
        try:
            started = self.service.start_execution(
                stateMachineArn=spec.state_machine_arn, name=execution_name(spec.name, when), input=payload)
        except ApiError as err:
            if err.code != "ExecutionAlreadyExists":
                log.error("schedule %s could not start %s: %s", spec.name, spec.state_machine_arn, err.message)
            return None
        log.info("schedule %s started %s", spec.name, started["executionArn"])
        self.fired.append(started["executionArn"])
        return started["executionArn"]


def start_for(runtime) -> "asyncio.Task | None":
    """Start firing the schedules of the runtime's project (``stepflow serve --template``);
    None when it declares none. Call on the event loop."""
    project = getattr(runtime, "project", None)
    specs = list(getattr(project, "schedules", ()) or ())
    if not specs:
        return None
    scheduler = Scheduler(runtime.service, specs)
    runtime.scheduler = scheduler
    return asyncio.get_running_loop().create_task(scheduler.run())

"""EventBridge schedule expressions and the loop that fires them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepflow.runtime import DEFAULT_ROLE_ARN, Runtime, Settings
from stepflow.sam import ScheduleSpec
from stepflow.scheduler import Scheduler, ScheduleExpressionError, parse
from stepflow.scheduler.loop import execution_name

UTC = dt.timezone.utc
BASE = dt.datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("cron(0 2 * * ? *)", dt.datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),  # the conflict pipeline's daily run
        ("cron(0/15 * * * ? *)", dt.datetime(2026, 11, 23, 5, 15, tzinfo=UTC)),
        ("cron(0 10 ? * MON-FRI *)", dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("cron(0 10 ? * 2-6 *)", dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),  # 2-6 is MON-FRI in EventBridge
        ("cron(0 10 ? * 1 *)", dt.datetime(2026, 11, 29, 10, 0, tzinfo=UTC)),  # 1 is Sunday
        ("cron(0 18 L * ? *)", dt.datetime(2026, 11, 30, 18, 0, tzinfo=UTC)),
        ("cron(0 8 ? * 6#3 *)", dt.datetime(2026, 12, 18, 8, 0, tzinfo=UTC)),  # third Friday
        ("cron(0 8 1 1 ? 2028)", dt.datetime(2028, 1, 1, 8, 0, tzinfo=UTC)),
        ("rate(5 minutes)", dt.datetime(2026, 11, 23, 5, 5, tzinfo=UTC)),
        ("rate(1 hour)", dt.datetime(2026, 11, 23, 6, 0, tzinfo=UTC)),
        ("at(2026-12-01T09:00:00)", dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_next_fire_time(expression, expected):
    assert parse(expression).next_after(BASE) == expected


def test_timezone_moves_the_fire_time():
    assert parse("cron(0 2 * * ? *)", "Europe/Paris").next_after(BASE) == dt.datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def test_at_in_the_past_never_fires_again():
    assert parse("at(2020-01-01T00:00:00)").next_after(BASE) is None


@pytest.mark.parametrize("bad", ["rate(1 minutes)", "rate(2 minute)", "rate(0 minutes)", "cron(0 2 * * * *)",
                                 "cron(0 2 ? * ? *)", "cron(0 2 * *)", "cron(0 2 * * ? 1800)", "daily"])
def test_invalid_expressions_are_refused(bad):
    with pytest.raises(ScheduleExpressionError, match="ScheduleExpression is not valid"):
        parse(bad)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 59), st.integers(0, 10**6))
def test_rate_fires_every_period(minutes, offset):
    start = BASE + dt.timedelta(seconds=offset)
    assert parse(f"rate({minutes} minute{'s' if minutes > 1 else ''})").next_after(start) - start == dt.timedelta(minutes=minutes)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 400))
def test_daily_cron_fires_once_a_day_at_its_time(hour, minute, days):
    start = BASE + dt.timedelta(days=days)
    fire = parse(f"cron({minute} {hour} * * ? *)").next_after(start)
    assert (fire.hour, fire.minute) == (hour, minute)
    assert dt.timedelta(0) < fire - start <= dt.timedelta(days=1)


def test_scheduler_starts_each_fire_once():
    async def scenario():
        rt = Runtime(Settings(time_scale=0))
        machine = rt.service.create_state_machine(
            name="nightly", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=DEFAULT_ROLE_ARN)["stateMachineArn"]
        clock = {"now": BASE}
        spec = ScheduleSpec(name="nightly-2am", expression="cron(0 2 * * ? *)", state_machine_arn=machine)
        scheduler = Scheduler(rt.service, [spec], now=lambda: clock["now"])
        scheduler.plan()
        scheduler.fire_due()
        assert scheduler.fired == []
        clock["now"] = dt.datetime(2026, 11, 24, 2, 0, 1, tzinfo=UTC)
        scheduler.fire_due()
        assert len(scheduler.fired) == 1
        twin = Scheduler(rt.service, [spec], now=lambda: clock["now"])  # a second process, same store
        assert twin.fire(spec, dt.datetime(2026, 11, 24, 2, 0, tzinfo=UTC)) is None
        await asyncio.sleep(0)
        described = rt.service.describe_execution(executionArn=scheduler.fired[0])
        assert described["name"] == execution_name("nightly-2am", dt.datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
        event = json.loads(described["input"])
        assert event["detail-type"] == "Scheduled Event" and event["time"] == "2026-11-24T02:00:00Z"

    asyncio.run(scenario())


def test_serve_starts_the_template_schedules(tmp_path):
    """`stepflow serve --template` fires the schedules the template's state machines declare."""
    from stepflow.scheduler.loop import start_for

    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Tick:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      Name: tick\n"
        "      Definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}\n"
        "      Events:\n"
        "        Nightly: {Type: Schedule, Properties: {Schedule: 'cron(0 2 * * ? *)'}}\n"
    )

    async def scenario():
        rt = Runtime(Settings(template=str(tmp_path / "template.yaml"), lambda_mode="inprocess"))
        rt.register_project_state_machines()
        task = start_for(rt)
        await asyncio.sleep(0)
        assert task is not None and not task.done()
        (planned,) = rt.scheduler.next_fire.values()
        assert (planned.hour, planned.minute) == (2, 0)
        task.cancel()

    asyncio.run(scenario())

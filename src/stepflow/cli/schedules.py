"""`stepflow schedules`: the EventBridge schedules a template declares and when they fire next."""

from __future__ import annotations

import datetime as dt
import sys

import click


@click.command()
@click.option("--template", required=True, type=click.Path(exists=True, dir_okay=False), help="SAM template declaring the schedules.")
@click.option("--count", default=3, show_default=True, help="How many next fire times to show per schedule.")
def schedules(template, count):
    """List a template's schedules (Schedule / ScheduleV2 events) and their next fire times;
    `stepflow serve --template` fires them.

    Example: stepflow schedules --template pipelines/conflicts/template.yaml
    """
    from stepflow.errors import TemplateError
    from stepflow.sam import load_project
    from stepflow.scheduler import ScheduleExpressionError, parse

    try:
        project = load_project(template)
    except TemplateError as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    now = dt.datetime.now(dt.timezone.utc)
    for spec in project.schedules:
        try:
            schedule = parse(spec.expression, spec.timezone)
        except ScheduleExpressionError as err:
            click.echo(f"{spec.name}: {err}", err=True)
            continue
        moments, moment = [], now
        while len(moments) < count and (moment := schedule.next_after(moment)) is not None:
            moments.append(moment.strftime("%Y-%m-%d %H:%M UTC"))
        state = "" if spec.enabled else " (disabled)"
        click.echo(f"{spec.name}{state}  {spec.expression}  -> {spec.state_machine_arn}")
        for moment_text in moments:
            click.echo(f"    {moment_text}")

"""Commands that work on a store directly, without a server: executions, history, redrive,
stop, resume."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys

import click

from stepflow.store import DEFAULT_URL

store_option = click.option(
    "--store", "store_url", default=DEFAULT_URL, show_default=True, envvar="STEPFLOW_STORE",
    help="Store URL: sqlite:///path.db or postgresql://... (env STEPFLOW_STORE).",
)
template_option = click.option(
    "--template", type=click.Path(exists=True, dir_okay=False),
    help="SAM template whose functions run the execution's tasks.",
)


def _runtime(store_url: str, template: str | None = None, time_scale: float = 1.0):
    from stepflow.runtime import Runtime, Settings

    return Runtime(Settings(store_url=store_url, template=template, time_scale=time_scale))


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


@click.command()
@store_option
@click.option("--status", type=click.Choice(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]), help="Only executions with this status.")
@click.option("--state-machine", "state_machine_arn", help="Only executions of this state machine ARN.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def executions(store_url, status, state_machine_arn, as_json):
    """List executions in the store, newest first.

    Example: stepflow executions --status FAILED
    """
    rt = _runtime(store_url)
    for exe in rt.store.list_executions(state_machine_arn, status):
        if as_json:
            click.echo(json.dumps({"executionArn": exe.arn, "status": exe.status, "startDate": exe.start_date,
                                   "stopDate": exe.stop_date, "error": exe.error, "redriveCount": exe.redrive_count}))
        else:
            click.echo(f"{exe.status:10} {_when(exe.start_date)}  {_when(exe.stop_date)}  {exe.arn}")


@click.command()
@store_option
@click.argument("execution_arn")
@click.option("--json", "as_json", is_flag=True, help="Print events as JSON lines (the API's shape).")
def history(store_url, execution_arn, as_json):
    """Print an execution's history events.

    Example: stepflow history arn:aws:states:us-east-1:123456789012:execution:etl:run-1
    """
    rt = _runtime(store_url)
    if rt.store.get_execution(execution_arn) is None:
        _fail(f"ExecutionDoesNotExist: Execution Does Not Exist: '{execution_arn}'")
    for event in rt.store.history(execution_arn):
        if as_json:
            click.echo(json.dumps(event))
            continue
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
        name = details.get("name", "")
        extra = details.get("error") or ""
        click.echo(f"{event['id']:>5} {_when(event['timestamp'])}  {event['type']:<28} {name} {extra}".rstrip())


@click.command()
@store_option
@template_option
@click.argument("execution_arn")
@click.option("--time-scale", type=float, default=1.0, show_default=True, help="Multiplies Wait, Retry backoff and timeouts.")
def redrive(store_url, template, execution_arn, time_scale):
    """Redrive a FAILED, TIMED_OUT or ABORTED execution from its unsuccessful states and run
    it here to its end (successful Map iterations and Parallel branches are kept).

    Example: stepflow redrive --template template.yaml arn:aws:states:...:execution:etl:run-1
    """
    from stepflow.errors import ApiError

    async def go():
        rt = _runtime(store_url, template, time_scale)
        try:
            rt.service.redrive_execution(executionArn=execution_arn)
        except ApiError as err:
            _fail(f"{err.code}: {err.message}")
        exe = rt.runner.active.get(execution_arn)
        if exe is not None and not exe.finished:
            exe = await rt.runner.wait(execution_arn)
        return rt.service.describe_execution(executionArn=execution_arn)

    _report(asyncio.run(go()))


@click.command()
@store_option
@click.argument("execution_arn")
@click.option("--error", help="Error code recorded with the abort.")
@click.option("--cause", help="Cause recorded with the abort.")
def stop(store_url, execution_arn, error, cause):
    """Stop a RUNNING execution (it ends ABORTED), also one that a running `stepflow serve`
    runs: as StopExecution, it is taken over and stopped here; that server then drops it.

    Example: stepflow stop arn:aws:states:...:execution:etl:run-1 --cause "bad input"
    """
    from stepflow.errors import ApiError

    async def go():
        rt = _runtime(store_url)
        try:
            rt.service.stop_execution(executionArn=execution_arn, error=error, cause=cause)
            return rt.service.describe_execution(executionArn=execution_arn)
        except ApiError as err:
            _fail(f"{err.code}: {err.message}")
        finally:
            rt.close()

    described = asyncio.run(go())
    click.echo(f"{described['status']} {execution_arn}")


@click.command()
@store_option
@template_option
@click.option("--time-scale", type=float, default=1.0, show_default=True, help="Multiplies Wait, Retry backoff and timeouts.")
def resume(store_url, template, time_scale):
    """Continue every RUNNING execution of the store (after a crash) and run them to their end.

    Example: stepflow resume --store sqlite:///.stepflow/stepflow.db --template template.yaml
    """

    async def go():
        rt = _runtime(store_url, template, time_scale)
        running = rt.store.running()
        for exe in running:
            rt.runner.resume(exe)
        click.echo(f"resumed {len(running)} executions", err=True)
        finished = []
        for exe in running:
            if not exe.finished:
                exe = await rt.runner.wait(exe.arn)
            finished.append(exe)
        return finished

    for exe in asyncio.run(go()):
        click.echo(f"{exe.status:10} {exe.arn}")


def _report(described: dict) -> None:
    if described.get("output") is not None:
        click.echo(described["output"])
    status = described["status"]
    if status != "SUCCEEDED":
        click.echo(f"{status}: {described.get('error') or ''}: {described.get('cause') or ''}", err=True)
    sys.exit({"SUCCEEDED": 0, "FAILED": 1, "TIMED_OUT": 3, "ABORTED": 4}.get(status, 1))


COMMANDS = [executions, history, redrive, stop, resume]

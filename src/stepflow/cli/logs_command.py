"""``stepflow logs``: the log lines of a local Lambda function, as CloudWatch Logs shows them."""

from __future__ import annotations

import sys

import click

from stepflow.integrations.lambda_logs import DEFAULT_LOGS_DIR, LambdaLogs


def function_name(reference: str) -> str:
    """``name``, ``name:qualifier`` or a function ARN, as the bare function name."""
    if ":function:" in reference:
        reference = reference.split(":function:", 1)[1]
    return reference.split(":", 1)[0]


@click.command()
@click.argument("function")
@click.option("--execution", "execution_arn", metavar="ARN", help="Only invocations made by this execution.")
@click.option("--tail", type=click.IntRange(min=0), metavar="N", help="Only the last N lines.")
@click.option("--logs-dir", default=DEFAULT_LOGS_DIR, show_default=True, type=click.Path(file_okay=False),
              help="Where stepflow run/serve keep the logs (worker-process mode).")
def logs(function, execution_arn, tail, logs_dir):
    """Print the log lines of FUNCTION's invocations: START, what the handler printed or
    logged, END and REPORT (duration, memory), oldest first.

    Example: stepflow logs process-orders --execution arn:aws:states:us-east-1:123456789012:execution:Orders:run-1 --tail 20
    """
    store = LambdaLogs(logs_dir)
    name = function_name(function)
    if name not in store.functions():
        known = ", ".join(store.functions()) or "none"
        click.echo(f"No logs for function '{name}' in {store.root} (functions with logs: {known}).", err=True)
        sys.exit(1)
    for line in store.lines(name, execution_arn, tail):
        click.echo(line)

"""The ``stepflow`` command: thin click commands over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from stepflow.errors import DefinitionError, InvalidInputError, StepflowError

EXIT_CODES = {"SUCCEEDED": 0, "FAILED": 1, "TIMED_OUT": 3, "ABORTED": 4}
EXIT_USAGE = 2


def _read_definition(path: str) -> str:
    """Definition text from a JSON file (or YAML, converted to JSON)."""
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml

        return json.dumps(yaml.safe_load(text))
    return text


def _read_input(input_json: str | None, input_file: str | None) -> str:
    if input_json is not None and input_file is not None:
        raise click.UsageError("give --input or --input-file, not both")
    text = Path(input_file).read_text(encoding="utf-8") if input_file else (input_json if input_json is not None else "{}")
    try:
        json.loads(text)
    except ValueError as err:
        raise InvalidInputError(f"Invalid State Machine Execution Input: '{err}'") from None
    return text


class StepflowGroup(click.Group):
    """Commands whose stepflow errors (a store that cannot be reached, an execution this process
    lost to another) end with the message and exit status 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except StepflowError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=StepflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stepflow")
def cli() -> None:
    """stepflow: AWS Step Functions on one machine.

    Run Amazon States Language definitions with local Python Lambda handlers, serve the
    Step Functions API for boto3 and the aws CLI, and keep executions durable.

    Examples:

    \b
      stepflow run statemachine.asl.json --input '{"orders": [1, 2]}' --template template.yaml
      stepflow validate statemachines/*.asl.json
      stepflow serve --template template.yaml
    """


PARAMETER_OVERRIDES_HELP = "The template's Parameters, as sam deploy: KEY=VALUE (repeat, or several in one quoted string)."


def _definition_text(definition: str, template: str | None) -> str:
    """A definition file's JSON text; with --template, a name that is not a file is passed on as
    the logical id or name of one of the template's state machines."""
    if Path(definition).is_file():
        return _read_definition(definition)
    if template:
        return definition
    raise click.BadParameter(f"File '{definition}' does not exist.", param_hint="'DEFINITION'")


def _overrides(values: tuple[str, ...]) -> dict:
    from stepflow.sam import parse_parameter_overrides

    return parse_parameter_overrides(values)


@cli.command()
@click.argument("definition")
@click.option("--input", "input_json", help="Execution input as JSON text.")
@click.option("--input-file", type=click.Path(exists=True, dir_okay=False), help="Execution input from a JSON file.")
@click.option("--template", type=click.Path(exists=True, dir_okay=False), help="SAM template whose functions run locally.")
@click.option("--time-scale", type=float, default=0.0, show_default=True,
              help="Multiplies Wait, Retry backoff and timeouts (0 = instant waits, timeouts off; 1 = real time).")
@click.option("--no-limits", is_flag=True, help="Lift AWS limits (256 KiB payloads, 25,000 history events).")
@click.option("--history", "show_history", is_flag=True, help="Print the execution history (JSON lines) on stderr.")
@click.option("--name", help="Execution name.")
@click.option("--mock-config", type=click.Path(exists=True, dir_okay=False),
              help="Step Functions Local MockConfigFile; the states its --test-case names are mocked.")
@click.option("--test-case", help="The mock config's test case to run (needs --mock-config).")
@click.option("--state-machine-name", help="The mock config's StateMachines entry (default: its only one, else the state machine's own name).")
@click.option("--parameter-overrides", multiple=True, metavar="KEY=VALUE", help=PARAMETER_OVERRIDES_HELP)
@click.option("--lambda-mode", type=click.Choice(["process", "inprocess"]), default="process", show_default=True,
              help="Template functions in worker processes (Lambda-like environments) or in this process.")
@click.option("--store", "store_url", default="memory://", show_default=True,
              help="Keep the execution in this store (sqlite:///path.db, postgresql://...) for stepflow executions/history/redrive.")
def run(definition, input_json, input_file, template, time_scale, no_limits, show_history, name,
        mock_config, test_case, state_machine_name, parameter_overrides, lambda_mode, store_url):
    """Run one execution of DEFINITION to its end and print its output.

    Exit status: 0 SUCCEEDED, 1 FAILED (error and cause on stderr), 2 invalid definition,
    input or usage, 3 TIMED_OUT, 4 ABORTED.

    Example: stepflow run examples/orders/statemachine.asl.json --input '{"orders": [1, 2]}'

    DEFINITION may be a state machine of the --template, by logical id or name:
    stepflow run OrdersMachine --template template.yaml --parameter-overrides Stage=dev

    With mocks: stepflow run sm.asl.json --mock-config MockConfigFile.json --test-case HappyPath

    When a state machine waits for a task token (.waitForTaskToken), the Step Functions API is
    served on a free 127.0.0.1 port while the run lasts, and the template's functions find it
    through AWS_ENDPOINT_URL_SFN: a handler's boto3 SendTaskSuccess answers this run.
    """
    from stepflow.engine.interpreter import Limits
    from stepflow.runtime import run as run_execution
    from stepflow.server.background import api_while_running

    if (mock_config is None) != (test_case is None):
        raise click.UsageError("--mock-config and --test-case go together")
    try:
        text = _definition_text(definition, template)
        input_text = _read_input(input_json, input_file)
        result = run_execution(text, input_text, template=template, time_scale=time_scale,
                               limits=Limits.relaxed() if no_limits else None, name=name,
                               mock_config=mock_config, test_case=test_case, state_machine_name=state_machine_name,
                               parameter_overrides=_overrides(parameter_overrides), lambda_mode=lambda_mode,
                               store=store_url, while_running=api_while_running)
    except (DefinitionError, InvalidInputError, StepflowError) as err:
        click.echo(str(err), err=True)
        sys.exit(EXIT_USAGE)
    except Exception as err:  # ApiError from the service (invalid definition/input/name)
        code = getattr(err, "code", None)
        if code is None:
            raise
        click.echo(f"{code}: {err.message}", err=True)
        sys.exit(EXIT_USAGE)
    if show_history:
        for event in result.history:
            click.echo(json.dumps(event), err=True)
    if result.output_text is not None:
        click.echo(result.output_text)
    if result.status != "SUCCEEDED":
        click.echo(f"{result.status}: {result.error or ''}: {result.cause or ''}", err=True)
    sys.exit(EXIT_CODES.get(result.status, 1))


@cli.command()
@click.argument("definitions", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--type", "machine_type", type=click.Choice(["STANDARD", "EXPRESS"]), default="STANDARD", show_default=True)
def validate(definitions, machine_type):
    """Check definitions and print every problem with its location, in AWS's words.

    Example: stepflow validate statemachines/*.asl.json
    """
    from stepflow.asl.validate import load_definition, validate_definition

    failed = False
    for path in definitions:
        try:
            problems = validate_definition(load_definition(_read_definition(path)), state_machine_type=machine_type)
        except DefinitionError as err:
            problems = err.diagnostics
        errors = [p for p in problems if getattr(p, "severity", "ERROR") == "ERROR"]
        failed = failed or bool(errors)
        for problem in problems:
            click.echo(f"{path}: {getattr(problem, 'severity', 'ERROR')} {problem.render()}")
        if not problems:
            click.echo(f"{path}: OK")
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (127.0.0.1 keeps it local).")
@click.option("--port", default=8083, show_default=True, type=int)
@click.option("--store", "store_url", default="sqlite:///.stepflow/stepflow.db", show_default=True, envvar="STEPFLOW_STORE",
              help="Store URL: sqlite:///path.db (durable), postgresql://..., or memory:// (nothing kept).")
@click.option("--template", type=click.Path(exists=True, dir_okay=False),
              help="SAM template: its functions run locally, its state machines are registered at start.")
@click.option("--time-scale", type=float, default=1.0, show_default=True, help="Multiplies Wait, Retry backoff and timeouts.")
@click.option("--no-limits", is_flag=True, help="Lift AWS limits (256 KiB payloads, 25,000 history events).")
@click.option("--log-level", default="warning", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--auth", "auth_source", metavar="FILE|env",
              help="Require AWS SigV4-signed requests; keys from FILE (lines 'ACCESS_KEY_ID SECRET') or 'env' (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).")
@click.option("--mock-config", type=click.Path(exists=True, dir_okay=False), envvar="SFN_MOCK_CONFIG",
              help="Step Functions Local MockConfigFile; StartExecution on '...:stateMachine:Name#TestCase' uses it.")
@click.option("--parameter-overrides", multiple=True, metavar="KEY=VALUE", help=PARAMETER_OVERRIDES_HELP)
@click.option("--lambda-mode", type=click.Choice(["process", "inprocess"]), default="process", show_default=True,
              help="Template functions in worker processes (Lambda-like environments) or in this process.")
def serve(host, port, store_url, template, time_scale, no_limits, log_level, auth_source, mock_config,
          parameter_overrides, lambda_mode):
    """Serve the Step Functions API (boto3, aws CLI) and fire the template's schedules.

    Example: stepflow serve --template template.yaml &
             aws stepfunctions --endpoint-url http://127.0.0.1:8083 list-state-machines
    """
    import gc

    import uvicorn

    from stepflow.engine.interpreter import Limits
    from stepflow.runtime import Runtime, Settings
    from stepflow.server.app import create_app

    try:
        settings = Settings(store_url=store_url, template=template, time_scale=time_scale,
                            limits=Limits.relaxed() if no_limits else Limits(), mock_config=mock_config,
                            parameter_overrides=_overrides(parameter_overrides), lambda_mode=lambda_mode)
        runtime = Runtime(settings)
        runtime.serve_api_at(f"http://{_local_address(host)}:{port}")  # handlers' boto3 calls to Step Functions
        runtime.register_project_state_machines()  # every state machine of --template, created or updated
        app = create_app(runtime)
        if auth_source:
            from stepflow.server.auth import SigV4Middleware, SigV4Verifier, load_keys

            app = SigV4Middleware(app, SigV4Verifier(load_keys(auth_source)))
    except StepflowError as err:
        click.echo(str(err), err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"stepflow serving the Step Functions API on http://{host}:{port} (store {store_url})", err=True)
    # Executions and their histories live in the heap; with CPython's default thresholds
    # (700, 10, 10) full collections over them took over half of the server's CPU on bench/'s
    # 10,000-item Map (gc.callbacks timing). These thresholds cut that to about a fifth.
    gc.set_threshold(50_000, 20, 20)
    # loop/http "auto" pick uvloop and httptools (dependencies) and fall back to asyncio and h11.
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False,
                proxy_headers=False, server_header=False)
    runtime.close()


def _local_address(host: str) -> str:
    """Where this machine's processes reach a server bound to ``host`` (any-address -> loopback)."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


from stepflow.cli.schedules import schedules as _schedules  # noqa: E402
from stepflow.cli.store_commands import COMMANDS as _STORE_COMMANDS  # noqa: E402

for _command in [*_STORE_COMMANDS, _schedules]:
    cli.add_command(_command)

from stepflow.cli.service_commands import COMMANDS as _SERVICE_COMMANDS  # noqa: E402

for _command in _SERVICE_COMMANDS:
    cli.add_command(_command)

from stepflow.cli.logs_command import logs as _logs_command  # noqa: E402

cli.add_command(_logs_command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()

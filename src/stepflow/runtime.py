"""The composition root: builds the store, integrations, interpreter, runner and API service
from :class:`Settings`, and offers :func:`run`, the one-call Python API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepflow import sam
from stepflow.api.map_runs import MapRunJournal
from stepflow.asl.json_text import dumps
from stepflow.engine.clock import Clock
from stepflow.engine.interpreter import Limits
from stepflow.engine.runner import Runner
from stepflow.engine.snapshot import Execution
from stepflow.errors import ApiError, TemplateError
from stepflow.integrations import mocks as _mocks
from stepflow.integrations.activities import ActivityIntegration
from stepflow.integrations.lambda_environment import local_api_variables
from stepflow.integrations.lambda_logs import DEFAULT_LOGS_DIR, LambdaLogs
from stepflow.integrations.lambda_runtime import LocalFunction
from stepflow.integrations.lambda_task import FunctionRegistry, LambdaIntegration
from stepflow.integrations.lambda_workers import LambdaWorkers, WorkerFunction
from stepflow.integrations.registry import Integrations
from stepflow.integrations.services import register_services
from stepflow.service import MachineCache, StepFunctions
from stepflow.store import open_store

DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/stepflow"
RUN_MACHINE_NAME = "stepflow-run"  # the state machine run() creates for a definition given as text
LEASE_RENEWAL_SECONDS = 10.0  # for stores without leases; SQL stores renew every lease_seconds / 3

log = logging.getLogger("stepflow.runtime")


@dataclass
class Settings:
    """Everything a runtime is built from (the CLI flags map onto these)."""

    store_url: str = "memory://"
    template: str | None = None
    time_scale: float = 1.0
    limits: Limits = field(default_factory=Limits)
    region: str = sam.DEFAULT_REGION
    account: str = sam.DEFAULT_ACCOUNT
    handlers: Mapping[str, Callable] = field(default_factory=dict)
    clock: Clock | None = None
    lambda_mode: str = "process"  # template functions in worker processes, or "inprocess" (tests, benchmarks)
    lambda_logs_dir: str = DEFAULT_LOGS_DIR  # worker-process invocation logs (stepflow logs FUNCTION)
    mock_config: Any = None  # a Step Functions Local MockConfigFile: path, JSON object or MockConfig
    mocks: Mapping[str, Callable] = field(default_factory=dict)  # Python mocks: state/function/resource -> fn
    mock_state_machine: str | None = None  # the StateMachines key for every execution (stepflow run)
    parameter_overrides: dict = field(default_factory=dict)  # the template's Parameters (sam --parameter-overrides)
    smtp: str | None = field(default_factory=lambda: os.environ.get("STEPFLOW_SMTP"))  # "host:port" for SNS email
    smtp_from: str | None = None  # the From of SNS emails (default "stepflow notifications <no-reply@localhost>")
    messages_sink: str | None = field(default_factory=lambda: os.environ.get("STEPFLOW_MESSAGES_SINK"))  # JSONL of every SNS message
    glue_log_dir: str = ".stepflow/glue"  # Glue job run logs: <dir>/<job>/<run-id>.log


class Runtime:
    """One stepflow instance: a store, the task integrations, a runner and the API."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings = settings or Settings()
        self.clock = settings.clock or Clock(settings.time_scale)
        self.store = open_store(settings.store_url)
        self.project: sam.Project | None = _project(settings)
        self.lambda_workers = LambdaWorkers(LambdaLogs(settings.lambda_logs_dir)) if settings.lambda_mode == "process" else None
        self.functions = FunctionRegistry(_functions(settings, self.project, self.lambda_workers))
        self.integrations = Integrations(LambdaIntegration(self.functions, settings.region, settings.account))
        from stepflow.engine.interpreter import Interpreter

        self.interpreter = Interpreter(self.clock, settings.limits)
        self.machines = MachineCache(self.store)
        journal = MapRunJournal(self.store, self.machines.for_execution)
        self.tasks = _mocks.wrap(self.integrations, lambda arn: self.runner.active.get(arn), settings.mock_config,
                                settings.mocks, settings.mock_state_machine)
        self.runner = Runner(self.interpreter, self.tasks, journal, self.machines.for_execution)
        self.service = StepFunctions(
            self.store, self.runner, self.machines, self.clock, settings.limits, settings.region, settings.account,
            callbacks=self.integrations.callbacks,
        )
        self.integrations.activities = ActivityIntegration(self.service.activity_queue, self.integrations.callbacks)
        self.service.check_test_case = _mocks.test_case_check(self.tasks)
        self.services = register_services(
            self.integrations, service=self.service, runner=self.runner, store=self.store, settings=settings,
            time_scale=self.clock.time_scale, project=lambda: getattr(self, "project", None),
        )
        self._maintenance: asyncio.Task | None = None

    def close(self) -> None:
        """Shut down what this runtime started (Lambda worker processes, Glue job runs still
        going, the lease maintenance task) and close its store."""
        if self.lambda_workers is not None:
            self.lambda_workers.close()
        self.services.shutdown()
        if self._maintenance is not None:
            self._maintenance.cancel()
        close_store = getattr(self.store, "close", None)
        if close_store is not None:
            close_store()

    def serve_api_at(self, endpoint: str) -> None:
        """Tell the template's functions where this runtime's Step Functions API answers: their
        boto3 clients for Step Functions go there (``AWS_ENDPOINT_URL_SFN``), so a handler that
        answers its task token with SendTaskSuccess reaches this stepflow, not AWS."""
        if self.lambda_workers is not None:
            self.lambda_workers.defaults.update(local_api_variables(endpoint))

    def uses_task_tokens(self) -> bool:
        """Whether any state machine of the store waits for a task token (``.waitForTaskToken``)."""
        return any(".waitForTaskToken" in machine.definition for machine in self.store.list_state_machines())

    def register_project_state_machines(self) -> list[str]:
        """Create every state machine the template declares, or update it when its definition or
        role changed (idempotent; a changed type replaces it). Returns their ARNs."""
        if self.project is None:
            return []
        return [self._register(spec) for spec in self.project.state_machines]

    def _register(self, spec: sam.StateMachineSpec) -> str:
        try:
            return self.put_state_machine(spec.name, json.dumps(spec.definition, indent=2), spec.role_arn, spec.type)
        except ApiError as err:
            raise TemplateError(f"Resources/{spec.logical_id}: {err.message}") from None

    def put_state_machine(self, name: str, definition: str, role_arn: str, machine_type: str = "STANDARD") -> str:
        """Create the state machine ``name``, or update it when its definition or role changed
        (a changed type replaces it); returns its ARN."""
        arn = f"arn:aws:states:{self.settings.region}:{self.settings.account}:stateMachine:{name}"
        existing = self.store.get_state_machine(arn)
        if existing is not None and existing.type != machine_type:
            self.service.delete_state_machine(stateMachineArn=arn)
            existing = None
        if existing is None:
            self.service.create_state_machine(name=name, definition=definition, roleArn=role_arn, type=machine_type)
        elif existing.definition != definition or existing.role_arn != role_arn:
            self.service.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role_arn)
        return arn

    def resume_all(self) -> int:
        """Continue every RUNNING execution this process may take, and keep doing so: a
        background task renews our leases and adopts executions whose owner died or whose
        lease expired (call on the event loop, once)."""
        resumed = self._adopt()
        if self._maintenance is None:
            self._maintenance = asyncio.get_running_loop().create_task(self._maintain())
        return resumed

    def _adopt(self) -> int:
        adopted = 0
        for exe in self.store.running():
            if exe.arn not in self.runner.active:
                self.runner.resume(exe)
                adopted += 1
        return adopted

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(getattr(self.store, "lease_seconds", 3 * LEASE_RENEWAL_SECONDS) / 3)
            try:
                self.runner.drop_unowned(self.store.renew_leases())
                self._adopt()
            except Exception:  # a store hiccup must not end the loop
                log.exception("lease maintenance failed; retrying")


def _project(settings: Settings) -> sam.Project | None:
    if not settings.template:
        return None
    return sam.load_project(settings.template, settings.parameter_overrides, settings.region, settings.account)


def _functions(settings: Settings, project: sam.Project | None = None, workers: LambdaWorkers | None = None) -> list:
    make = (lambda spec: WorkerFunction(spec, workers)) if workers is not None else LocalFunction
    out: list = [make(spec) for spec in (project.functions if project else ())]
    for name, handler in settings.handlers.items():
        fn_name = name.split(":function:", 1)[1].split(":")[0] if ":function:" in name else name
        spec = sam.FunctionSpec(logical_id=fn_name, name=fn_name, handler="inline.handler", code_uri=Path(os.getcwd()),
                                timeout=900, region=settings.region, account=settings.account)
        out.append(LocalFunction(spec, handler))
    return out


@dataclass
class Result:
    """What :func:`run` returns: an execution's end as DescribeExecution and its history."""

    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict]
    execution_arn: str
    output_text: str | None = None


def run(
    definition: str | dict,
    input: Any = None,
    *,
    handlers: Mapping[str, Callable] | None = None,
    template: str | None = None,
    clock: Clock | None = None,
    time_scale: float = 0.0,
    limits: Limits | None = None,
    name: str | None = None,
    state_machine_type: str = "STANDARD",
    mocks: Mapping[str, Callable] | None = None,
    mock_config: Any = None,
    test_case: str | None = None,
    state_machine_name: str | None = None,
    parameter_overrides: dict | None = None,
    lambda_mode: str = "process",
    store: str = "memory://",
    while_running: Callable[[Runtime], contextlib.AbstractAsyncContextManager] | None = None,
) -> Result:
    """Run one execution to its end in memory and return its status, output and history.

    ``handlers`` maps Lambda function names (or ARNs) to ``handler(event, context)`` callables;
    ``template`` is a SAM template whose functions are run locally. Waits and retry backoff are
    instant unless ``time_scale`` says otherwise.

    ``mocks`` maps a state name, a Lambda function name or ARN, a resource ARN or ``service:action``
    to ``mock(parameters) -> result`` (raise :class:`StatesError` to fail the task).
    ``mock_config`` is a Step Functions Local MockConfigFile (path or object) whose ``test_case``
    mocks the states it names; ``state_machine_name`` picks its StateMachines entry (default: the
    only one).

    With a ``template``, its state machines are registered first and ``definition`` may be one
    of them, named by logical id or name (``run("OrdersMachine", template="template.yaml")``);
    ``parameter_overrides`` set the template's Parameters.

    ``store`` keeps the execution in a durable store (``sqlite:///path.db``, ``postgresql://...``)
    where ``stepflow executions``, ``history`` and ``redrive`` find it; by default it is in memory.

    ``lambda_mode`` "process" runs the template's functions in worker processes (Lambda-like
    execution environments); "inprocess" calls them in this interpreter (faster, no isolation).
    ``handlers`` callables always run in-process.

    ``while_running(runtime)`` is an async context manager entered before the execution starts
    and left after it ends; ``stepflow run`` passes ``stepflow.server.background.api_while_running``
    so that handlers can answer task tokens through the Step Functions API.
    """
    config, machine_name = _mocks.for_run(mock_config, test_case, state_machine_name)
    settings = Settings(
        store_url=store, template=template, time_scale=time_scale, handlers=dict(handlers or {}), clock=clock,
        limits=limits or Limits(), mock_config=config, mocks=dict(mocks or {}), mock_state_machine=machine_name,
        parameter_overrides=dict(parameter_overrides or {}), lambda_mode=lambda_mode,
    )
    rt = Runtime(settings)
    try:
        return asyncio.run(_run_once(rt, definition, input, name, state_machine_type, test_case, while_running))
    finally:
        rt.close()


async def _run_once(rt: Runtime, definition, input_value, name, machine_type, test_case=None, while_running=None) -> Result:
    rt.register_project_state_machines()
    declared = _declared_machine(rt.project, definition)
    if declared is not None:
        created = {"stateMachineArn": declared.arn}
    else:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        created = {"stateMachineArn": rt.put_state_machine(RUN_MACHINE_NAME, text, DEFAULT_ROLE_ARN, machine_type)}
    input_text = input_value if isinstance(input_value, str) else dumps({} if input_value is None else input_value)
    target = created["stateMachineArn"] + (f"#{test_case}" if test_case is not None else "")
    async with while_running(rt) if while_running is not None else contextlib.nullcontext():
        started = rt.service.start_execution(stateMachineArn=target, name=name, input=input_text)
        exe = rt.runner.active.get(started["executionArn"]) or rt.store.get_execution(started["executionArn"])
        if not exe.finished:
            exe = await rt.runner.wait(exe.arn)
        await rt.services.drain()  # Glue runs started without .sync, SNS deliveries
    return _result(rt, exe)


def _declared_machine(project: sam.Project | None, definition) -> sam.StateMachineSpec | None:
    """The template's state machine that ``definition`` names (logical id, name or ARN), if any."""
    if project is None or not isinstance(definition, str) or definition.lstrip().startswith("{"):
        return None
    declared = project.state_machine(definition.strip())
    if declared is None:
        names = ", ".join(m.logical_id for m in project.state_machines) or "none"
        raise TemplateError(f"{definition}: no state machine with this logical id or name in {project.path.name} "
                            f"(it declares: {names})")
    return declared


def _result(rt: Runtime, exe: Execution) -> Result:
    output = json.loads(exe.output_text) if exe.output_text is not None else None
    return Result(exe.status, output, exe.error, exe.cause, rt.store.history(exe.arn), exe.arn, exe.output_text)

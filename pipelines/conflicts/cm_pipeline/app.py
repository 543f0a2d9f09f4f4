"""Running the pipeline through stepflow: a Runtime on a durable store with this folder's SAM
template, the two state machines registered, executions started and awaited."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
TEMPLATE = HERE / "template.yaml"
REGION, ACCOUNT = "us-east-1", "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:cm-pipeline"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:cm-pipeline-failures"
MACHINES = {"cm-etl-pipeline": "phase1.asl.json", "cm-etl-pipeline-phase2": "phase2.asl.json"}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/stepflow"


def runtime(store_url: str = "sqlite:///.stepflow/stepflow.db", dsn: str | None = None,
            lambda_mode: str = "process", **parameters):
    """A stepflow Runtime for this folder's template; ``dsn`` and ``parameters`` become the
    template's Parameters (PostgresDsn, MaxConcurrency, TargetChunkSize ...)."""
    from stepflow.runtime import Runtime, Settings

    overrides = {k: str(v) for k, v in parameters.items()}
    if dsn:
        overrides["PostgresDsn"] = dsn
    settings = Settings(store_url=store_url, template=str(TEMPLATE))
    for name, value in (("parameter_overrides", overrides), ("lambda_mode", lambda_mode)):
        if hasattr(settings, name):  # older stepflow: in-process functions, environment from os.environ
            setattr(settings, name, value)
    return Runtime(settings)


def definition(file_name: str) -> str:
    """A definition file with the template's DefinitionSubstitutions applied."""
    text = (HERE / "statemachines" / file_name).read_text()
    return text.replace("${ConflictFunctionArn}", FUNCTION_ARN).replace("${FailureTopicArn}", TOPIC_ARN)


def register(rt) -> dict[str, str]:
    """Name -> ARN of both state machines: from the template when stepflow loads its state
    machines, else created (or updated) from the definition files directly."""
    if hasattr(rt, "register_project_state_machines"):
        arns = rt.register_project_state_machines()
        found = {arn.rsplit(":", 1)[1]: arn for arn in arns}
        if set(MACHINES) <= set(found):
            return {name: found[name] for name in MACHINES}
    out = {}
    existing = {m["name"]: m["stateMachineArn"] for m in rt.service.list_state_machines(maxResults=1000)["stateMachines"]}
    for name, file_name in MACHINES.items():
        text = definition(file_name)
        if name in existing:
            rt.service.update_state_machine(stateMachineArn=existing[name], definition=text)
            out[name] = existing[name]
        else:
            out[name] = rt.service.create_state_machine(name=name, definition=text, roleArn=ROLE)["stateMachineArn"]
    return out


def start(rt, machine_arn: str, payload: dict, name: str | None = None) -> str:
    return rt.service.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload))["executionArn"]


async def finish(rt, execution_arn: str) -> dict:
    exe = rt.runner.active.get(execution_arn)
    if exe is not None and not exe.finished:
        await rt.runner.wait(execution_arn)
    return rt.service.describe_execution(executionArn=execution_arn)

"""The AWS SAM template as stepflow's project file.

Reads ``template.yaml`` (YAML with CloudFormation's short tags ``!Ref``, ``!Sub``, ``!GetAtt``...)
and gives the functions it declares (``AWS::Serverless::Function`` with Globals applied) as
:class:`FunctionSpec` values. Errors name the resource and property.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stepflow.errors import TemplateError

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_TIMEOUT = 3  # seconds, Lambda's default
DEFAULT_MEMORY = 128  # MB, Lambda's default

_SHORT_TAGS = {
    "Ref": "Ref", "Condition": "Condition", "GetAtt": "Fn::GetAtt", "Sub": "Fn::Sub", "Join": "Fn::Join",
    "If": "Fn::If", "Equals": "Fn::Equals", "Not": "Fn::Not", "And": "Fn::And", "Or": "Fn::Or",
    "Select": "Fn::Select", "Split": "Fn::Split", "FindInMap": "Fn::FindInMap", "Base64": "Fn::Base64",
    "GetAZs": "Fn::GetAZs", "ImportValue": "Fn::ImportValue", "Cidr": "Fn::Cidr", "Transform": "Fn::Transform",
}


class _TemplateLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags into their long JSON form."""


def _tag_constructor(long_name: str):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {long_name: value}

    return construct


for _short, _long in _SHORT_TAGS.items():
    _TemplateLoader.add_constructor(f"!{_short}", _tag_constructor(_long))


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function of the project, ready to run locally."""

    logical_id: str
    name: str
    handler: str  # module.function, as Lambda's Handler setting
    code_uri: Path
    runtime: str = "python3.12"
    timeout: int = DEFAULT_TIMEOUT
    memory_size: int = DEFAULT_MEMORY
    environment: dict = field(default_factory=dict)
    reserved_concurrency: int | None = None
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"


def load_template(path: str | os.PathLike) -> dict:
    """Parse a SAM/CloudFormation template file (YAML or JSON)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as err:
        raise TemplateError(f"Cannot read template {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise TemplateError(f"Template {path} is not valid YAML: {err}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"Template {path} has no Resources section")
    return document


def functions(template: dict, base_dir: str | os.PathLike, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function (and plain AWS::Lambda::Function with local code)."""
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    out = []
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = _merge(globals_, resource.get("Properties") or {})
        out.append(_function(logical_id, props, Path(base_dir), region, account, template))
    return out


def _merge(globals_: dict, props: dict) -> dict:
    merged = dict(globals_)
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _function(logical_id: str, props: dict, base_dir: Path, region: str, account: str, template: dict) -> FunctionSpec:
    where = f"Resources/{logical_id}/Properties"
    handler = props.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{where}/Handler: a Python handler 'module.function' is required, got {handler!r}")
    code_uri = props.get("CodeUri", ".")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{where}/CodeUri: a local folder is required, got {code_uri!r}")
    variables = ((props.get("Environment") or {}).get("Variables")) or {}
    resolver = _Resolver(template, region, account)
    return FunctionSpec(
        logical_id=logical_id,
        name=resolver.value(props.get("FunctionName", logical_id), f"{where}/FunctionName"),
        handler=handler,
        code_uri=(base_dir / code_uri).resolve(),
        runtime=props.get("Runtime", "python3.12"),
        timeout=int(props.get("Timeout", DEFAULT_TIMEOUT)),
        memory_size=int(props.get("MemorySize", DEFAULT_MEMORY)),
        environment={k: str(resolver.value(v, f"{where}/Environment/Variables/{k}")) for k, v in variables.items()},
        reserved_concurrency=props.get("ReservedConcurrentExecutions"),
        region=region,
        account=account,
    )


class _Resolver:
    """Resolves the few intrinsics a function's properties use to plain values."""

    def __init__(self, template: dict, region: str, account: str):
        self.parameters = {
            name: (spec or {}).get("Default") for name, spec in (template.get("Parameters") or {}).items()
        }
        self.pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws", "AWS::StackName": "local"}

    def value(self, value: Any, where: str) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg, where)
            if key == "Fn::Sub" and isinstance(arg, str):
                return self._sub(arg, where)
            if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
                return str(arg[0]).join(str(self.value(v, where)) for v in arg[1])
        return value

    def _ref(self, name: str, where: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return name

    def _sub(self, text: str, where: str) -> str:
        import re

        return re.sub(r"\$\{([^}!]+)\}", lambda m: str(self._ref(m.group(1), where)), text)


# -- the whole project (the SAM-template issue fills these in; integrations consume them) -------


@dataclass(frozen=True)
class SubscriptionSpec:
    """An SNS subscription: protocol http, https, email, sqs, lambda or (stepflow's own) file."""

    protocol: str
    endpoint: str
    raw_message_delivery: bool = False


@dataclass(frozen=True)
class TopicSpec:
    logical_id: str
    name: str
    arn: str
    subscriptions: tuple[SubscriptionSpec, ...] = ()


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    arn: str
    url: str
    fifo: bool = False


@dataclass(frozen=True)
class GlueJobSpec:
    """An ``AWS::Glue::Job`` whose Command.ScriptLocation is a local Python script."""

    logical_id: str
    name: str
    script: Path
    default_arguments: dict = field(default_factory=dict)
    timeout_minutes: int | None = None
    max_concurrent_runs: int = 1


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge schedule (``Events`` of type Schedule / ScheduleV2 on a state machine)."""

    name: str
    expression: str  # cron(...), rate(...) or at(...)
    state_machine_arn: str
    input: str | None = None
    enabled: bool = True
    timezone: str | None = None


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str
    definition: dict  # after DefinitionSubstitutions and intrinsics
    type: str = "STANDARD"
    role_arn: str = "arn:aws:iam::123456789012:role/stepflow"
    schedules: tuple[ScheduleSpec, ...] = ()


@dataclass(frozen=True)
class Project:
    """Everything a SAM template declares that stepflow runs locally."""

    path: Path
    functions: tuple[FunctionSpec, ...] = ()
    state_machines: tuple[StateMachineSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    glue_jobs: tuple[GlueJobSpec, ...] = ()
    parameters: dict = field(default_factory=dict)

    @property
    def schedules(self) -> tuple[ScheduleSpec, ...]:
        return tuple(s for machine in self.state_machines for s in machine.schedules)

"""``AWS::Serverless::StateMachine`` and ``AWS::StepFunctions::StateMachine`` as StateMachineSpecs.

The definition comes from ``DefinitionUri`` / ``DefinitionS3Location`` (a local JSON or YAML
file, relative to the template), ``Definition`` (inline, intrinsics resolved) or
``DefinitionString``. ``DefinitionSubstitutions`` replace ``${Key}`` placeholders in one pass, as
the Step Functions resource provider does: in the file's text for files and strings, in every
string (keys included) of an inline definition. A placeholder with no substitution is left as
it is, with a warning. The result is checked with the ASL validator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from stepflow.asl.validate import validate_definition
from stepflow.errors import DefinitionError, TemplateError
from stepflow.sam.context import Context
from stepflow.sam.schedules import schedules
from stepflow.sam.specs import DEFAULT_ROLE_ARN, StateMachineSpec

TYPES = ("STANDARD", "EXPRESS")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_NAME_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def state_machines(ctx: Context) -> list[StateMachineSpec]:
    """Every state machine the template declares (whose Condition holds)."""
    out = []
    for logical_id, resource in ctx.resources("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
        if resource["Type"] == "AWS::Serverless::StateMachine":
            out.append(_serverless(ctx, logical_id, ctx.properties(logical_id, "StateMachine")))
        else:
            out.append(_cloudformation(ctx, logical_id, ctx.properties(logical_id)))
    return out


def _serverless(ctx: Context, logical_id: str, props: dict) -> StateMachineSpec:
    where = f"Resources/{logical_id}/Properties"
    machine_type = _type(ctx, props, "Type", where)
    if "Definition" in props and "DefinitionUri" in props:
        raise TemplateError(f"{where}: give Definition or DefinitionUri, not both")
    if "Definition" in props:
        definition, source = _inline(ctx, logical_id, props, "Definition"), None
    elif "DefinitionUri" in props:
        definition, source = _from_file(ctx, logical_id, props, "DefinitionUri")
    else:
        raise TemplateError(f"{where}: one of Definition or DefinitionUri is required")
    return _spec(ctx, logical_id, definition, machine_type, _role(ctx, props, "Role", where), source,
                 schedules(ctx, logical_id, props.get("Events") or {}))


def _cloudformation(ctx: Context, logical_id: str, props: dict) -> StateMachineSpec:
    where = f"Resources/{logical_id}/Properties"
    machine_type = _type(ctx, props, "StateMachineType", where)
    given = [key for key in ("Definition", "DefinitionString", "DefinitionS3Location") if key in props]
    if len(given) != 1:
        raise TemplateError(f"{where}: give exactly one of Definition, DefinitionString or DefinitionS3Location"
                            + (f" (got {', '.join(given)})" if given else ""))
    source = None
    if given[0] == "Definition":
        definition = _inline(ctx, logical_id, props, "Definition")
    elif given[0] == "DefinitionString":
        text = ctx.resolver.string(props["DefinitionString"], f"{where}/DefinitionString")
        definition = _parse(_substitute_text(ctx, logical_id, props, text), "DefinitionString", f"{where}/DefinitionString")
    else:
        definition, source = _from_file(ctx, logical_id, props, "DefinitionS3Location")
    return _spec(ctx, logical_id, definition, machine_type, _role(ctx, props, "RoleArn", where), source, ())


def _spec(ctx: Context, logical_id, definition, machine_type, role_arn, source, machine_schedules) -> StateMachineSpec:
    name = _check_name(ctx.resolver.name_of(logical_id), logical_id)
    _validate(logical_id, definition, machine_type, source)
    arn = ctx.resolver.value({"Fn::GetAtt": [logical_id, "Arn"]}, f"Resources/{logical_id}")
    return StateMachineSpec(logical_id=logical_id, name=name, arn=arn, definition=definition, type=machine_type,
                            role_arn=role_arn, schedules=tuple(machine_schedules), source=source)


def _type(ctx: Context, props: dict, key: str, where: str) -> str:
    machine_type = ctx.resolver.string(props.get(key, "STANDARD"), f"{where}/{key}")
    if machine_type not in TYPES:
        raise TemplateError(f"{where}/{key}: {machine_type!r} is not STANDARD or EXPRESS")
    return machine_type


def _role(ctx: Context, props: dict, key: str, where: str) -> str:
    """The role ARN when the template gives one (Role/Policies are not enforced locally)."""
    if props.get(key) is None:
        return DEFAULT_ROLE_ARN
    role = ctx.resolver.string(props[key], f"{where}/{key}")
    return role if role.startswith("arn:") else DEFAULT_ROLE_ARN


def _check_name(name: str, logical_id: str) -> str:
    where = f"Resources/{logical_id}/Properties/Name"
    if not 1 <= len(name) <= 80:
        raise TemplateError(f"{where}: a state machine name has 1 to 80 characters, got {len(name)}")
    if _NAME_FORBIDDEN.search(name):
        raise TemplateError(f"{where}: {name!r} has a character AWS does not allow in state machine names")
    return name


# -- definitions -----------------------------------------------------------------------------------


def _inline(ctx: Context, logical_id: str, props: dict, key: str) -> dict:
    where = f"Resources/{logical_id}/Properties/{key}"
    definition = ctx.resolver.value(props[key], where)
    if not isinstance(definition, dict):
        raise TemplateError(f"{where}: the definition must be a map, got {type(definition).__name__}")
    substitutions = _substitutions(ctx, logical_id, props)
    return _substitute_strings(definition, substitutions, _Missing(ctx, logical_id))


def _from_file(ctx: Context, logical_id: str, props: dict, key: str) -> tuple[dict, str]:
    where = f"Resources/{logical_id}/Properties/{key}"
    location = ctx.resolver.value(props[key], where)
    if not isinstance(location, str) or location.startswith("s3://"):
        raise TemplateError(f"{where}: {_show_location(location)} is in S3, which stepflow does not read; "
                            f"give a local file path (relative to the template)")
    path = (ctx.base_dir / location).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"{where}: file {location} not found") from None
    except OSError as err:
        raise TemplateError(f"{where}: cannot read {location}: {err.strerror}") from None
    text = _substitute_text(ctx, logical_id, props, text)
    return _parse(text, location, where), str(path)


def _show_location(location: Any) -> str:
    if isinstance(location, dict):
        return f"s3://{location.get('Bucket', '?')}/{location.get('Key', '?')}"
    return str(location)


def _parse(text: str, source: str, where: str) -> dict:
    """A definition from JSON text (or YAML, which Step Functions also accepts)."""
    try:
        document = json.loads(text)
    except ValueError as err:
        if source.endswith((".json", "DefinitionString")):
            raise TemplateError(f"{where}: {source} is not valid JSON: {err}") from None
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as yaml_err:
            raise TemplateError(f"{where}: {source} is not valid JSON or YAML: {yaml_err}") from None
    if not isinstance(document, dict):
        raise TemplateError(f"{where}: {source} does not hold a state machine definition (a JSON object)")
    return document


def _validate(logical_id: str, definition: dict, machine_type: str, source: str | None) -> None:
    try:
        problems = [d for d in validate_definition(definition, state_machine_type=machine_type) if d.severity == "ERROR"]
    except DefinitionError as err:
        problems = err.diagnostics
    if problems:
        prop = "DefinitionUri" if source else "Definition"
        origin = f" in {Path(source).name}" if source else ""
        details = "\n".join(f"  {p.render()}" for p in problems)
        raise TemplateError(f"Resources/{logical_id}/Properties/{prop}: invalid state machine definition{origin}:\n{details}")


# -- DefinitionSubstitutions ----------------------------------------------------------------------


def _substitutions(ctx: Context, logical_id: str, props: dict) -> dict[str, str]:
    where = f"Resources/{logical_id}/Properties/DefinitionSubstitutions"
    raw = props.get("DefinitionSubstitutions") or {}
    if not isinstance(raw, dict):
        raise TemplateError(f"{where}: must be a map of placeholder names to values")
    return {str(key): ctx.resolver.string(value, f"{where}/{key}") for key, value in raw.items()}


class _Missing:
    """Collects placeholders with no substitution and warns once per resource."""

    def __init__(self, ctx: Context, logical_id: str):
        self.ctx, self.logical_id, self.names = ctx, logical_id, []

    def __call__(self, match: re.Match) -> str:
        if match.group(1) not in self.names:
            self.names.append(match.group(1))
            self.ctx.warn(f"Resources/{self.logical_id}/Properties/DefinitionSubstitutions: no value for "
                          f"${{{match.group(1)}}} in the definition; left as is")
        return match.group(0)


def _substitute_text(ctx: Context, logical_id: str, props: dict, text: str) -> str:
    substitutions = _substitutions(ctx, logical_id, props)
    return _replace(text, substitutions, _Missing(ctx, logical_id))


def _replace(text: str, substitutions: dict[str, str], missing: _Missing) -> str:
    def one(match: re.Match) -> str:
        key = match.group(1)
        return substitutions[key] if key in substitutions else missing(match)

    return _PLACEHOLDER.sub(one, text)


def _substitute_strings(value: Any, substitutions: dict[str, str], missing: _Missing) -> Any:
    if isinstance(value, str):
        return _replace(value, substitutions, missing)
    if isinstance(value, dict):
        return {_replace(k, substitutions, missing): _substitute_strings(v, substitutions, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_strings(v, substitutions, missing) for v in value]
    return value

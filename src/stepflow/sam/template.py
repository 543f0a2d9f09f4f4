"""Reading ``template.yaml``: YAML with CloudFormation's short tags, Globals, and Parameters.

Short tags (``!Ref``, ``!Sub``, ``!GetAtt`` ...) become their long JSON form (``{"Ref": ...}``)
so the rest of the loader sees what CloudFormation sees. Globals are merged the way SAM merges
them (primitives and intrinsics replaced, maps merged, lists concatenated global-first).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from stepflow.errors import TemplateError

_SHORT_TAGS = {
    "Ref": "Ref", "Condition": "Condition", "GetAtt": "Fn::GetAtt", "Sub": "Fn::Sub", "Join": "Fn::Join",
    "If": "Fn::If", "Equals": "Fn::Equals", "Not": "Fn::Not", "And": "Fn::And", "Or": "Fn::Or",
    "Select": "Fn::Select", "Split": "Fn::Split", "FindInMap": "Fn::FindInMap", "Base64": "Fn::Base64",
    "GetAZs": "Fn::GetAZs", "ImportValue": "Fn::ImportValue", "Cidr": "Fn::Cidr", "Transform": "Fn::Transform",
    "ToJsonString": "Fn::ToJsonString", "Length": "Fn::Length",
}

# SAM's Globals: the properties each section may set (SAM rejects any other). Sections stepflow
# does not read (Api, HttpApi, SimpleTable, LayerVersion, CapacityProvider) are accepted as is.
_FUNCTION_GLOBALS = frozenset({
    "Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout", "VpcConfig",
    "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "AutoPublishAlias",
    "AutoPublishAliasAllProperties", "Layers", "DeploymentPreference", "RolePath", "PermissionsBoundary",
    "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "AssumeRolePolicyDocument",
    "EventInvokeConfig", "FileSystemConfigs", "CodeSigningConfigArn", "Architectures", "SnapStart",
    "EphemeralStorage", "FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop",
    "SourceKMSKeyArn",
})
GLOBALS_SECTIONS = {
    "Function": _FUNCTION_GLOBALS,
    "StateMachine": frozenset({"PropagateTags"}),
    "Api": None, "HttpApi": None, "SimpleTable": None, "LayerVersion": None, "CapacityProvider": None,
}
INTRINSIC_KEYS = frozenset({"Ref", "Condition"} | {long for long in _SHORT_TAGS.values() if long.startswith("Fn::")})


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


def load_yaml(text: str) -> Any:
    """Parse YAML (or JSON) text, CloudFormation short tags included."""
    return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass


def load_template(path: str | os.PathLike) -> dict:
    """Parse a SAM/CloudFormation template file (YAML or JSON)."""
    path = Path(path)
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TemplateError(f"Cannot read template {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise TemplateError(f"Template {path} is not valid YAML: {err}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"Template {path} has no Resources section")
    return document


# -- Globals ---------------------------------------------------------------------------------------


def check_globals(template: dict) -> None:
    """Reject Globals sections and properties SAM rejects (it names the section and property)."""
    globals_ = template.get("Globals") or {}
    if not isinstance(globals_, dict):
        raise TemplateError("Globals: must be a map of resource sections")
    for section, props in globals_.items():
        if section not in GLOBALS_SECTIONS:
            raise TemplateError(f"Globals/{section}: not a Globals section SAM supports "
                                f"(one of {', '.join(sorted(GLOBALS_SECTIONS))})")
        if not isinstance(props, dict):
            raise TemplateError(f"Globals/{section}: must be a map of properties")
        allowed = GLOBALS_SECTIONS[section]
        for key in props:
            if allowed is not None and key not in allowed:
                raise TemplateError(f"Globals/{section}/{key}: '{key}' is not a supported property of '{section}'")


def with_globals(template: dict, section: str, logical_id: str, resource: dict) -> dict:
    """The resource's Properties with the Globals section merged in (honouring IgnoreGlobals)."""
    props = resource.get("Properties") or {}
    if not isinstance(props, dict):
        raise TemplateError(f"Resources/{logical_id}/Properties: must be a map")
    globals_ = dict((template.get("Globals") or {}).get(section) or {})
    ignore = resource.get("IgnoreGlobals")
    if ignore == "*":
        return props
    for key in ignore or []:
        if key not in globals_:
            raise TemplateError(f"Resources/{logical_id}/IgnoreGlobals: '{key}' is not in Globals/{section}")
        del globals_[key]
    return merge_globals(globals_, props)


def merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's merge: maps merged key by key, lists concatenated (global first), anything else
    (including an intrinsic function, which stands for a primitive) replaced by the local value."""
    kind_g, kind_l = _merge_kind(global_value), _merge_kind(local_value)
    if kind_g != kind_l or kind_g == "primitive":
        return local_value
    if kind_g == "list":
        return global_value + local_value
    merged = dict(global_value)
    for key, value in local_value.items():
        merged[key] = merge_globals(merged[key], value) if key in merged else value
    return merged


def _merge_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "primitive" if len(value) == 1 and next(iter(value)) in INTRINSIC_KEYS else "dict"
    return "list" if isinstance(value, list) else "primitive"


# -- Parameters ------------------------------------------------------------------------------------


def parse_parameter_overrides(items: list[str] | tuple[str, ...] | str) -> dict[str, str]:
    """``sam deploy --parameter-overrides`` syntax: ``Key=Value`` pairs separated by spaces (quote
    values with spaces), or CloudFormation's ``ParameterKey=K,ParameterValue=V``."""
    items = [items] if isinstance(items, str) else list(items)
    out: dict[str, str] = {}
    for item in items:
        for token in shlex.split(item):
            key, value = _override_pair(token)
            out[key] = value
    return out


def _override_pair(token: str) -> tuple[str, str]:
    long_form = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", token)
    if long_form:
        return long_form.group(1), long_form.group(2)
    key, sep, value = token.partition("=")
    if not sep or not key:
        raise TemplateError(f"parameter override {token!r}: expected Key=Value")
    return key, value


def parameter_values(template: dict, overrides: dict | None) -> dict[str, Any]:
    """Every parameter's value (override, else Default), checked against its constraints.

    Values are what ``Ref`` gives: strings for String and Number, lists for list types."""
    declared = template.get("Parameters") or {}
    if not isinstance(declared, dict):
        raise TemplateError("Parameters: must be a map")
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"Parameters: {', '.join(unknown)} given as override but not declared in the template")
    return {name: _parameter(name, spec or {}, overrides) for name, spec in declared.items()}


def _parameter(name: str, spec: dict, overrides: dict) -> Any:
    where = f"Parameters/{name}"
    kind = str(spec.get("Type", "String"))
    if name in overrides:
        raw = overrides[name]
    elif "Default" in spec:
        raw = spec["Default"]
        if kind.startswith("AWS::SSM::Parameter::Value"):
            raise TemplateError(f"{where}: type {kind} is read from SSM Parameter Store, which stepflow does not "
                                f"reach; give the value with --parameter-overrides {name}=VALUE")
    else:
        raise TemplateError(f"{where}: no value (the parameter has no Default; give it with "
                            f"--parameter-overrides {name}=VALUE)")
    value = _typed(where, kind, raw)
    _check_constraints(where, spec, value)
    return value


def _typed(where: str, kind: str, raw: Any) -> Any:
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    if kind.startswith("List<") or kind == "CommaDelimitedList":
        items = raw if isinstance(raw, list) else ([] if str(raw) == "" else str(raw).split(","))
        values = [str(item).strip() for item in items]
        if kind == "List<Number>":
            for item in values:
                _number(where, item)
        return values
    text = str(raw)
    if kind == "Number":
        _number(where, text)
    return text


def _number(where: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise TemplateError(f"{where}: {text!r} is not a number") from None


def _check_constraints(where: str, spec: dict, value: Any) -> None:
    for item in value if isinstance(value, list) else [value]:
        problem = _constraint_problem(spec, item)
        if problem:
            hint = spec.get("ConstraintDescription")
            raise TemplateError(f"{where}: {problem}" + (f" ({hint})" if hint else ""))


def _constraint_problem(spec: dict, value: str) -> str | None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        return f"{value!r} is not one of the AllowedValues {[str(v) for v in allowed]}"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), value):
        return f"{value!r} does not match the AllowedPattern {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"{value!r} is shorter than MinLength {spec['MinLength']}"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"{value!r} is longer than MaxLength {spec['MaxLength']}"
    return _range_problem(spec, value)


def _range_problem(spec: dict, value: str) -> str | None:
    if "MinValue" not in spec and "MaxValue" not in spec:
        return None
    try:
        number = float(value)
    except ValueError:  # CloudFormation checks MinValue/MaxValue on Number parameters only
        return None
    if "MinValue" in spec and number < float(spec["MinValue"]):
        return f"{value} is less than MinValue {spec['MinValue']}"
    if "MaxValue" in spec and number > float(spec["MaxValue"]):
        return f"{value} is greater than MaxValue {spec['MaxValue']}"
    return None

"""Whole-template reference checks, done before anything is resolved (as CloudFormation's
template validation does): every ``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` placeholder, ``DependsOn``
and ``Condition`` names something the template declares, wherever it is used, so a typo in a
property stepflow otherwise ignores (Policies, Outputs) is still reported with its path.
"""

from __future__ import annotations

import re
from typing import Any

from stepflow.errors import TemplateError
from stepflow.sam.intrinsics import Resolver
from stepflow.sam.template import INTRINSIC_KEYS

_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")


def check_references(resolver: Resolver) -> None:
    """Raise TemplateError at the first reference to something the template does not declare."""
    template = resolver.template
    known = set(resolver.parameters) | set(resolver.pseudo) | set(resolver.resources) | {"AWS::NoValue"}
    for name, expr in (template.get("Conditions") or {}).items():
        _walk(expr, f"Conditions/{name}", known, resolver)
    for logical_id, resource in (template.get("Resources") or {}).items():
        where = f"Resources/{logical_id}"
        _check_attributes(resource, where, resolver)
        _walk(resource.get("Properties"), f"{where}/Properties", known, resolver)
    for name, output in (template.get("Outputs") or {}).items():
        _walk(output, f"Outputs/{name}", known, resolver)


def _check_attributes(resource: dict, where: str, resolver: Resolver) -> None:
    condition = resource.get("Condition")
    if condition is not None and condition not in (resolver.template.get("Conditions") or {}):
        raise TemplateError(f"{where}/Condition: unknown condition {condition!r}")
    depends = resource.get("DependsOn") or []
    for target in [depends] if isinstance(depends, str) else depends:
        if target not in resolver.resources:
            raise TemplateError(f"{where}/DependsOn: unknown resource '{target}'")


def _walk(value: Any, where: str, known: set, resolver: Resolver) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{where}/{i}", known, resolver)
        return
    if not isinstance(value, dict):
        return
    intrinsic = len(value) == 1 and next(iter(value)) in INTRINSIC_KEYS
    if intrinsic:
        (key, arg), = value.items()
        _check_one(key, arg, where, known, resolver)
    for key, item in value.items():
        _walk(item, where if intrinsic else f"{where}/{key}", known, resolver)


def _check_one(key: str, arg: Any, where: str, known: set, resolver: Resolver) -> None:
    if key == "Ref" and isinstance(arg, str) and arg not in known:
        raise TemplateError(f"{where}: Ref to unknown resource or parameter '{arg}'")
    if key == "Fn::GetAtt":
        target = arg.split(".", 1)[0] if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg else None)
        if isinstance(target, str) and target not in resolver.resources:
            raise TemplateError(f"{where}: Fn::GetAtt of unknown resource '{target}'")
    if key == "Fn::Sub":
        _check_sub(arg, where, known, resolver)
    if key in ("Fn::If", "Condition"):
        name = arg[0] if key == "Fn::If" and isinstance(arg, list) and arg else arg
        if isinstance(name, str) and name not in (resolver.template.get("Conditions") or {}):
            raise TemplateError(f"{where}: unknown condition {name!r}")


def _check_sub(arg: Any, where: str, known: set, resolver: Resolver) -> None:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1]) if _sub_pair(arg) else (None, {})
    if text is None:
        return
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1).strip()
        base = name.split(".", 1)[0] if "." in name and not name.startswith("AWS::") else name
        if name not in variables and base not in known:
            raise TemplateError(f"{where}: Fn::Sub placeholder ${{{name}}} names no parameter, resource or variable")


def _sub_pair(arg: Any) -> bool:
    return isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict)

"""CloudFormation's intrinsic functions and conditions, resolved to local values.

:class:`Resolver` resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::If``, ``Fn::FindInMap``, ``Fn::Base64``, ``Fn::GetAZs``, ``Fn::ToJsonString``
and ``Fn::Length`` in any value, and evaluates the template's Conditions (``Fn::Equals``,
``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``). Hand-written because no library resolves
CloudFormation templates to *local* ARNs (cfn-flip only converts syntax). Every error is a
TemplateError that starts with the template path of the value (``Resources/X/Properties/Y``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from stepflow.errors import TemplateError
from stepflow.sam import resources

NO_VALUE = type("NoValue", (), {"__repr__": lambda self: "AWS::NoValue"})()  # removes its property
_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_UNSUPPORTED = {
    "Fn::ImportValue": "values exported by other stacks are not available locally",
    "Fn::Cidr": "Fn::Cidr is not supported locally",
    "Fn::Transform": "macros (Fn::Transform) are not run locally",
}


class Resolver:
    """Resolves intrinsic functions against one template, its parameter values and settings."""

    def __init__(self, template: dict, parameters: dict, region: str, account: str, stack_name: str = "local"):
        self.template = template
        self.parameters = parameters
        self.region, self.account = region, account
        self.pseudo = {
            "AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws", "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": [],
        }
        self.resources = _declared_resources(template)
        self._conditions: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._pending: set[str] = set()
        self._functions = {
            "Ref": self._ref, "Fn::GetAtt": self._get_att, "Fn::Sub": self._sub, "Fn::Join": self._join,
            "Fn::Select": self._select, "Fn::Split": self._split, "Fn::If": self._if, "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64, "Fn::GetAZs": self._get_azs, "Fn::ToJsonString": self._to_json_string,
            "Fn::Length": self._length,
        }

    # -- values ------------------------------------------------------------------------------------

    def value(self, value: Any, where: str) -> Any:
        """``value`` with every intrinsic resolved (``AWS::NoValue`` entries removed)."""
        if isinstance(value, dict):
            function = _intrinsic(value)
            if function is not None:
                return self._call(function, value[function], where)
            return {k: v for k, v in ((k, self.value(v, f"{where}/{k}")) for k, v in value.items()) if v is not NO_VALUE}
        if isinstance(value, list):
            items = (self.value(v, f"{where}/{i}") for i, v in enumerate(value))
            return [v for v in items if v is not NO_VALUE]
        return value

    def string(self, value: Any, where: str) -> str:
        """A resolved value that must be a string (numbers and booleans become CloudFormation's text)."""
        resolved = self.value(value, where)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, (int, float, str)):
            return str(resolved)
        raise TemplateError(f"{where}: expected a string, got {_show(resolved)}")

    def _call(self, function: str, arg: Any, where: str) -> Any:
        if function in _UNSUPPORTED:
            raise TemplateError(f"{where}: {_UNSUPPORTED[function]}")
        handler = self._functions.get(function)
        if handler is None:
            raise TemplateError(f"{where}: unknown intrinsic function {function}")
        return handler(arg, where)

    # -- Ref and Fn::GetAtt ---------------------------------------------------------------------------

    def _ref(self, name: Any, where: str) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"{where}: Ref needs a logical id or parameter name, got {_show(name)}")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource_type = self._resource_type(name, where, "Ref")
        return resources.ref_value(resource_type, self.name_of(name), self.region, self.account)

    def _get_att(self, arg: Any, where: str) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise TemplateError(f"{where}: Fn::GetAtt needs [LogicalId, Attribute], got {_show(arg)}")
        logical_id, attr = arg[0], self.string(arg[1], where)
        resource_type = self._resource_type(logical_id, where, "Fn::GetAtt")
        return resources.attribute(resource_type, logical_id, self.name_of(logical_id), attr, self.region, self.account, where)

    def _resource_type(self, logical_id: str, where: str, via: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{where}: {via} to unknown resource or parameter '{logical_id}'")
        condition = resource.get("Condition")
        if condition is not None and not self.condition(condition, f"Resources/{logical_id}/Condition"):
            raise TemplateError(f"{where}: {via} to '{logical_id}', which its Condition {condition} leaves out")
        return resource["Type"]

    def name_of(self, logical_id: str) -> str:
        """A resource's local name: its name property resolved, else its logical id."""
        if logical_id not in self._names:
            if logical_id in self._pending:
                raise TemplateError(f"Resources/{logical_id}: its name depends on itself (circular reference)")
            self._pending.add(logical_id)
            try:
                self._names[logical_id] = self._name(logical_id)
            finally:
                self._pending.discard(logical_id)
        return self._names[logical_id]

    def _name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        kind = resources.kind_of(resource["Type"])
        props = resource.get("Properties") or {}
        where = f"Resources/{logical_id}/Properties"
        fifo = bool(kind.fifo_property) and self.boolean(props.get(kind.fifo_property, False), f"{where}/{kind.fifo_property}")
        if kind.name_property and props.get(kind.name_property) is not None:
            name = self.value(props[kind.name_property], f"{where}/{kind.name_property}")
            if name is not NO_VALUE:
                return self.string(name, f"{where}/{kind.name_property}")
        return resources.default_name(resource["Type"], logical_id, fifo)

    # -- Fn::Sub --------------------------------------------------------------------------------------

    def _sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
            text, variables = arg[0], arg[1]
        else:
            raise TemplateError(f"{where}: Fn::Sub needs a string or [string, {{variables}}], got {_show(arg)}")
        return _SUB_PLACEHOLDER.sub(lambda m: self._sub_one(m.group(1), variables, where), text)

    def _sub_one(self, name: str, variables: dict, where: str) -> str:
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        name = name.strip()
        if name in variables:
            return self.string(variables[name], f"{where}/{name}")
        if "." in name and not name.startswith("AWS::"):
            return self.string({"Fn::GetAtt": name.split(".", 1)}, where)
        return self.string({"Ref": name}, where)

    # -- list and string functions -----------------------------------------------------------------

    def _join(self, arg: Any, where: str) -> str:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise TemplateError(f"{where}: Fn::Join needs [delimiter, [values]], got {_show(arg)}")
        items = self._list(arg[1], where, "Fn::Join")
        return arg[0].join(self.string(item, where) for item in items)

    def _select(self, arg: Any, where: str) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"{where}: Fn::Select needs [index, [values]], got {_show(arg)}")
        index = self.integer(arg[0], where)
        items = self._list(arg[1], where, "Fn::Select")
        if not 0 <= index < len(items):
            raise TemplateError(f"{where}: Fn::Select index {index} is out of range for {len(items)} values")
        return items[index]

    def _split(self, arg: Any, where: str) -> list:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]):
            raise TemplateError(f"{where}: Fn::Split needs [delimiter, string], got {_show(arg)}")
        return self.string(arg[1], where).split(arg[0])

    def _list(self, value: Any, where: str, function: str) -> list:
        resolved = self.value(value, where)
        if not isinstance(resolved, list):
            raise TemplateError(f"{where}: {function} needs a list of values, got {_show(resolved)}")
        return resolved

    def _find_in_map(self, arg: Any, where: str) -> Any:
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            raise TemplateError(f"{where}: Fn::FindInMap needs [MapName, TopKey, SecondKey], got {_show(arg)}")
        keys = [self.string(part, where) for part in arg[:3]]
        found = (self.template.get("Mappings") or {}).get(keys[0], {}).get(keys[1], {}).get(keys[2])
        if found is None and len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
            return self.value(arg[3]["DefaultValue"], where)
        if found is None:
            raise TemplateError(f"{where}: Fn::FindInMap: Mappings/{'/'.join(keys)} does not exist")
        return found

    def _base64(self, arg: Any, where: str) -> str:
        return base64.b64encode(self.string(arg, where).encode()).decode()

    def _get_azs(self, arg: Any, where: str) -> list:
        region = self.string(arg, where) or self.region
        return [f"{region}{zone}" for zone in "abc"]

    def _to_json_string(self, arg: Any, where: str) -> str:
        return json.dumps(self.value(arg, where), separators=(",", ":"))

    def _length(self, arg: Any, where: str) -> int:
        return len(self._list(arg, where, "Fn::Length"))

    # -- conditions ---------------------------------------------------------------------------------

    def _if(self, arg: Any, where: str) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            raise TemplateError(f"{where}: Fn::If needs [ConditionName, value_if_true, value_if_false], got {_show(arg)}")
        chosen = arg[1] if self.condition(arg[0], where) else arg[2]
        return self.value(chosen, where)

    def condition(self, name: Any, where: str) -> bool:
        """The value of the template's condition ``name`` (evaluated once)."""
        conditions = self.template.get("Conditions") or {}
        if not isinstance(name, str) or name not in conditions:
            raise TemplateError(f"{where}: unknown condition {name!r}")
        if name not in self._conditions:
            key = f"Conditions/{name}"
            if key in self._pending:
                raise TemplateError(f"{key}: the condition depends on itself")
            self._pending.add(key)
            try:
                self._conditions[name] = self._truth(conditions[name], key)
            finally:
                self._pending.discard(key)
        return self._conditions[name]

    def _truth(self, expr: Any, where: str) -> bool:
        if isinstance(expr, dict) and len(expr) == 1:
            (function, arg), = expr.items()
            if function == "Condition":
                return self.condition(arg, where)
            if function == "Fn::Equals":
                return self._equals(arg, where)
            if function in ("Fn::Not", "Fn::And", "Fn::Or"):
                return self._logic(function, arg, where)
        if isinstance(expr, bool):
            return expr
        raise TemplateError(f"{where}: a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition, got {_show(expr)}")

    def _equals(self, arg: Any, where: str) -> bool:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"{where}: Fn::Equals needs two values, got {_show(arg)}")
        left, right = (self.value(v, where) for v in arg)
        return _text(left) == _text(right)

    def _logic(self, function: str, arg: Any, where: str) -> bool:
        low = 1 if function == "Fn::Not" else 2
        if not (isinstance(arg, list) and low <= len(arg) <= (1 if function == "Fn::Not" else 10)):
            raise TemplateError(f"{where}: {function} needs a list of {low}{'' if low == 1 else ' to 10'} conditions, got {_show(arg)}")
        values = [self._truth(item, where) for item in arg]
        if function == "Fn::Not":
            return not values[0]
        return all(values) if function == "Fn::And" else any(values)

    def included(self, logical_id: str) -> bool:
        """False when the resource's ``Condition`` attribute is false."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition, f"Resources/{logical_id}/Condition")

    # -- scalar helpers ------------------------------------------------------------------------------

    def integer(self, value: Any, where: str) -> int:
        resolved = self.value(value, where)
        try:
            if isinstance(resolved, bool) or float(resolved) != int(float(resolved)):
                raise ValueError
            return int(float(resolved))
        except (TypeError, ValueError):
            raise TemplateError(f"{where}: expected an integer, got {_show(resolved)}") from None

    def boolean(self, value: Any, where: str) -> bool:
        resolved = self.value(value, where)
        if isinstance(resolved, bool):
            return resolved
        if isinstance(resolved, str) and resolved.lower() in ("true", "false"):
            return resolved.lower() == "true"
        raise TemplateError(f"{where}: expected true or false, got {_show(resolved)}")


def _intrinsic(value: dict) -> str | None:
    """The intrinsic function a one-key map calls (``Ref`` or ``Fn::*``), else None."""
    if len(value) != 1:
        return None
    key = next(iter(value))
    return key if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")) else None


def _declared_resources(template: dict) -> dict[str, dict]:
    """Resources by logical id, plus the ones SAM generates (function and state machine roles)."""
    declared = template.get("Resources") or {}
    out: dict[str, dict] = {}
    for logical_id, resource in declared.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(f"Resources/{logical_id}/Type: every resource needs a Type")
        out[logical_id] = resource
    for logical_id, resource in declared.items():
        if resource["Type"] in resources.IMPLICIT_ROLE_OWNERS and f"{logical_id}Role" not in out:
            out[f"{logical_id}Role"] = {"Type": "AWS::IAM::Role", "Condition": resource.get("Condition")}
            if resource.get("Condition") is None:
                del out[f"{logical_id}Role"]["Condition"]
    for logical_id, resource_type in resources.IMPLICIT_RESOURCES.items():
        out.setdefault(logical_id, {"Type": resource_type})
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _show(value: Any) -> str:
    text = json.dumps(value, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."

"""What every resource builder shares: the template, its folder, the resolver, the warnings."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stepflow.errors import TemplateError
from stepflow.sam.intrinsics import NO_VALUE, Resolver
from stepflow.sam.template import with_globals

log = logging.getLogger("stepflow.sam")


@dataclass
class Context:
    template: dict
    base_dir: Path
    resolver: Resolver
    warnings: list[str] = field(default_factory=list)

    @property
    def region(self) -> str:
        return self.resolver.region

    @property
    def account(self) -> str:
        return self.resolver.account

    def resources(self, *types: str) -> Iterator[tuple[str, dict]]:
        """(logical id, resource) of the given types, in template order, skipping those whose
        ``Condition`` is false."""
        for logical_id, resource in (self.template.get("Resources") or {}).items():
            if resource.get("Type") in types and self.resolver.included(logical_id):
                yield logical_id, resource

    def properties(self, logical_id: str, globals_section: str | None = None) -> dict:
        """The resource's Properties, with its Globals section merged in when it has one, and
        top-level ``Fn::If`` / ``Ref AWS::NoValue`` resolved (so a property can be left out)."""
        resource = self.template["Resources"][logical_id]
        if globals_section is None:
            props = resource.get("Properties") or {}
            if not isinstance(props, dict):
                raise TemplateError(f"Resources/{logical_id}/Properties: must be a map")
        else:
            props = with_globals(self.template, globals_section, logical_id, resource)
        return {key: value for key, value in self._choose(props, f"Resources/{logical_id}/Properties").items()
                if value is not NO_VALUE}

    def _choose(self, props: dict, where: str) -> dict:
        out = {}
        for key, value in props.items():
            if isinstance(value, dict) and len(value) == 1 and (value.get("Ref") == "AWS::NoValue" or "Fn::If" in value):
                value = self.resolver.value(value, f"{where}/{key}")
            out[key] = value
        return out

    def warn(self, message: str) -> None:
        """Something the template says that stepflow reads but does not do locally."""
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning("%s", message)

"""``load_project``: a SAM template read into a :class:`Project` of local functions, state
machines, topics, queues and Glue jobs, every intrinsic resolved to local names and ARNs."""

from __future__ import annotations

import os
from pathlib import Path

from stepflow.sam.checks import check_references
from stepflow.sam.context import Context
from stepflow.sam.functions import function_specs, function_subscriptions
from stepflow.sam.intrinsics import Resolver
from stepflow.sam.services import glue_jobs, queues, topics
from stepflow.sam.specs import DEFAULT_ACCOUNT, DEFAULT_REGION, FunctionSpec, Project
from stepflow.sam.statemachines import state_machines
from stepflow.sam.template import check_globals, load_template, parameter_values


def load_project(
    path: str | os.PathLike,
    parameter_overrides: dict | None = None,
    region: str = DEFAULT_REGION,
    account: str = DEFAULT_ACCOUNT,
) -> Project:
    """Read ``template.yaml`` at ``path`` into a Project.

    ``parameter_overrides`` replace parameter defaults, as ``sam deploy --parameter-overrides``.
    Raises :class:`~stepflow.errors.TemplateError` naming the resource and property of the first
    problem; what is read but not run locally is listed in ``Project.warnings``.
    """
    path = Path(path).resolve()
    template = load_template(path)
    ctx = _context(template, path.parent, parameter_overrides, region, account)
    functions = function_specs(ctx)
    machines = state_machines(ctx)
    return Project(
        path=path, functions=tuple(functions), state_machines=tuple(machines),
        topics=tuple(topics(ctx, function_subscriptions(ctx))), queues=tuple(queues(ctx)),
        glue_jobs=tuple(glue_jobs(ctx)), parameters=dict(ctx.resolver.parameters),
        warnings=tuple(ctx.warnings), region=region, account=account,
    )


def functions(template: dict, base_dir: str | os.PathLike, region: str = DEFAULT_REGION,
              account: str = DEFAULT_ACCOUNT) -> list[FunctionSpec]:
    """The functions of an already parsed template (parameters at their defaults)."""
    return function_specs(_context(template, Path(base_dir), None, region, account))


def _context(template: dict, base_dir: Path, overrides: dict | None, region: str, account: str) -> Context:
    check_globals(template)
    resolver = Resolver(template, parameter_values(template, overrides), region, account)
    check_references(resolver)
    return Context(template, base_dir, resolver)

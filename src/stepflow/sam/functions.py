"""``AWS::Serverless::Function`` (Globals merged) and ``AWS::Lambda::Function`` with local code
as FunctionSpecs. Functions stepflow cannot run (another runtime, an image, code in S3) are
left out with a warning; Layers are ignored with a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stepflow.errors import TemplateError
from stepflow.sam.context import Context
from stepflow.sam.specs import (
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    FunctionSpec,
    SubscriptionSpec,
)

SERVERLESS = "AWS::Serverless::Function"
LAMBDA = "AWS::Lambda::Function"


def function_specs(ctx: Context) -> list[FunctionSpec]:
    """Every function of the template that runs locally, in template order."""
    out = []
    for logical_id, resource in ctx.resources(SERVERLESS, LAMBDA):
        serverless = resource["Type"] == SERVERLESS
        props = ctx.properties(logical_id, "Function" if serverless else None)
        spec = _function(ctx, logical_id, props, "CodeUri" if serverless else "Code")
        if spec is not None:
            out.append(spec)
    return out


def _function(ctx: Context, logical_id: str, props: dict, code_key: str) -> FunctionSpec | None:
    where = f"Resources/{logical_id}/Properties"
    if not _runs_locally(ctx, props, where):
        return None
    code_dir = _code_dir(ctx, props, code_key, where)
    if code_dir is None:
        return None
    if props.get("Layers"):
        ctx.warn(f"{where}/Layers: layers are not installed locally; the function sees only its CodeUri "
                 f"and the packages of stepflow's Python environment")
    resolve = ctx.resolver
    return FunctionSpec(
        logical_id=logical_id,
        name=resolve.name_of(logical_id),
        handler=_handler(ctx, props, where),
        code_uri=code_dir,
        runtime=resolve.string(props.get("Runtime", "python3.12"), f"{where}/Runtime"),
        timeout=resolve.integer(props.get("Timeout", DEFAULT_TIMEOUT), f"{where}/Timeout"),
        memory_size=resolve.integer(props.get("MemorySize", DEFAULT_MEMORY), f"{where}/MemorySize"),
        environment=_environment(ctx, props, where),
        reserved_concurrency=_optional_int(ctx, props, "ReservedConcurrentExecutions", where),
        region=ctx.region,
        account=ctx.account,
    )


def _runs_locally(ctx: Context, props: dict, where: str) -> bool:
    if ctx.resolver.value(props.get("PackageType", "Zip"), f"{where}/PackageType") == "Image":
        ctx.warn(f"{where}/PackageType: container image functions are not run locally; left out")
        return False
    runtime = ctx.resolver.string(props.get("Runtime", "python3.12"), f"{where}/Runtime")
    if not runtime.startswith("python"):
        ctx.warn(f"{where}/Runtime: {runtime} functions are not run locally (Python only); left out")
        return False
    return True


def _code_dir(ctx: Context, props: dict, key: str, where: str) -> Path | None:
    if props.get("InlineCode") is not None:
        ctx.warn(f"{where}/InlineCode: inline code is not run locally; left out")
        return None
    code = ctx.resolver.value(props.get(key, "."), f"{where}/{key}")
    if not isinstance(code, str) or code.startswith("s3://"):
        ctx.warn(f"{where}/{key}: code in S3 or inline ({_describe(code)}) is not run locally; give a local folder")
        return None
    path = (ctx.base_dir / code).resolve()
    if not path.exists():
        raise TemplateError(f"{where}/{key}: folder {code} not found")
    return path


def _describe(code: Any) -> str:
    if isinstance(code, dict):
        return ", ".join(sorted(code))
    return str(code)


def _handler(ctx: Context, props: dict, where: str) -> str:
    handler = ctx.resolver.value(props.get("Handler"), f"{where}/Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{where}/Handler: a Python handler 'module.function' is required, got {handler!r}")
    return handler


def _environment(ctx: Context, props: dict, where: str) -> dict[str, str]:
    environment = props.get("Environment") or {}
    if not isinstance(environment, dict):
        raise TemplateError(f"{where}/Environment: must be a map with Variables")
    variables = ctx.resolver.value(environment.get("Variables") or {}, f"{where}/Environment/Variables")
    if not isinstance(variables, dict):
        raise TemplateError(f"{where}/Environment/Variables: must be a map of names to values")
    return {str(k): ctx.resolver.string(v, f"{where}/Environment/Variables/{k}") for k, v in variables.items()}


def _optional_int(ctx: Context, props: dict, key: str, where: str) -> int | None:
    if props.get(key) is None:
        return None
    return ctx.resolver.integer(props[key], f"{where}/{key}")


def function_subscriptions(ctx: Context) -> dict[str, list[SubscriptionSpec]]:
    """SNS subscriptions made by functions' ``Events`` of type SNS, by topic ARN."""
    out: dict[str, list[SubscriptionSpec]] = {}
    for logical_id, resource in ctx.resources(SERVERLESS):
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event_id, event in events.items() if isinstance(events, dict) else ():
            where = f"Resources/{logical_id}/Properties/Events/{event_id}"
            kind = event.get("Type") if isinstance(event, dict) else None
            if kind == "SNS":
                topic, spec = _sns_event(ctx, logical_id, event.get("Properties") or {}, f"{where}/Properties")
                out.setdefault(topic, []).append(spec)
            elif kind in ("Schedule", "ScheduleV2"):
                ctx.warn(f"{where}: scheduled function invocations are not run locally (schedule a state machine)")
    return out


def _sns_event(ctx: Context, logical_id: str, props: dict, where: str) -> tuple[str, SubscriptionSpec]:
    if props.get("Topic") is None:
        raise TemplateError(f"{where}/Topic: an SNS event needs Topic")
    topic = ctx.resolver.string(props["Topic"], f"{where}/Topic")
    arn = ctx.resolver.value({"Fn::GetAtt": [logical_id, "Arn"]}, where)
    policy = ctx.resolver.value(props.get("FilterPolicy"), f"{where}/FilterPolicy")
    return topic, SubscriptionSpec(protocol="lambda", endpoint=arn, filter_policy=policy or None,
                                   filter_policy_scope=str(props.get("FilterPolicyScope", "MessageAttributes")),
                                   logical_id=logical_id)

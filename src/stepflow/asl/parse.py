"""From a validated definition (a dict) to the compiled :class:`~stepflow.asl.model.StateMachine`.

Validation (``validate.py``) runs first and reports every problem; this module assumes a valid
definition and only compiles: paths, payload templates, JSONata expressions, Choice rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stepflow.asl import choice, jsonata_eval
from stepflow.asl.dataflow import (
    JsonataCatchIO,
    JsonataIO,
    JsonPathCatchIO,
    JsonPathIO,
    states_binding,
)
from stepflow.asl.env import Env
from stepflow.asl.intrinsics import compile_intrinsic
from stepflow.asl.jsonpath import PathNotFound, compile_path
from stepflow.asl.model import (
    JSONATA,
    JSONPATH,
    MISSING,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    Program,
    Retrier,
    StateMachine,
    StateScope,
    SucceedState,
    TaskState,
    WaitState,
)
from stepflow.asl.payload import compile_payload_template, expression_kind
from stepflow.asl.validate import validate_or_raise
from stepflow.errors import RUNTIME, StatesError

# States whose JSONata output defaults to their input rather than a result.
_OUTPUT_IS_INPUT = {"Pass", "Choice", "Wait", "Succeed", "Fail"}


def parse_definition(definition: dict, *, state_machine_type: str = "STANDARD") -> StateMachine:
    """Validate (raising DefinitionError with every problem) and compile a definition."""
    validate_or_raise(definition, state_machine_type=state_machine_type)
    return compile_definition(definition)


def compile_definition(definition: dict) -> StateMachine:
    """Compile an already validated definition."""
    language = definition.get("QueryLanguage", JSONPATH)
    programs: dict[str, Program] = {}
    root = _program("", definition, language, programs)
    return StateMachine(
        root=root,
        programs=programs,
        timeout_seconds=definition.get("TimeoutSeconds"),
        comment=definition.get("Comment"),
        version=definition.get("Version"),
        query_language=language,
        assigns_variables='"Assign"' in json.dumps(definition),  # a cheap, safe over-estimate
    )


def _program(key: str, body: dict, language: str, programs: dict) -> Program:
    language = body.get("QueryLanguage", language)
    states = {name: _state(name, raw, language, programs) for name, raw in body["States"].items()}
    program = Program(key=key, start_at=body["StartAt"], states=states, query_language=language)
    programs[key] = program
    return program


def _state(name: str, raw: dict, inherited: str, programs: dict):
    language = raw.get("QueryLanguage", inherited)
    kind = raw["Type"]
    common = dict(
        name=name,
        type=kind,
        query_language=language,
        io=_state_io(raw, kind, language),
        next=raw.get("Next"),
        end=bool(raw.get("End", False)),
        comment=raw.get("Comment"),
        uses_context=_reads_context(raw, kind),
    )
    return _BUILDERS[kind](raw, common, language, programs)


def _reads_context(raw: dict, kind: str) -> bool:
    """Could any field of this state read the context object? (A cheap, safe over-estimate.)"""
    if kind in ("Map", "Parallel"):
        raw = {k: v for k, v in raw.items() if k not in ("ItemProcessor", "Iterator", "Branches")}
    text = json.dumps(raw)
    return "$$" in text or "context" in text


# -- data flow ------------------------------------------------------------------------------


def _optional_path(raw: dict, field: str) -> Any:
    """MISSING when absent, None for JSON null, else a compiled path."""
    if field not in raw:
        return MISSING
    text = raw[field]
    return None if text is None else compile_path(text)


def _template(raw: dict, field: str):
    return compile_payload_template(raw[field], field) if field in raw else None


def _jsonata(raw: dict, field: str):
    return jsonata_eval.compile_template(raw[field], field) if field in raw else None


def _state_io(raw: dict, kind: str, language: str):
    if language == JSONATA:
        return JsonataIO(
            arguments_template=_jsonata(raw, "Arguments"),
            output_template=_jsonata(raw, "Output"),
            assign=jsonata_eval.compile_assign(raw["Assign"]) if "Assign" in raw else None,
            output_default="input" if kind in _OUTPUT_IS_INPUT else "result",
        )
    parameters_field = "ItemSelector" if kind == "Map" else "Parameters"
    return JsonPathIO(
        input_path=_optional_path(raw, "InputPath"),
        parameters=None if kind == "Map" else _template(raw, parameters_field),
        result_selector=_template(raw, "ResultSelector"),
        result_path=_optional_path(raw, "ResultPath"),
        output_path=_optional_path(raw, "OutputPath"),
        assign=_template(raw, "Assign"),
    )


def _catch_io(raw: dict, language: str):
    if language == JSONATA:
        return JsonataCatchIO(
            output_template=_jsonata(raw, "Output"),
            assign=jsonata_eval.compile_assign(raw["Assign"]) if "Assign" in raw else None,
        )
    return JsonPathCatchIO(result_path=_optional_path(raw, "ResultPath"), assign=_template(raw, "Assign"))


# -- value fields: literal, ...Path (JSONPath) or {% %} (JSONata) ------------------------------


def value_field(raw: dict, field: str, language: str):
    """An evaluator for a field that may be literal, ``<field>Path`` or JSONata; None if absent."""
    if field in raw:
        value = raw[field]
        if language == JSONATA and _has_jsonata(value):
            template = jsonata_eval.compile_template(value, field)
            evaluate = lambda scope: template(states_binding(scope), scope.variables)  # noqa: E731
            evaluate.source = jsonata_eval.expression_text(value) if isinstance(value, str) else field
            return evaluate
        literal = lambda scope: value  # noqa: E731
        literal.source = field
        return literal
    path_field = field + "Path"
    if path_field in raw:
        return _path_evaluator(raw[path_field], path_field)
    return None


def _has_jsonata(value: Any) -> bool:
    """Does a value hold a {% %} expression anywhere (nested arrays and objects included)?"""
    if isinstance(value, str):
        return jsonata_eval.is_jsonata_string(value)
    if isinstance(value, list):
        return any(_has_jsonata(v) for v in value)
    if isinstance(value, dict):
        return any(_has_jsonata(v) for v in value.values())
    return False


def _path_evaluator(text: str, field: str):
    if expression_kind(text) == "intrinsic":
        function = compile_intrinsic(text)
        evaluate = lambda scope: function(Env(scope.effective, scope.context, scope.variables))  # noqa: E731
        evaluate.source = text
        return evaluate
    path = compile_path(text)

    def evaluate(scope: StateScope) -> Any:
        try:
            return path.get(Env(scope.effective, scope.context, scope.variables))
        except PathNotFound:
            raise StatesError(
                RUNTIME,
                f"The JSONPath '{text}' specified for the field '{field}' could not be found in the input "
                f"'{_compact(scope.effective)}'",
            ) from None

    evaluate.source = text
    return evaluate


def _compact(value: Any) -> str:
    from stepflow.asl.json_text import dumps

    return dumps(value)


# -- retry and catch ------------------------------------------------------------------------


def _retriers(raw: dict) -> tuple[Retrier, ...]:
    return tuple(
        Retrier(
            error_equals=tuple(r["ErrorEquals"]),
            interval_seconds=r.get("IntervalSeconds", 1),
            max_attempts=r.get("MaxAttempts", 3),
            backoff_rate=r.get("BackoffRate", 2.0),
            max_delay_seconds=r.get("MaxDelaySeconds"),
            jitter_strategy=r.get("JitterStrategy", "NONE"),
        )
        for r in raw.get("Retry", ())
    )


def _catchers(raw: dict, language: str) -> tuple[Catcher, ...]:
    out = []
    for c in raw.get("Catch", ()):
        lang = c.get("QueryLanguage", language)
        out.append(Catcher(error_equals=tuple(c["ErrorEquals"]), next=c["Next"], io=_catch_io(c, lang)))
    return tuple(out)


# -- one builder per state type -------------------------------------------------------------


def _pass(raw, common, language, programs):
    return PassState(**common, result=raw.get("Result", MISSING))


def _task(raw, common, language, programs):
    return TaskState(
        **common,
        resource=raw["Resource"],
        timeout_seconds=value_field(raw, "TimeoutSeconds", language),
        heartbeat_seconds=value_field(raw, "HeartbeatSeconds", language),
        credentials=raw.get("Credentials", MISSING),
        retry=_retriers(raw),
        catch=_catchers(raw, language),
    )


def _choice(raw, common, language, programs):
    rules = tuple(_choice_rule(rule, language) for rule in raw["Choices"])
    passes_input = common["io"].passes_input and all(r.test is not None and r.io.passes_input for r in rules)
    return ChoiceState(**common, choices=rules, default=raw.get("Default"), passes_input=passes_input)


def _choice_rule(rule: dict, language: str) -> ChoiceRule:
    rule_io = _state_io(rule, "Choice", language)
    if language == JSONATA:
        return ChoiceRule(condition=_jsonata_condition(rule["Condition"]), next=rule["Next"], io=rule_io)
    test = choice.compile_choice_rule(rule)
    return ChoiceRule(
        condition=lambda scope: test(Env(scope.effective, scope.context, scope.variables)),
        next=rule["Next"],
        io=rule_io,
        test=test,
    )


def _jsonata_condition(value: Any):
    if not jsonata_eval.is_jsonata_string(value):
        return lambda scope: value is True
    template = jsonata_eval.compile_template(value, "Condition")
    expression = value.strip()[2:-2].strip()

    def condition(scope: StateScope) -> bool:
        result = template(states_binding(scope), scope.variables)
        jsonata_eval.expect_type(result, "boolean", expression, "Condition")
        return result

    return condition


def _wait(raw, common, language, programs):
    return WaitState(
        **common,
        seconds=value_field(raw, "Seconds", language),
        timestamp=value_field(raw, "Timestamp", language),
    )


def _succeed(raw, common, language, programs):
    return SucceedState(**common)


def _fail(raw, common, language, programs):
    return FailState(**common, error=value_field(raw, "Error", language), cause=value_field(raw, "Cause", language))


def _parallel(raw, common, language, programs):
    branches = tuple(
        _program(f"{common['name']}#{i}", body, language, programs) for i, body in enumerate(raw["Branches"])
    )
    return ParallelState(**common, branches=branches, retry=_retriers(raw), catch=_catchers(raw, language))


def _map(raw, common, language, programs):
    body = raw.get("ItemProcessor") or raw.get("Iterator")
    config = body.get("ProcessorConfig", {})  # AWS honours it in the legacy Iterator too
    processor = _program(common["name"], body, language, programs)
    return MapState(
        **common,
        processor=processor,
        mode=config.get("Mode", "INLINE"),
        execution_type=config.get("ExecutionType"),
        items=_items_field(raw, language),
        item_selector=_item_selector(raw, language),
        item_reader=raw.get("ItemReader", MISSING),
        item_batcher=raw.get("ItemBatcher", MISSING),
        result_writer=raw.get("ResultWriter", MISSING),
        max_concurrency=value_field(raw, "MaxConcurrency", language),
        tolerated_failure_count=value_field(raw, "ToleratedFailureCount", language),
        tolerated_failure_percentage=value_field(raw, "ToleratedFailurePercentage", language),
        label=raw.get("Label"),
        retry=_retriers(raw),
        catch=_catchers(raw, language),
    )


def _items_field(raw: dict, language: str):
    if language == JSONATA:
        if "Items" not in raw:
            return lambda scope: scope.raw
        return value_field(raw, "Items", language)
    if "ItemsPath" not in raw:
        return lambda scope: scope.effective
    path = compile_path(raw["ItemsPath"])

    def items(scope: StateScope) -> Any:
        try:
            return path.get(Env(scope.effective, scope.context, scope.variables))
        except PathNotFound:
            raise StatesError(
                RUNTIME, f"Invalid path '{path.text}' : No results for path: {path.normalized()}"
            ) from None

    return items


def _item_selector(raw: dict, language: str):
    field = "ItemSelector" if "ItemSelector" in raw else "Parameters"
    if field not in raw:
        return None
    if language == JSONATA:
        template = jsonata_eval.compile_template(raw[field], field)
        return lambda scope, index, value: template(
            states_binding(_with_item(scope, index, value)), scope.variables
        )
    selector = compile_payload_template(raw[field], field)
    return lambda scope, index, value: selector(
        Env(scope.effective, _item_context(scope.context, index, value), scope.variables)
    )


def _item_context(context: Mapping, index: int, value: Any) -> dict:
    out = dict(context)
    out["Map"] = {"Item": {"Index": index, "Value": value}}
    return out


def _with_item(scope: StateScope, index: int, value: Any) -> StateScope:
    return StateScope(scope.raw, scope.effective, _item_context(scope.context, index, value), scope.variables)


_BUILDERS = {
    "Pass": _pass,
    "Task": _task,
    "Choice": _choice,
    "Wait": _wait,
    "Succeed": _succeed,
    "Fail": _fail,
    "Parallel": _parallel,
    "Map": _map,
}

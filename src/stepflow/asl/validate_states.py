"""The eight state types: which fields each may hold (a table) and the rules between fields.

:data:`STATES` maps a state type to the :class:`Spec` of its fields (both query languages; a
field of the other language is refused by :func:`check_object`); :data:`RULES` maps a state
type to the checks that look at several fields at once (Next/End, exactly one Wait field, ...).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable

from .validate_fields import (
    CHOICE_OPERATORS,
    Kind,
    Report,
    Spec,
    Where,
    any_json,
    array_of,
    boolean,
    check_object,
    enum,
    exclusive,
    expr_or,
    integer,
    is_valid_path,
    looks_like_path,
    number,
    obj,
    object_template,
    path_or_intrinsic,
    path_or_null,
    payload,
    reference_path,
    result_path,
    string,
    template,
    template_or_payload,
    timestamp,
)

Rule = Callable[[Report, dict, Where], None]
STATES_ALL = "States.ALL"
STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_ARN = re.compile(r"arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+")
_LABEL_FORBIDDEN = set(" <>{}[]?*\"#%\\^|~`$&,;:/")
MAX_LABEL_LENGTH = 40
MAX_VARIABLE_NAME_LENGTH = 80


# ---------------------------------------------------------------- field kinds


def path(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a JSONPath (Choice ``Variable``)."""
    if not (isinstance(value, str) and is_valid_path(value)):
        rep.error(f"The value for the field '{name}' must be a valid JSONPath", at.loc)


def assign(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: ``Assign``: an object of variable names to values (templates or JSONata)."""
    if not isinstance(value, dict):
        rep.error("Expected value of type [OBJECT]", at.loc)
        return
    for key in value:
        variable = key[:-2] if key.endswith(".$") and not at.jsonata else key
        if not (variable.isidentifier() and len(variable) <= MAX_VARIABLE_NAME_LENGTH):
            rep.error(f"The variable name '{variable}' is not a valid variable name",
                      at.key(key).loc)
    template_or_payload(rep, value, at, name)


def in_catch(kind: Kind) -> Kind:
    """Kind: a catcher's Output/Assign, where ``$states.errorOutput`` exists."""
    return lambda rep, value, at, name: kind(rep, value, replace(at, in_catch_output=True), name)


def error_equals(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a non-empty list of error names; States.ALL must stand alone."""
    array_of(string, 1)(rep, value, at, name)
    if isinstance(value, list) and STATES_ALL in value and len(value) > 1:
        rep.error(f"The value '{STATES_ALL}' must appear alone in the field '{name}'", at.loc)


def handlers(spec: Spec, what: str) -> Kind:
    """Kind: Retry or Catch: a list of handlers; one matching States.ALL must be last."""
    item = obj(spec)
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        array_of(item)(rep, value, at, name)
        for i, handler in enumerate(value[:-1] if isinstance(value, list) else []):
            errors = handler.get("ErrorEquals") if isinstance(handler, dict) else None
            if isinstance(errors, list) and STATES_ALL in errors:
                rep.error(f"A {what} matching '{STATES_ALL}' must be the last one in '{name}'",
                          at.index(i).loc)
    return check


def resource(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a Task ``Resource``: an ARN string."""
    if not isinstance(value, str):
        rep.error("Expected value of type [STRING]", at.loc)
    elif not _ARN.fullmatch(value):
        rep.error(f"The resource provided {value} is not recognized. The value is not a valid "
                  "resource ARN, or the resource is not available in this region.",
                  at.loc, "INVALID_RESOURCE")


def service_resource(*operations: str) -> Kind:
    """Kind: the ``arn:<partition>:states:::s3:<operation>`` an ItemReader/ResultWriter uses."""
    allowed = [re.compile(rf"arn:[^:]+:states:::{re.escape(op)}") for op in operations]
    examples = ", ".join(f"arn:<partition>:states:::{op}" for op in operations)
    def check(rep: Report, value: Any, at: Where, name: str) -> None:
        if not (isinstance(value, str) and any(p.fullmatch(value) for p in allowed)):
            rep.error("The field 'Resource' does not match any of the allowed values. "
                      f"Examples: [{examples}]", at.loc)
    return check


def credentials(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: Task ``Credentials``: an object naming the role to assume."""
    if check_object(rep, value, at, CREDENTIALS) and not {"RoleArn", "RoleArn.$"} & set(value):
        rep.error("The field 'RoleArn' is required but was missing", at.loc)


def label(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a distributed Map ``Label``: 1-40 characters, none of AWS's forbidden ones."""
    if not isinstance(value, str):
        rep.error("Expected value of type [STRING]", at.loc)
        return
    bad = next((c for c in value if c in _LABEL_FORBIDDEN or _is_control(c)), None)
    if not value:
        rep.error("Label cannot be empty", at.loc, "INVALID_LABEL_NAME")
    elif bad is not None:
        rep.error(f"Label contains invalid character: {bad!r}", at.loc, "INVALID_LABEL_NAME")
    elif len(value) > MAX_LABEL_LENGTH:
        rep.error(f"Label exceeds {MAX_LABEL_LENGTH} characters", at.loc, "INVALID_LABEL_NAME")


def _is_control(char: str) -> bool:
    code = ord(char)
    return code <= 0x1F or 0x7F <= code <= 0x9F or char.isspace()


def items(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a JSONata Map's ``Items``: an array (or an expression)."""
    if not isinstance(value, list):
        rep.error("Expected value of type [ARRAY]", at.loc)
    else:
        payload(rep, value, at, name)


def choices(rep: Report, value: Any, at: Where, name: str) -> None:
    """Kind: a Choice state's ``Choices``: a non-empty list of top-level Choice Rules."""
    if not isinstance(value, list):
        rep.error("Expected value of type [ARRAY]", at.loc)
        return
    if not value:
        rep.error(f"The field '{name}' should have at least 1 item(s)", at.loc)
    for i, rule in enumerate(value):
        choice_rule(rep, rule, at.index(i), top=True)


# ---------------------------------------------------------------- Choice Rules


def _operator_kind(operator: str) -> Kind:
    if operator.endswith("Path"):
        return reference_path
    families = {"String": string, "Numeric": number(float("-inf")), "Boolean": boolean,
                "Is": boolean, "Timestamp": timestamp}
    return next(kind for prefix, kind in families.items() if operator.startswith(prefix))


_RULE_FIELDS: dict[str, Kind] = {
    "Variable": path, "And": any_json, "Or": any_json, "Not": any_json, "Comment": string,
    "Condition": expr_or(boolean), **{op: _operator_kind(op) for op in CHOICE_OPERATORS},
}
_NESTED_RULE = Spec(_RULE_FIELDS)
_TOP_FIELDS = {**_RULE_FIELDS, "Next": string, "Assign": assign, "Output": payload}
_TOP_RULE = {False: Spec(_TOP_FIELDS, required=("Next",)),
             True: Spec(_TOP_FIELDS, required=("Condition", "Next"))}


def choice_rule(rep: Report, rule: Any, at: Where, *, top: bool) -> None:
    """One Choice Rule: a comparison, or And/Or/Not of nested rules (JSONPath), or a Condition."""
    spec = _TOP_RULE[at.jsonata] if top else _NESTED_RULE
    if not check_object(rep, rule, at, spec) or at.jsonata:
        return
    tests = [key for key in rule if key in CHOICE_OPERATORS or key in ("And", "Or", "Not")]
    if len(tests) != 1:
        rep.error("A Choice Rule must contain exactly one comparison operator, "
                  "or one of 'And', 'Or', 'Not'", at.loc)
    elif tests[0] in CHOICE_OPERATORS and "Variable" not in rule:
        rep.error("The field 'Variable' is required but was missing", at.loc)
    for key in ("And", "Or"):
        if key in rule:
            array_of(_nested_rule, 1)(rep, rule[key], at.key(key), key)
    if "Not" in rule:
        _nested_rule(rep, rule["Not"], at.key("Not"), "Not")


def _nested_rule(rep: Report, rule: Any, at: Where, name: str) -> None:
    """Kind: a Choice Rule inside And/Or/Not (no Next, no Assign)."""
    choice_rule(rep, rule, at, top=False)


# ---------------------------------------------------------------- specs

RETRIER = Spec({
    "ErrorEquals": error_equals, "IntervalSeconds": integer(1), "MaxAttempts": integer(0),
    "BackoffRate": number(1.0), "MaxDelaySeconds": integer(1, 31_622_400),
    "JitterStrategy": enum("FULL", "NONE"), "Comment": string,
}, required=("ErrorEquals",))
CATCHER = Spec({
    "ErrorEquals": error_equals, "Next": string, "ResultPath": result_path,
    "Assign": in_catch(assign), "Output": in_catch(payload), "Comment": string,
}, required=("ErrorEquals", "Next"))
CREDENTIALS = Spec({"RoleArn": string, "RoleArn.$": path})  # AWS parses no JSONata here
READER_CONFIG = Spec({
    "InputType": enum("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"),
    "CSVHeaderLocation": enum("FIRST_ROW", "GIVEN"), "CSVHeaders": array_of(string),
    "CSVDelimiter": enum("COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"),
    "MaxItems": expr_or(integer(0, 100_000_000)), "MaxItemsPath": reference_path,
    "ManifestType": enum("ATHENA_DATA", "S3_INVENTORY"),
    "Transformation": enum("NONE", "LOAD_AND_FLATTEN"),
})
ITEM_READER = Spec({
    "Resource": service_resource("s3:getObject", "s3:listObjectsV2"), "Parameters": template,
    "Arguments": object_template, "ReaderConfig": obj(READER_CONFIG),
}, required=("Resource",))
ITEM_BATCHER = Spec({
    "MaxItemsPerBatch": expr_or(integer(1, None)), "MaxItemsPerBatchPath": reference_path,
    "MaxInputBytesPerBatch": expr_or(integer(1, 262_144)),
    "MaxInputBytesPerBatchPath": reference_path, "BatchInput": object_template,
})
RESULT_WRITER = Spec({
    "Resource": service_resource("s3:putObject"), "Parameters": template,
    "Arguments": object_template,
    "WriterConfig": obj(Spec({"OutputType": enum("JSON", "JSONL"),
                              "Transformation": enum("NONE", "COMPACT", "FLATTEN")})),
})

_COMMON = {"Type": any_json, "Comment": string, "QueryLanguage": enum("JSONPath", "JSONata")}
_FLOW = {"Next": string, "End": boolean}
_IO = {"InputPath": path_or_null, "OutputPath": path_or_null, "Output": payload}
_RESULT = {"ResultPath": result_path, "ResultSelector": object_template, "Assign": assign}
_TASKLIKE = {**_COMMON, **_FLOW, **_IO, **_RESULT, "Retry": handlers(RETRIER, "Retrier"),
             "Catch": handlers(CATCHER, "Catcher")}

STATES: dict[str, Spec] = {
    "Pass": Spec({**_COMMON, **_FLOW, **_IO, "Parameters": template, "Result": any_json,
                  "ResultPath": result_path, "Assign": assign}),
    "Task": Spec({
        **_TASKLIKE, "Resource": resource, "Parameters": template, "Arguments": object_template,
        "TimeoutSeconds": expr_or(integer(1)), "TimeoutSecondsPath": reference_path,
        "HeartbeatSeconds": expr_or(integer(1)), "HeartbeatSecondsPath": reference_path,
        "Credentials": credentials,
    }, required=("Resource",)),
    "Choice": Spec({**_COMMON, **_IO, "Choices": choices, "Default": string, "Assign": assign},
                   required=("Choices",)),
    "Wait": Spec({**_COMMON, **_FLOW, **_IO, "Seconds": expr_or(integer(0)),
                  "Timestamp": expr_or(timestamp), "SecondsPath": reference_path,
                  "TimestampPath": reference_path, "Assign": assign}),
    "Succeed": Spec({**_COMMON, **_IO}),
    "Fail": Spec({**_COMMON, "Error": expr_or(string), "Cause": expr_or(string),
                  "ErrorPath": path_or_intrinsic, "CausePath": path_or_intrinsic}),
    "Parallel": Spec({**_TASKLIKE, "Branches": array_of(any_json, 1), "Parameters": template,
                      "Arguments": object_template}, required=("Branches",)),
    "Map": Spec({
        **_TASKLIKE, "ItemProcessor": any_json, "Iterator": any_json,
        "ItemsPath": reference_path, "Items": expr_or(items),
        "ItemSelector": object_template, "Parameters": object_template,
        "ItemReader": obj(ITEM_READER), "ItemBatcher": obj(ITEM_BATCHER),
        "ResultWriter": obj(RESULT_WRITER), "Label": label,
        "MaxConcurrency": expr_or(integer(0, None)), "MaxConcurrencyPath": reference_path,
        "ToleratedFailurePercentage": expr_or(number(0, 100)),
        "ToleratedFailurePercentagePath": reference_path,
        "ToleratedFailureCount": expr_or(integer(0, None)),
        "ToleratedFailureCountPath": reference_path,
    }),
}


# ---------------------------------------------------------------- rules


def next_or_end(rep: Report, state: dict, at: Where) -> None:
    """Every state but Choice, Succeed and Fail has exactly one of Next and End: true."""
    if "Next" in state and state.get("End") is True:
        rep.error("The fields 'Next' and 'End' are mutually exclusive", at.loc)
    elif "Next" not in state and "End" not in state:
        rep.error("The field 'Next' or 'End' is required but was missing", at.loc)


def wait_duration(rep: Report, state: dict, at: Where) -> None:
    """A Wait state has exactly one of Seconds, Timestamp, SecondsPath, TimestampPath."""
    given = [f for f in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if f in state]
    if len(given) != 1:
        rep.error("A Wait state must contain exactly one of the fields 'Seconds', 'Timestamp', "
                  "'SecondsPath' or 'TimestampPath'", at.loc)


def task_timeouts(rep: Report, state: dict, at: Where) -> None:
    """TimeoutSeconds/HeartbeatSeconds or their *Path, and heartbeat below timeout."""
    exclusive(rep, state, at, "TimeoutSeconds", "TimeoutSecondsPath")
    exclusive(rep, state, at, "HeartbeatSeconds", "HeartbeatSecondsPath")
    timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
    if _is_int(timeout) and _is_int(heartbeat) and heartbeat >= timeout:
        rep.error("The value for the field 'HeartbeatSeconds' must be smaller than the value "
                  "for the field 'TimeoutSeconds'", at.key("HeartbeatSeconds").loc)


def express_integrations(rep: Report, state: dict, at: Where) -> None:
    """Express state machines cannot wait: no .sync and no .waitForTaskToken integrations."""
    value = state.get("Resource")
    if rep.machine_type != "EXPRESS" or not isinstance(value, str):
        return
    if re.search(r"\.sync(:\d+)?$", value):
        rep.error("Express state machine does not support '.sync' service integration",
                  at.key("Resource").loc)
    elif value.endswith(".waitForTaskToken"):  # AWS's message ends with a space
        rep.error("Express state machine does not support '.waitForTaskToken' service "
                  "integration ", at.key("Resource").loc)


def fail_fields(rep: Report, state: dict, at: Where) -> None:
    """Error/ErrorPath and Cause/CausePath exclude each other; warn on literal paths."""
    exclusive(rep, state, at, "Error", "ErrorPath")
    exclusive(rep, state, at, "Cause", "CausePath")
    for name in ("Error", "Cause"):
        if not at.jsonata and looks_like_path(state.get(name)):
            rep.warn("NO_PATH", f"The value for the field '{name}' looks like a path, but the "
                     f"field name does not end with 'Path'", at.key(name).loc)


def pass_result(rep: Report, state: dict, at: Where) -> None:
    """A Pass state's Result is static: a ``.$`` key in it is not evaluated."""
    result = state.get("Result")
    if isinstance(result, dict) and any(k.endswith(".$") for k in result):
        rep.warn("PASS_RESULT_IS_STATIC", "Attempt to use a path in the result of a pass state.",
                 at.key("Result").loc)


def map_fields(rep: Report, state: dict, at: Where) -> None:
    """A Map has one item processor, one item selector, and each limit given one way."""
    if "ItemProcessor" not in state and "Iterator" not in state:
        rep.error("The field 'ItemProcessor' is required but was missing", at.loc)
    for first, second in (("ItemProcessor", "Iterator"), ("ItemSelector", "Parameters"),
                          ("MaxConcurrency", "MaxConcurrencyPath"),
                          ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
                          ("ToleratedFailureCount", "ToleratedFailureCountPath")):
        exclusive(rep, state, at, first, second)
    reader = state.get("ItemReader")
    config = reader.get("ReaderConfig") if isinstance(reader, dict) else None
    if isinstance(config, dict):
        exclusive(rep, config, at.key("ItemReader").key("ReaderConfig"), "MaxItems", "MaxItemsPath")
    batcher = state.get("ItemBatcher")
    for first in ("MaxItemsPerBatch", "MaxInputBytesPerBatch") if isinstance(batcher, dict) else ():
        exclusive(rep, batcher, at.key("ItemBatcher"), first, first + "Path")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


RULES: dict[str, tuple[Rule, ...]] = {
    "Pass": (next_or_end, pass_result),
    "Task": (next_or_end, task_timeouts, express_integrations),
    "Wait": (next_or_end, wait_duration),
    "Fail": (fail_fields,),
    "Parallel": (next_or_end,),
    "Map": (next_or_end, map_fields),
}


def validate_state(rep: Report, state: Any, at: Where) -> None:
    """Check one state's fields and rules; ``at.jsonata`` is the machine's query language."""
    if not isinstance(state, dict):
        rep.error("Expected value of type [OBJECT]", at.loc)
        return
    kind = state.get("Type")
    spec = STATES.get(kind) if isinstance(kind, str) else None
    if spec is None:
        _bad_type(rep, state, at)
        return
    at, downgraded = _query_language(rep, state, at)
    check_object(rep, state, at, spec, language=not downgraded)
    for rule in RULES.get(kind, ()):
        rule(rep, state, at)


def _query_language(rep: Report, state: dict, at: Where) -> tuple[Where, bool]:
    """The state's language: its own (anything but exactly "JSONPath" is JSONata) or the
    machine's. A JSONata machine's state may not declare JSONPath; AWS then names none of the
    refused language's fields."""
    downgraded = at.jsonata and state.get("QueryLanguage") == "JSONPath"
    if downgraded:
        rep.error("'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
                  "machine", at.loc)
    if "QueryLanguage" in state:
        at = replace(at, jsonata=state["QueryLanguage"] != "JSONPath")
    return at, downgraded


def _bad_type(rep: Report, state: dict, at: Where) -> None:
    if "Type" not in state:
        rep.error("The field 'Type' is required but was missing", at.loc)
    else:
        rep.error(f"Value should be one of the following: [{', '.join(STATE_TYPES)}]",
                  at.key("Type").loc)

"""Definition validation (stepflow.asl.validate) against AWS's codes, words and locations."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepflow.asl.validate import load_definition, validate_definition, validate_or_raise
from stepflow.asl.validate_fields import is_timestamp
from stepflow.errors import DefinitionError, Diagnostic

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:f"
SCHEMA = "SCHEMA_VALIDATION_FAILED"


def machine(*, query_language: str | None = None, **states: dict) -> dict:
    """A definition starting at the first state given."""
    definition = {"StartAt": next(iter(states)), "States": states}
    if query_language:
        definition["QueryLanguage"] = query_language
    return definition


def found(definition: Any, **kwargs: Any) -> list[tuple[str, str, str]]:
    """(code, message, location) of every diagnostic."""
    return [(d.code, d.message, d.location) for d in validate_definition(definition, **kwargs)]


PASS_END = {"Type": "Pass", "End": True}

# ------------------------------------------------------------------ valid golden definitions

VALID = {
    "pass chain": machine(A={"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r",
                             "Next": "B"}, B={"Type": "Succeed"}),
    "task with retry and catch": machine(
        T={"Type": "Task", "Resource": LAMBDA, "TimeoutSeconds": 10, "HeartbeatSeconds": 5,
           "Parameters": {"a.$": "$.a", "ctx.$": "$$.Execution.Id", "v.$": "$myVar",
                          "f.$": "States.Format('x {}', $.a)", "lit": "plain"},
           "ResultSelector": {"p.$": "$.Payload"},
           "Retry": [{"ErrorEquals": ["Custom"], "IntervalSeconds": 1, "MaxAttempts": 0,
                      "BackoffRate": 1.0, "MaxDelaySeconds": 5, "JitterStrategy": "FULL"},
                     {"ErrorEquals": ["States.ALL"]}],
           "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "F"}],
           "End": True},
        F={"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "States.Format('{}', $.c)"}),
    "choice with nested rules": machine(
        C={"Type": "Choice", "Default": "D", "Choices": [
            {"Variable": "$.n", "NumericGreaterThanEquals": 3, "Next": "D"},
            {"And": [{"Variable": "$.s", "StringMatches": "a*"},
                     {"Not": {"Variable": "$.t", "TimestampLessThan": "2016-03-14T01:59:00Z"}}],
             "Assign": {"picked": "and"}, "Next": "D"},
            {"Variable": "$.b", "BooleanEqualsPath": "$.other", "Next": "D"}]},
        D={"Type": "Succeed"}),
    "wait variants": machine(
        W1={"Type": "Wait", "Seconds": 0, "Next": "W2"},
        W2={"Type": "Wait", "Timestamp": "2016-03-14T01:59:00.123+01:00", "Next": "W3"},
        W3={"Type": "Wait", "SecondsPath": "$.s", "Next": "W4"},
        W4={"Type": "Wait", "TimestampPath": "$$.Execution.Input.t", "End": True}),
    "parallel": machine(P={"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "B1", "States": {"B1": PASS_END}},
        {"StartAt": "B2", "States": {"B2": {"Type": "Succeed"}}}]}),
    "inline map": machine(M={
        "Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value"},
        "MaxConcurrency": 0, "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                          "States": {"I": PASS_END}}}),
    "distributed map": machine(M={
        "Type": "Map", "Label": "my-label_1", "End": True, "ToleratedFailurePercentage": 5,
        "ToleratedFailureCountPath": "$.count", "MaxConcurrencyPath": "$.c",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW",
                                        "MaxItems": 10},
                       "Parameters": {"Bucket": "b", "Key": "k"}},
        "ItemBatcher": {"MaxItemsPerBatch": 10, "BatchInput": {"x": 1}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "b", "Prefix": "p"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "I", "States": {"I": PASS_END}}}),
    "jsonata machine": machine(
        query_language="JSONata",
        T={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
           "Arguments": {"FunctionName": LAMBDA, "Payload": "{% $states.input %}"},
           "TimeoutSeconds": "{% $timeout %}", "Output": "{% $states.result.Payload %}",
           "Assign": {"count": "{% $count($states.result.Payload) %}", "lit": " {% x %} "},
           "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}",
                      "Next": "C"}],
           "Next": "C"},
        C={"Type": "Choice", "Choices": [{"Condition": "{% $count > 1 %}", "Next": "M"}],
           "Default": "M"},
        M={"Type": "Map", "Items": "{% $states.input.list %}", "MaxConcurrency": "{% 2 %}",
           "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}}, "Next": "W"},
        W={"Type": "Wait", "Seconds": "{% $states.input.delay %}", "Next": "F"},
        F={"Type": "Fail", "Error": "Oops", "Cause": "{% 'because ' & $states.input.why %}"}),
    "jsonata state in a jsonpath machine": machine(
        A={"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"x": "{% 1 + 1 %}"},
           "End": True}),
    "task credentials": machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                   "Credentials": {"RoleArn.$": "$.role"}}),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_definitions_have_no_diagnostic(name: str) -> None:
    assert found(VALID[name], severity="WARNING") == []


# ------------------------------------------------------------------ invalid: one problem each

ONE_PROBLEM = [
    # (description, definition, (code, message, location))
    ("missing field", machine(T={"Type": "Task", "End": True}),
     (SCHEMA, "The field 'Resource' is required but was missing", "/States/T")),
    ("unsupported field", machine(P={"Type": "Pass", "End": True, "TimeoutSeconds": 3}),
     (SCHEMA, "Field 'TimeoutSeconds' is not supported", "/States/P")),
    ("catch on pass", machine(P={**PASS_END, "Catch": []}),
     (SCHEMA, "Field 'Catch' is not supported", "/States/P")),
    ("unknown type", machine(X={"Type": "Sleep", "End": True}),
     (SCHEMA, "Value should be one of the following: "
      "[Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map]", "/States/X/Type")),
    ("wrong type", machine(P={**PASS_END, "Comment": 5}),
     (SCHEMA, "Expected value of type [STRING]", "/States/P/Comment")),
    ("next and end", machine(P={"Type": "Pass", "End": True, "Next": "P"}),
     (SCHEMA, "The fields 'Next' and 'End' are mutually exclusive", "/States/P")),
    ("credentials without role", machine(
        T={"Type": "Task", "Resource": LAMBDA, "Credentials": {}, "End": True}),
     (SCHEMA, "The field 'RoleArn' is required but was missing", "/States/T/Credentials")),
    ("timestamp without T", machine(W={"Type": "Wait", "Timestamp": "2016-12-05 21:29:29Z",
                                       "End": True}),
     (SCHEMA, "String does not match RFC3339 timestamp", "/States/W/Timestamp")),
    ("two wait durations", machine(W={"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s",
                                      "End": True}),
     (SCHEMA, "A Wait state must contain exactly one of the fields 'Seconds', 'Timestamp', "
      "'SecondsPath' or 'TimestampPath'", "/States/W")),
    ("negative seconds", machine(W={"Type": "Wait", "Seconds": -1, "End": True}),
     (SCHEMA, "Value should be greater than or equal to 0", "/States/W/Seconds")),
    ("bad template path", machine(P={**PASS_END, "Parameters": {"in": {"x.$": "nope"}}}),
     (SCHEMA, "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic "
      "function call", "/States/P/Parameters/in")),
    ("illegal intrinsic escape", machine(P={**PASS_END, "Parameters": {
        "parsed.$": "States.StringToJson('{\"a\":\"\\\"q\\\"\"}')"}}),
     (SCHEMA, "The value for the field 'parsed.$' must be a valid JSONPath or a valid "
      "intrinsic function call", "/States/P/Parameters")),
    ("unknown intrinsic", machine(P={**PASS_END, "Parameters": {"x.$": "States.Nope(1)"}}),
     (SCHEMA, "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic "
      "function call", "/States/P/Parameters")),
    ("result path with wildcard", machine(P={**PASS_END, "ResultPath": "$.a[*]"}),
     (SCHEMA, "The value for the field 'ResultPath' must be a valid ReferencePath",
      "/States/P/ResultPath")),
    ("states.all not alone", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                        "Retry": [{"ErrorEquals": ["States.ALL", "X"]}]}),
     (SCHEMA, "The value 'States.ALL' must appear alone in the field 'ErrorEquals'",
      "/States/T/Retry[0]/ErrorEquals")),
    ("states.all not last", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                       "Retry": [{"ErrorEquals": ["States.ALL"]},
                                                 {"ErrorEquals": ["X"]}]}),
     (SCHEMA, "A Retrier matching 'States.ALL' must be the last one in 'Retry'",
      "/States/T/Retry[0]")),
    ("empty error equals", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                      "Retry": [{"ErrorEquals": []}]}),
     (SCHEMA, "The field 'ErrorEquals' should have at least 1 item(s)",
      "/States/T/Retry[0]/ErrorEquals")),
    ("interval zero", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                 "Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 0}]}),
     (SCHEMA, "Value should be greater than or equal to 1",
      "/States/T/Retry[0]/IntervalSeconds")),
    ("backoff below one", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                     "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}),
     (SCHEMA, "Value should be greater than or equal to 1.0", "/States/T/Retry[0]/BackoffRate")),
    ("jitter", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                          "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]}),
     (SCHEMA, "Value should be one of the following: [FULL, NONE]",
      "/States/T/Retry[0]/JitterStrategy")),
    ("max attempts float", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                      "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 1.5}]}),
     (SCHEMA, "Expected value of type [INTEGER]", "/States/T/Retry[0]/MaxAttempts")),
    ("heartbeat not below timeout", machine(T={"Type": "Task", "Resource": LAMBDA, "End": True,
                                               "TimeoutSeconds": 5, "HeartbeatSeconds": 5}),
     (SCHEMA, "The value for the field 'HeartbeatSeconds' must be smaller than the value for "
      "the field 'TimeoutSeconds'", "/States/T/HeartbeatSeconds")),
    ("resource not an arn", machine(T={"Type": "Task", "Resource": "myFunction", "End": True}),
     ("INVALID_RESOURCE", "The resource provided myFunction is not recognized. The value is not "
      "a valid resource ARN, or the resource is not available in this region.",
      "/States/T/Resource")),
    ("fail error and errorpath", machine(F={"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}),
     (SCHEMA, "The fields 'Error' and 'ErrorPath' are mutually exclusive", "/States/F/Error")),
    ("empty choices", machine(C={"Type": "Choice", "Choices": [], "Default": "D"},
                              D={"Type": "Succeed"}),
     (SCHEMA, "The field 'Choices' should have at least 1 item(s)", "/States/C/Choices")),
    ("choice rule without next", machine(
        C={"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True}], "Default": "D"},
        D={"Type": "Succeed"}),
     (SCHEMA, "The field 'Next' is required but was missing", "/States/C/Choices[0]")),
    ("choice rule without operator", machine(
        C={"Type": "Choice", "Choices": [{"Variable": "$.a", "Next": "D"}]},
        D={"Type": "Succeed"}),
     (SCHEMA, "A Choice Rule must contain exactly one comparison operator, or one of 'And', "
      "'Or', 'Not'", "/States/C/Choices[0]")),
    ("nested rule with next", machine(
        C={"Type": "Choice", "Choices": [{"Not": {"Variable": "$.a", "IsNull": True,
                                                  "Next": "D"}, "Next": "D"}]},
        D={"Type": "Succeed"}),
     (SCHEMA, "Field 'Next' is not supported", "/States/C/Choices[0]/Not")),
    ("operator value type", machine(
        C={"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": "1", "Next": "D"}]},
        D={"Type": "Succeed"}),
     (SCHEMA, "Expected value of type [NUMBER]", "/States/C/Choices[0]/NumericEquals")),
    ("map without processor", machine(M={"Type": "Map", "End": True}),
     (SCHEMA, "The field 'ItemProcessor' is required but was missing", "/States/M")),
    ("map concurrency twice", machine(M={
        "Type": "Map", "End": True, "MaxConcurrency": 1, "MaxConcurrencyPath": "$.c",
        "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}}}),
     (SCHEMA, "The fields 'MaxConcurrency' and 'MaxConcurrencyPath' are mutually exclusive",
      "/States/M/MaxConcurrency")),
    ("tolerated percentage above 100", machine(M={
        "Type": "Map", "End": True, "ToleratedFailurePercentage": 101,
        "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}}}),
     (SCHEMA, "Value should be less than or equal to 100", "/States/M/ToleratedFailurePercentage")),
    ("label with a colon", machine(M={
        "Type": "Map", "End": True, "Label": "a:b",
        "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}}}),
     ("INVALID_LABEL_NAME", "Label contains invalid character: ':'", "/States/M/Label")),
    ("reader input type", machine(M={
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}},
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "XML"}}}),
     (SCHEMA, "Value should be one of the following: [CSV, JSON, JSONL, MANIFEST, PARQUET]",
      "/States/M/ItemReader/ReaderConfig/InputType")),
    ("processor with query language", machine(M={
        "Type": "Map", "End": True,
        "ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "I", "States": {"I": PASS_END}}}),
     (SCHEMA, "Field 'QueryLanguage' is not supported", "/States/M/ItemProcessor")),
    ("bad variable name", machine(P={**PASS_END, "Assign": {"1x": 1}}),
     (SCHEMA, "The variable name '1x' is not a valid variable name", "/States/P/Assign/1x")),
    ("query language value", machine(P={**PASS_END, "QueryLanguage": "XPath"}),
     (SCHEMA, "Value should be one of the following: [JSONPath, JSONata]",
      "/States/P/QueryLanguage")),
]


@pytest.mark.parametrize("definition, expected",
                         [pytest.param(d, e, id=n) for n, d, e in ONE_PROBLEM])
def test_each_rule_reports_aws_code_message_and_location(definition: dict, expected: tuple) -> None:
    assert found(definition) == [expected]


# ------------------------------------------------------------------ query languages


def test_jsonpath_field_in_a_jsonata_state_is_refused_at_the_state() -> None:
    definition = machine(query_language="JSONata", P={**PASS_END, "InputPath": "$.a"})
    assert found(definition) == [(SCHEMA, "The QueryLanguage is set to 'JSONata', but field "
                                  "'InputPath' is only supported for the 'JSONPath' QueryLanguage",
                                  "/States/P")]


def test_jsonata_field_in_a_jsonpath_state_is_refused() -> None:
    definition = machine(P={**PASS_END, "Output": {}})
    assert found(definition) == [(SCHEMA, "The QueryLanguage is set to 'JSONPath', but field "
                                  "'Output' is only supported for the 'JSONata' QueryLanguage",
                                  "/States/P")]


def test_a_state_cannot_downgrade_a_jsonata_machine_to_jsonpath() -> None:
    definition = machine(query_language="JSONata",
                         P={**PASS_END, "QueryLanguage": "JSONPath", "InputPath": "$"})
    assert found(definition) == [(SCHEMA, "'QueryLanguage' can not be 'JSONPath' if set to "
                                  "'JSONata' for whole state machine", "/States/P")]


def test_nested_states_inherit_the_machine_language_not_the_maps() -> None:
    inner = {"Type": "Pass", "Output": {}, "End": True}
    definition = machine(M={"Type": "Map", "QueryLanguage": "JSONata", "End": True,
                            "ItemProcessor": {"StartAt": "I", "States": {"I": inner}}})
    assert [d[2] for d in found(definition)] == ["/States/M/ItemProcessor/States/I"]


@pytest.mark.parametrize("expression, code, message", [
    ("a[1,2)", "INVALID_JSONATA_EXPRESSION", 'Expected "]", got ","'),
    ("1 +", "INVALID_JSONATA_EXPRESSION", "Unexpected end of expression"),
    ('{"a":}', "INVALID_JSONATA_EXPRESSION", 'The symbol "}" cannot be used as a unary operator'),
    ("phone", "UNSUPPORTED_JSONATA_EXPRESSION",
     "Reference to 'phone' at the top level is not supported."),
    ("$count(items)", "UNSUPPORTED_JSONATA_EXPRESSION",
     "Reference to 'items' at the top level is not supported."),
    ("$$.Execution", "UNSUPPORTED_JSONATA_EXPRESSION", "Reference to '$$' is not supported."),
    ("$states.errorOutput", "UNSUPPORTED_JSONATA_EXPRESSION",
     "Field '$states.errorOutput' does not exist."),
])
def test_jsonata_expressions_are_parsed_and_scoped(expression: str, code: str,
                                                   message: str) -> None:
    definition = machine(query_language="JSONata",
                         P={**PASS_END, "Output": {"v": [0, "{% " + expression + " %}"]}})
    assert found(definition) == [(code, message, "/States/P/Output/v[1]")]


@pytest.mark.parametrize("expression", [
    "$states.input.items[price > 1].name", "$map($states.input, function($v){ $v.k })",
    "($x := $states.input.a; $x)", '{"k": $states.input}', "$sum([1, 2])"])
def test_jsonata_reading_states_variables_and_relative_names_is_fine(expression: str) -> None:
    definition = machine(query_language="JSONata",
                         P={**PASS_END, "Output": "{% " + expression + " %}"})
    assert found(definition) == []


def test_only_whole_string_jsonata_is_an_expression() -> None:
    definition = machine(query_language="JSONata", P={**PASS_END, "Output": " {% 1 + %} "})
    assert found(definition) == []


# ------------------------------------------------------------------ the transition graph


def test_every_dangling_target_is_reported_with_the_word_next() -> None:
    definition = machine(
        T={"Type": "Task", "Resource": LAMBDA, "Next": "C",
           "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone1"}]},
        C={"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "Gone2"}],
           "Default": "Gone3"})
    assert found(definition) == [
        ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Gone1", "/States/T/Catch[0]/Next"),
        ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Gone3", "/States/C/Default"),
        ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Gone2", "/States/C/Choices[0]/Next"),
        ("MISSING_END_STATE", "Workflow has no terminal state", ""),
    ]


def test_start_at_must_name_a_state() -> None:
    assert found({"StartAt": "Nope", "States": {"A": PASS_END}}) == [
        ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Nope", "/StartAt"),
        ("MISSING_TRANSITION_TARGET", 'State "A" is not reachable.', "/States/A"),
    ]


def test_no_terminal_state_suppresses_unreachable_states() -> None:
    loop = machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"},
                   Orphan={"Type": "Pass", "Next": "A"})
    assert found(loop) == [("MISSING_END_STATE", "Workflow has no terminal state", "")]


def test_an_unreachable_terminal_state_is_reported() -> None:
    loop = machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"},
                   C={"Type": "Succeed"})
    assert found(loop) == [
        ("MISSING_TRANSITION_TARGET", 'State "C" is not reachable.', "/States/C")]


def test_transitions_do_not_leave_their_branch() -> None:
    definition = machine(P={"Type": "Parallel", "Next": "Done", "Branches": [
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "Done"}}}]},
        Done={"Type": "Succeed"})
    assert found(definition) == [("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Done",
                                  "/States/P/Branches[0]/States/B/Next")]


def test_state_names_are_unique_across_nested_scopes() -> None:
    definition = machine(A={"Type": "Map", "End": True, "ItemProcessor": {
        "StartAt": "A", "States": {"A": PASS_END}}})
    assert found(definition) == [("DUPLICATE_STATE_NAME", "Duplicate State name: A",
                                  "/States/A/ItemProcessor/States/A")]


def test_every_problem_is_reported_not_just_the_first() -> None:
    definition = machine(A={"Type": "Pass", "Next": "B", "Bogus": 1},
                         B={"Type": "Wait", "Seconds": -5, "Next": "Nowhere"})
    assert [d[0] for d in found(definition)] == [SCHEMA, SCHEMA, "MISSING_TRANSITION_TARGET",
                                                 "MISSING_END_STATE"]


# ------------------------------------------------------------------ machine type, severity


@pytest.mark.parametrize("resource, message", [
    ("arn:aws:states:::states:startExecution.sync",
     "Express state machine does not support '.sync' service integration"),
    ("arn:aws:states:::states:startExecution.sync:2",
     "Express state machine does not support '.sync' service integration"),
    ("arn:aws:states:::sns:publish.waitForTaskToken",
     "Express state machine does not support '.waitForTaskToken' service integration "),
])
def test_express_machines_refuse_waiting_integrations(resource: str, message: str) -> None:
    definition = machine(T={"Type": "Task", "Resource": resource, "End": True})
    assert found(definition) == []
    assert found(definition, state_machine_type="EXPRESS") == [
        (SCHEMA, message, "/States/T/Resource")]


def test_warnings_only_on_request_and_never_raise() -> None:
    definition = machine(P={**PASS_END, "Parameters": {"a": "$.x"}, "Result": {"b.$": "$.y"}})
    assert found(definition) == []
    assert [d.code for d in validate_definition(definition, severity="WARNING")] == [
        "NO_DOLLAR", "PASS_RESULT_IS_STATIC"]
    assert {d.severity for d in validate_definition(definition, severity="WARNING")} == {"WARNING"}
    validate_or_raise(definition)


def test_validate_or_raise_carries_every_error() -> None:
    definition = machine(T={"Type": "Task", "End": True, "Bogus": 1})
    with pytest.raises(DefinitionError) as raised:
        validate_or_raise(definition)
    assert [d.message for d in raised.value.diagnostics] == [
        "Field 'Bogus' is not supported", "The field 'Resource' is required but was missing"]
    rendered = str(raised.value)
    assert "SCHEMA_VALIDATION_FAILED: Field 'Bogus' is not supported at /States/T" in rendered


# ------------------------------------------------------------------ load_definition


def test_load_definition_parses_an_object() -> None:
    assert load_definition(json.dumps(VALID["parallel"])) == VALID["parallel"]


@pytest.mark.parametrize("text, code", [
    ('{"StartAt": }', "INVALID_JSON_DESCRIPTION"), ("[1, 2]", "INVALID_JSON_DESCRIPTION"),
    ('{"a": 1', "INVALID_JSON_DESCRIPTION"), ("", "MISSING_DESCRIPTION"),
    ("null", "MISSING_DESCRIPTION")])
def test_load_definition_rejects_what_is_not_a_json_object(text: str, code: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        load_definition(text)
    [diagnostic] = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.location) == (code, "")


def test_json_error_names_the_offending_character() -> None:
    with pytest.raises(DefinitionError) as raised:
        load_definition('{"StartAt": }')
    assert raised.value.diagnostics[0].message.startswith("Unexpected character ('}' (code 125))")


# ------------------------------------------------------------------ properties

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(["Type", "Next", "End", "States", "x.$",
                                                        "StartAt", "Choices", "Branches"]),
                                       inner, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_validation_never_crashes_on_arbitrary_json(value: Any) -> None:
    result = validate_definition({"StartAt": "A", "States": {"A": value}}, severity="WARNING")
    assert all(isinstance(d, Diagnostic) for d in result)


@given(st.datetimes(timezones=st.just(None)), st.sampled_from(["Z", "+05:30", "-00:00"]))
def test_rfc3339_timestamps_are_accepted(moment, zone: str) -> None:
    text = moment.isoformat(timespec="milliseconds")
    assert is_timestamp(text + zone)
    assert not is_timestamp(text.replace("T", " ") + zone)
    assert not is_timestamp(text.replace("T", "t") + zone)
    assert not is_timestamp(text)


@pytest.mark.parametrize("text", ["2016-12-05T25:29:29Z", "2016-02-30T00:00:00Z",
                                  "05-12-2016T21:29:29Z", "2016-12-05T21:29:29+24:00"])
def test_impossible_timestamps_are_refused(text: str) -> None:
    assert not is_timestamp(text)


_LABEL_SAFE = st.text(st.sampled_from("abcXYZ019-_.!+=@()'"), min_size=1, max_size=40)


@given(_LABEL_SAFE, st.sampled_from(list(" <>{}[]?*\"#%\\^|~`$&,;:/\n\t\x00\x1f\x7f\x9f")))
def test_labels_accept_safe_characters_and_refuse_forbidden_ones(label: str, bad: str) -> None:
    def label_codes(text: str) -> list[str]:
        state = {"Type": "Map", "End": True, "Label": text,
                 "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}}}
        return [d[0] for d in found(machine(M=state))]
    assert label_codes(label) == []
    assert label_codes(label[:20] + bad + label[20:]) == ["INVALID_LABEL_NAME"]


# ------------------------------------------------------------------ the AWS-recorded corpus


def _with_arns(raw: str) -> str:
    """Replace the corpus' ``${...}`` tokens with plausible ARNs."""
    raw = re.sub(r"\$\{LAMBDA_ARN:([^}]*)\}", LAMBDA[:-1] + r"\1", raw)
    raw = re.sub(r"\$\{STATE_MACHINE_ARN:([^}]*)\}",
                 r"arn:aws:states:us-east-1:123456789012:stateMachine:\1", raw)
    return re.sub(r"\$\{[^}]*\}", "arn:aws:iam::123456789012:role/r", raw)


def _create_message(diagnostics: list[Diagnostic]) -> str:
    body = ", ".join(f"{d.code}: {d.message} at {d.location}" for d in diagnostics)
    return f"Invalid State Machine Definition: '{body}'"


def test_aws_recorded_definitions_validate_as_aws_did(aws_cases: list[dict]) -> None:
    mismatches = []
    for case in aws_cases:
        if case["execution_kind"] == "start_error":
            continue
        diagnostics = validate_definition(load_definition(_with_arns(case["definition_raw"])),
                                          state_machine_type=case["state_machine_type"])
        if case["execution_kind"] != "create_error":
            ok = diagnostics == []
        else:
            expected = case["expected"]["api_error"]
            ok = bool(diagnostics) and expected["code"] == "InvalidDefinition" and (
                not expected["message"].startswith("Invalid State Machine Definition")
                or _create_message(diagnostics) == expected["message"])
        if not ok:
            mismatches.append((case["id"], diagnostics))
    assert mismatches == []


def test_corpus_mutation_is_caught(aws_cases: list[dict]) -> None:
    """The corpus check can fail: a valid recorded definition with a broken Next is refused."""
    definitions = (load_definition(c["definition_raw"]) for c in aws_cases
                   if c["execution_kind"] == "standard" and "${" not in c["definition_raw"])
    definition = copy.deepcopy(next(d for d in definitions
                                    if any("Next" in s for s in d["States"].values())))
    state = next(s for s in definition["States"].values() if "Next" in s)
    state["Next"] = "NoSuchState"
    assert "MISSING_TRANSITION_TARGET" in [d.code for d in validate_definition(definition)]

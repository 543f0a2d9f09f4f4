"""Choice (JSONPath rules and JSONata Condition), Wait, Succeed and Fail."""

from __future__ import annotations

import pytest
from engine_helpers import START, details, events_of, machine, single, types

import stepflow
from stepflow import FakeClock

# -- Choice --------------------------------------------------------------------------------------


def choice_machine(choices: list[dict], default: str | None = "Low", **extra) -> dict:
    state = {"Type": "Choice", "Choices": choices, **extra}
    if default is not None:
        state["Default"] = default
    targets = [
        ("High", {"Type": "Pass", "Result": "high", "End": True}),
        ("Low", {"Type": "Pass", "Result": "low", "End": True}),
    ]
    return machine(("Pick", state), *targets)


NUMERIC = [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "High"}]


@pytest.mark.parametrize("n, expected", [(11, "high"), (10, "low"), (-3, "low")])
def test_jsonpath_choice_rule_and_default(n, expected):
    assert stepflow.run(choice_machine(NUMERIC), {"n": n}).output == expected


def test_boolean_combinations():
    rule = {
        "And": [
            {"Variable": "$.kind", "StringEquals": "order"},
            {"Or": [{"Variable": "$.total", "NumericGreaterThanEquals": 100}, {"Variable": "$.vip", "BooleanEquals": True}]},
            {"Not": {"Variable": "$.blocked", "IsPresent": True}},
        ],
        "Next": "High",
    }
    definition = choice_machine([rule])
    assert stepflow.run(definition, {"kind": "order", "total": 150}).output == "high"
    assert stepflow.run(definition, {"kind": "order", "total": 5, "vip": True}).output == "high"
    assert stepflow.run(definition, {"kind": "order", "total": 5, "vip": False}).output == "low"
    assert stepflow.run(definition, {"kind": "order", "total": 150, "blocked": 1}).output == "low"


def test_rules_are_tried_in_order():
    choices = [
        {"Variable": "$.s", "StringMatches": "a*", "Next": "High"},
        {"Variable": "$.s", "StringMatches": "ab*", "Next": "Low"},
    ]
    assert stepflow.run(choice_machine(choices, default=None), {"s": "abc"}).output == "high"


def test_choice_passes_its_input_through():
    definition = machine(
        ("Pick", {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Done"}]}),
        ("Done", {"Type": "Succeed"}),
    )
    result = stepflow.run(definition, {"go": True, "data": [1]})
    assert result.output == {"go": True, "data": [1]}
    assert types(result) == [
        "ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "SucceedStateEntered",
        "SucceedStateExited", "ExecutionSucceeded",
    ]


def test_no_choice_matched_without_default():
    choices = NUMERIC + [{"Variable": "$.n", "NumericLessThan": -100, "Next": "Low"}]
    result = stepflow.run(choice_machine(choices, default=None), {"n": 1})
    assert result.status == "FAILED"
    assert result.error == "States.NoChoiceMatched"


def test_choice_on_a_missing_variable_fails_with_runtime():
    result = stepflow.run(choice_machine([{"Variable": "$.absent", "NumericEquals": 1, "Next": "High"}]), {})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"


def test_is_present_tolerates_a_missing_variable():
    rule = [{"Variable": "$.absent", "IsPresent": False, "Next": "High"}]
    assert stepflow.run(choice_machine(rule), {}).output == "high"


@pytest.mark.parametrize("n, expected", [(5, "high"), (1, "low")])
def test_jsonata_condition(n, expected):
    choices = [{"Condition": "{% $states.input.n > 2 %}", "Next": "High"}]
    definition = choice_machine(choices, QueryLanguage="JSONata")
    assert stepflow.run(definition, {"n": n}).output == expected


def test_jsonata_choice_output_and_assign():
    definition = machine(
        ("Pick", {
            "Type": "Choice", "QueryLanguage": "JSONata",
            "Choices": [{"Condition": "{% $states.input.n = 1 %}", "Next": "Done",
                         "Output": {"picked": "{% $states.input.n %}"}, "Assign": {"path": "one"}}],
            "Default": "Done",
        }),
        ("Done", {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"out": "{% $states.input %}", "path": "{% $path %}"}, "End": True}),
    )
    assert stepflow.run(definition, {"n": 1}).output == {"out": {"picked": 1}, "path": "one"}


def test_jsonata_condition_must_be_boolean():
    choices = [{"Condition": "{% $states.input.n %}", "Next": "High"}]
    result = stepflow.run(choice_machine(choices, QueryLanguage="JSONata"), {"n": 5})
    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"


# -- Wait ----------------------------------------------------------------------------------------


def wait_machine(**wait_fields) -> dict:
    return machine(("W", {"Type": "Wait", **wait_fields, "Next": "Done"}), ("Done", {"Type": "Succeed"}))


def waited(result) -> float:
    entered = events_of(result, "WaitStateEntered")[0]["timestamp"]
    exited = events_of(result, "WaitStateExited")[0]["timestamp"]
    return exited - entered


def test_wait_seconds_moves_virtual_time():
    result = stepflow.run(wait_machine(Seconds=30), {"a": 1}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert result.output == {"a": 1}
    assert waited(result) == 30


def test_wait_seconds_path():
    result = stepflow.run(wait_machine(SecondsPath="$.delay"), {"delay": 7}, clock=FakeClock())
    assert waited(result) == 7


def test_wait_timestamp_waits_until_then():
    # START is 2023-11-14T22:13:20Z; wait until one hour later.
    result = stepflow.run(wait_machine(Timestamp="2023-11-14T23:13:20Z"), {}, clock=FakeClock())
    assert waited(result) == 3600
    assert events_of(result, "WaitStateExited")[0]["timestamp"] == START + 3600


def test_wait_timestamp_path_with_offset():
    result = stepflow.run(wait_machine(TimestampPath="$.at"), {"at": "2023-11-14T23:13:30+01:00"}, clock=FakeClock())
    assert waited(result) == 10


def test_a_timestamp_in_the_past_does_not_wait():
    result = stepflow.run(wait_machine(Timestamp="2001-01-01T00:00:00Z"), {}, clock=FakeClock())
    assert result.status == "SUCCEEDED"
    assert waited(result) == 0


def test_wait_instant_at_time_scale_zero():
    result = stepflow.run(wait_machine(Seconds=100_000), {}, time_scale=0)
    assert result.status == "SUCCEEDED"


def test_negative_seconds_path_fails_with_runtime():
    result = stepflow.run(wait_machine(SecondsPath="$.delay"), {"delay": -1}, clock=FakeClock())
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "negative" in result.cause


@pytest.mark.parametrize("value", ["soon", 1.5, True])
def test_seconds_path_must_be_an_integer(value):
    result = stepflow.run(wait_machine(SecondsPath="$.delay"), {"delay": value}, clock=FakeClock())
    assert result.error == "States.Runtime"


def test_timestamp_path_must_be_an_iso_timestamp():
    result = stepflow.run(wait_machine(TimestampPath="$.at"), {"at": "tomorrow"}, clock=FakeClock())
    assert result.error == "States.Runtime"
    assert "ISO-8601" in result.cause


def test_jsonata_wait_seconds():
    definition = wait_machine(Seconds="{% $states.input.d * 2 %}", QueryLanguage="JSONata")
    result = stepflow.run(definition, {"d": 4}, clock=FakeClock())
    assert waited(result) == 8


# -- Succeed and Fail ---------------------------------------------------------------------------


def test_succeed_applies_input_and_output_paths():
    result = stepflow.run(single({"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}), {"a": {"b": 2}})
    assert result.output == 2


def test_fail_with_error_and_cause():
    result = stepflow.run(single({"Type": "Fail", "Error": "My.Error", "Cause": "because"}), {})
    assert (result.status, result.error, result.cause, result.output) == ("FAILED", "My.Error", "because", None)
    assert types(result) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert details(result.history[-1]) == {"error": "My.Error", "cause": "because"}


def test_fail_without_error_or_cause():
    result = stepflow.run(single({"Type": "Fail"}), {})
    assert result.status == "FAILED"
    assert result.error is None and result.cause is None


def test_fail_error_path_and_cause_path():
    state = {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('bad {}', $.n)"}
    result = stepflow.run(single(state), {"e": "Dyn.Error", "n": 3})
    assert (result.error, result.cause) == ("Dyn.Error", "bad 3")


def test_fail_error_path_must_be_a_string():
    result = stepflow.run(single({"Type": "Fail", "ErrorPath": "$.e"}), {"e": 5})
    assert result.error == "States.Runtime"


def test_jsonata_fail():
    state = {"Type": "Fail", "QueryLanguage": "JSONata", "Error": "{% $states.input.kind & '.Error' %}", "Cause": "{% 'n=' & $string($states.input.n) %}"}
    result = stepflow.run(single(state), {"kind": "Input", "n": 2})
    assert (result.error, result.cause) == ("Input.Error", "n=2")

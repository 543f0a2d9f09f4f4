"""Choice Rules in JSONPath mode (stepflow.asl.choice), checked against AWS's documented and
recorded behaviour."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from stepflow.asl.choice import (
    CHOICE_OPERATORS,
    compile_choice_rule,
    invalid_path_cause,
    parse_timestamp,
)
from stepflow.asl.env import Env
from stepflow.errors import StatesError


def check(rule: dict, data: Any, **env: Any) -> bool:
    """Compile ``rule`` and evaluate it with ``data`` as ``$``."""
    return compile_choice_rule(rule)(Env(data, env.get("context"), env.get("variables", {})))


def var(operator: str, operand: Any, path: str = "$.v") -> dict:
    return {"Variable": path, operator: operand, "Next": "X"}


JSON_VALUES = [None, True, False, 0, 0.0, 1, 1.5, -3, "", " ", "1", "true", "null",
               "2012-10-09T19:00:55Z", [], [1], {}, {"a": 0}]


# ------------------------------------------------------------------ boolean family


@pytest.mark.parametrize("value", JSON_VALUES)
def test_boolean_equals_is_true_only_for_that_boolean(value):
    assert check(var("BooleanEquals", True), {"v": value}) is (value is True)
    assert check(var("BooleanEquals", False), {"v": value}) is (value is False)


@pytest.mark.parametrize("left", [True, False, 0, 1, "true", None])
@pytest.mark.parametrize("right", [True, False, 0, 1])
def test_boolean_equals_path_needs_two_booleans(left, right):
    expected = isinstance(left, bool) and isinstance(right, bool) and left is right
    assert check(var("BooleanEqualsPath", "$.w"), {"v": left, "w": right}) is expected


# ------------------------------------------------------------------ Is* family

IS_TYPE = {
    "IsNull": lambda v: v is None,
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsNumeric": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "IsString": lambda v: isinstance(v, str),
    "IsTimestamp": lambda v: v == "2012-10-09T19:00:55Z",
}


@pytest.mark.parametrize("operator", sorted(IS_TYPE))
@pytest.mark.parametrize("value", JSON_VALUES)
def test_type_tests_compare_with_their_boolean_operand(operator, value):
    is_type = IS_TYPE[operator](value)
    assert check(var(operator, True), {"v": value}) is is_type
    assert check(var(operator, False), {"v": value}) is (not is_type)


@pytest.mark.parametrize("value", JSON_VALUES)
def test_is_present_for_any_present_value_including_null(value):
    assert check(var("IsPresent", True), {"v": value}) is True
    assert check(var("IsPresent", False), {"v": value}) is False


@pytest.mark.parametrize(
    "path, data",
    [("$.v", {}), ("$.v.w", {"v": "text"}), ("$.v.w", {"v": {}}), ("$.v[2]", {"v": [0, 1]}),
     ("$.v[0]", {"v": {"0": 1}}), ("$.v", [1, 2])],
)
def test_is_present_answers_false_for_missing_paths(path, data):
    assert check(var("IsPresent", True, path), data) is False
    assert check(var("IsPresent", False, path), data) is True


# ------------------------------------------------------------------ missing paths

LITERAL_RULES = [
    ("BooleanEquals", True), ("IsNull", True), ("IsNull", False), ("IsNumeric", False),
    ("IsString", True), ("IsBoolean", False), ("IsTimestamp", True), ("NumericEquals", 1),
    ("NumericLessThan", 1), ("StringEquals", "a"), ("StringMatches", "*"),
    ("StringGreaterThan", "a"), ("TimestampEquals", "2016-03-14T01:59:00Z"),
]


@pytest.mark.parametrize("operator, operand", LITERAL_RULES)
def test_missing_variable_fails_with_aws_cause(operator, operand):
    with pytest.raises(StatesError) as raised:
        check(var(operator, operand, "$.missing"), {"v": 1})
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == (
        "Invalid path '$.missing': The choice state's condition path references an invalid value."
    )


@pytest.mark.parametrize("operator", ["NumericEqualsPath", "StringLessThanPath",
                                      "BooleanEqualsPath", "TimestampEqualsPath"])
def test_missing_comparand_path_fails_with_aws_cause(operator):
    with pytest.raises(StatesError) as raised:
        check(var(operator, "$.nope"), {"v": 1})
    assert (raised.value.error, raised.value.cause) == ("States.Runtime", invalid_path_cause("$.nope"))


def test_variable_is_resolved_before_the_comparand():
    with pytest.raises(StatesError) as raised:
        check(var("NumericEqualsPath", "$.nope", "$.gone"), {})
    assert "'$.gone'" in raised.value.cause


# ------------------------------------------------------------------ numeric family


@pytest.mark.parametrize(
    "operator, operand, value, expected",
    [
        ("NumericEquals", 0, 0.0, True), ("NumericEquals", 0.0, 0, True),
        ("NumericEquals", 1, 1.1, False), ("NumericEquals", 1, "1", False),
        ("NumericEquals", 1, True, False), ("NumericEquals", 0, False, False),
        ("NumericEquals", 0, None, False), ("NumericEquals", 0, [0], False),
        ("NumericGreaterThan", 1, 2, True), ("NumericGreaterThan", 1, 1.0, False),
        ("NumericGreaterThanEquals", 1, 1.0, True), ("NumericLessThan", 0, -0.5, True),
        ("NumericLessThan", 0, 0.0, False), ("NumericLessThanEquals", 2.5, 2.5, True),
        ("NumericLessThanEquals", 2.5, 3, False), ("NumericGreaterThan", 0, "5", False),
    ],
)
def test_numeric_comparisons(operator, operand, value, expected):
    assert check(var(operator, operand), {"v": value}) is expected


@pytest.mark.parametrize("left, right, expected", [(0, 0.0, True), (2.22, 2.22, True),
                                                    (1, True, False), ("1", 1, False)])
def test_numeric_equals_path(left, right, expected):
    assert check(var("NumericEqualsPath", "$.w"), {"v": left, "w": right}) is expected


def test_large_integers_compare_exactly():
    assert check(var("NumericGreaterThan", 2**53), {"v": 2**53 + 1}) is True


# ------------------------------------------------------------------ string family


@pytest.mark.parametrize(
    "operator, operand, value, expected",
    [
        ("StringEquals", "HelloWorld", "HelloWorld", True),
        ("StringEquals", "HelloWorld", "helloworld", False),
        ("StringEquals", "1", 1, False),
        ("StringEquals", "é", "e\u0301", False),  # no Unicode normalisation
        ("StringGreaterThan", "A ", "A", False), ("StringGreaterThan", "A", "A ", True),
        ("StringGreaterThan", "A\t\n\r", "A", False),
        ("StringLessThan", "a", "B", True),  # no case folding: "B" < "a"
        ("StringLessThanEquals", "", "", True), ("StringLessThanEquals", "AB", "A", True),
        ("StringGreaterThanEquals", "A", "AB", True), ("StringLessThan", "b", 1, False),
    ],
)
def test_string_comparisons(operator, operand, value, expected):
    assert check(var(operator, operand), {"v": value}) is expected


def test_string_order_is_utf16_code_units_as_in_java():
    # U+FF21 sorts after U+1F600 in UTF-16 (0xFF21 > 0xD83D) though before it by code point.
    assert check(var("StringGreaterThan", "\U0001F600"), {"v": "\uff21"}) is True
    assert check(var("StringLessThanPath", "$.w"), {"v": "\U0001F600", "w": "\uff21"}) is True
    assert check(var("StringLessThan", "é"), {"v": "e"}) is True


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("foo*.log", "foo23.log", True), ("*.log", "zebra.log", True),
        ("foo*.*", "foobar.zebra", True), ("foo*.log", "foo23.txt", False),
        ("*", "", True), ("a*b*c", "abc", True), ("a*b*c", "acb", False),
        ("log.?", "log.?", True), ("log.?", "log.x", False),  # only * is special
        ("[ab]", "a", False), ("a*", "a\nb", True),
        ("\\*", "*", True), ("\\*", "x", False), ("a\\\\b", "a\\b", True),
        ("\\\\*", "\\anything", True), ("x\\*y*", "x*yz", True), ("x\\*y*", "xzyz", False),
        ("abc", 3, False), ("*", None, False),
    ],
)
def test_string_matches(pattern, value, expected):
    assert check(var("StringMatches", pattern), {"v": value}) is expected


def test_string_matches_open_escape_is_a_runtime_error():
    rule = compile_choice_rule(var("StringMatches", "abc\\"))
    with pytest.raises(StatesError) as raised:
        rule(Env({"v": "abc"}))
    assert raised.value.error == "States.Runtime"


# ------------------------------------------------------------------ timestamp family


@pytest.mark.parametrize(
    "text",
    ["2016-03-14T01:59:00Z", "2016-03-14T01:59:00.5Z", "2016-03-14T01:59:00.123456789Z",
     "2016-03-14T01:59:00+01:00", "2016-03-14T01:59:00-18:00", "2016-02-29T00:00:00Z"],
)
def test_valid_timestamps(text):
    assert parse_timestamp(text) is not None
    assert check(var("IsTimestamp", True), {"v": text}) is True


@pytest.mark.parametrize(
    "text",
    ["2016-03-14T01:59:00", "2016-03-14t01:59:00Z", "2016-03-14T01:59:00z", "2016-03-14 01:59:00Z",
     "2016-13-05T21:29:29Z", "2016-12-05T25:29:29Z", "05-12-2016T21:29:29Z", "2015-02-29T00:00:00Z",
     "2016-03-14T01:59Z", "2016-03-14T01:59:60Z", "2016-03-14T01:59:00+0100", "2016-03-14",
     "2016-03-14T01:59:00.Z", "2016-03-14T01:59:00+19:00", "2016-03-14T01:59:00.1234567890Z",
     "٢٠١٦-03-14T01:59:00Z", ""],
)
def test_invalid_timestamps(text):
    assert parse_timestamp(text) is None
    assert check(var("IsTimestamp", True), {"v": text}) is False
    assert check(var("TimestampEquals", "2016-03-14T01:59:00Z"), {"v": text}) is False


@pytest.mark.parametrize(
    "operator, operand, value, expected",
    [
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T20:00:55+01:00", True),
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55.000Z", True),
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55.001Z", False),
        ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", True),
        ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:30:55+01:00", False),
        ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:30:55+01:00", True),
        ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
        ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:54.9Z", False),
        ("TimestampEquals", "2012-10-09T19:00:55Z", 1349809255, False),
        ("TimestampEquals", "2012-10-09T19:00:55Z", None, False),
    ],
)
def test_timestamp_comparisons(operator, operand, value, expected):
    assert check(var(operator, operand), {"v": value}) is expected


def test_timestamp_path_with_an_invalid_comparand_is_false():
    data = {"v": "2012-10-09T19:00:55Z", "w": "yesterday"}
    assert check(var("TimestampLessThanEqualsPath", "$.w"), data) is False
    assert check(var("TimestampEqualsPath", "$.v"), data) is True


# ------------------------------------------------------------------ paths and roots


def test_context_object_paths():
    context = {"Execution": {"Input": {"input-value": 0}}}
    rule = var("NumericLessThanEquals", 0, "$$.Execution.Input.input-value")
    assert check(rule, {}, context=context) is True


def test_variables_and_path_operands_on_variables():
    rule = var("StringEqualsPath", "$answer", "$guess")
    assert check(rule, {}, variables={"guess": "x", "answer": "x"}) is True
    assert check(rule, {}, variables={"guess": "x", "answer": "y"}) is False
    with pytest.raises(StatesError):
        check(rule, {}, variables={"answer": "y"})


def test_bracket_and_index_paths():
    data = {"a b": [{"c": 5}]}
    assert check(var("NumericEquals", 5, "$['a b'][0].c"), data) is True
    assert check(var("IsPresent", True, "$['a b'][1].c"), data) is False


def test_root_path_selects_the_whole_input():
    assert check(var("StringEquals", "No messages", "$"), "No messages") is True


# ------------------------------------------------------------------ boolean operators


def test_aws_docs_example():
    choices = [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"},
    ]
    data = {"type": "Private", "value": 22}
    assert [check(rule, data) for rule in choices] == [False, False, True]


def test_and_or_short_circuit_before_a_missing_path():
    missing = var("NumericEquals", 1, "$.missing")
    guard = var("IsPresent", True, "$.missing")
    assert check({"And": [guard, missing]}, {}) is False
    assert check({"Or": [{"Not": guard}, missing]}, {}) is True
    with pytest.raises(StatesError):
        check({"Or": [guard, missing]}, {})


def test_nested_boolean_operators():
    rule = {"Not": {"Or": [{"And": [var("IsNumeric", True), var("NumericGreaterThan", 3)]},
                           var("StringEquals", "x")]}}
    assert [check(rule, {"v": v}) for v in (5, 2, "x", "y", None)] == [False, True, False, True, True]


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.v", "Next": "X"},
        {"Variable": "$.v", "NumericEquals": 1, "StringEquals": "1"},
        {"NumericEquals": 1},
        {"Variable": "$.v", "NumericEquals": "1"},
        {"Variable": "$.v", "NumericEquals": True},
        {"Variable": "$.v", "BooleanEquals": 1},
        {"Variable": "$.v", "IsNull": "true"},
        {"Variable": "$.v", "IsPresent": 1},
        {"Variable": "$.v", "StringEquals": 1},
        {"Variable": "$.v", "StringMatches": 1},
        {"Variable": "$.v", "TimestampEquals": "2016-03-14"},
        {"Variable": "$.v", "NumericEqualsPath": 3},
        {"Variable": "v", "IsNull": True},
        {"Variable": "$.v", "NumericEqualsPath": "w"},
        {"And": []},
        {"Or": {"Variable": "$.v", "IsNull": True}},
        {"And": [var("IsNull", True)], "Not": var("IsNull", True)},
        {"Not": var("IsNull", True), "Variable": "$.v", "IsNull": True},
        ["not", "a", "rule"],
    ],
)
def test_malformed_rules_are_rejected_at_compile_time(rule):
    with pytest.raises(ValueError):
        compile_choice_rule(rule)


def test_choice_operators_lists_every_comparison_operator():
    bases = ["BooleanEquals"] + [f"{family}{relation}" for family in ("Numeric", "String", "Timestamp")
                                 for relation in ("Equals", "GreaterThan", "GreaterThanEquals",
                                                  "LessThan", "LessThanEquals")]
    expected = {*bases, *(b + "Path" for b in bases), "IsBoolean", "IsNull", "IsNumeric",
                "IsPresent", "IsString", "IsTimestamp", "StringMatches"}
    assert CHOICE_OPERATORS == expected
    assert not {"And", "Or", "Not", "Variable", "Next"} & CHOICE_OPERATORS


# ------------------------------------------------------------------ properties

json_scalars = st.none() | st.booleans() | st.integers(-10, 10) | st.floats(-10, 10) | st.text(
    alphabet="ab*\\", max_size=3)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=2)
                           | st.dictionaries(st.text("ab", max_size=1), inner, max_size=2),
                           max_leaves=4)
literal_rules = st.one_of(
    st.builds(lambda o, b: var(o, b), st.sampled_from(sorted(IS_TYPE) + ["IsPresent"]), st.booleans()),
    st.builds(lambda o, n: var(o, n), st.sampled_from([f"Numeric{r}" for r in
              ("Equals", "GreaterThan", "LessThan", "LessThanEquals")]), st.integers(-10, 10)),
    st.builds(lambda o, s: var(o, s), st.sampled_from(["StringEquals", "StringLessThan",
              "StringMatches"]), st.text(alphabet="ab*", max_size=3)),
    st.builds(lambda b: var("BooleanEquals", b), st.booleans()),
    st.builds(lambda o: var(o, "$.w"), st.sampled_from(["NumericEqualsPath", "StringGreaterThanPath",
                                                       "BooleanEqualsPath"])),
)
rules = st.recursive(literal_rules, lambda inner: st.builds(lambda r: {"Not": r}, inner)
                     | st.builds(lambda rs: {"And": rs}, st.lists(inner, min_size=1, max_size=3))
                     | st.builds(lambda rs: {"Or": rs}, st.lists(inner, min_size=1, max_size=3)),
                     max_leaves=6)
inputs = st.fixed_dictionaries({"v": json_values, "w": json_values})


@given(rules, inputs)
def test_not_inverts_any_rule(rule, data):
    assert check({"Not": rule}, data) is (not check(rule, data))


@given(st.lists(rules, min_size=1, max_size=4), inputs)
def test_and_or_agree_with_all_any(children, data):
    values = [check(rule, data) for rule in children]
    assert check({"And": children}, data) is all(values)
    assert check({"Or": children}, data) is any(values)


numbers = st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False)


@given(numbers, numbers)
def test_numeric_less_than_and_greater_than_equals_are_complementary(value, bound):
    lt = check(var("NumericLessThan", bound), {"v": value})
    assert check(var("NumericGreaterThanEquals", bound), {"v": value}) is (not lt)
    assert check(var("NumericLessThanEqualsPath", "$.w"), {"v": value, "w": bound}) is (
        lt or check(var("NumericEquals", bound), {"v": value}))


@given(st.text(), st.text())
def test_exactly_one_string_ordering_holds(left, right):
    data = {"v": left, "w": right}
    outcomes = [check(var(op, "$.w"), data) for op in
                ("StringLessThanPath", "StringEqualsPath", "StringGreaterThanPath")]
    assert outcomes.count(True) == 1
    assert outcomes[0] is (left.encode("utf-16-be") < right.encode("utf-16-be"))


@given(st.text(), st.text())
def test_string_matches_without_wildcard_is_string_equals(pattern, value):
    assume("*" not in pattern and "\\" not in pattern)
    data = {"v": value}
    assert check(var("StringMatches", pattern), data) is check(var("StringEquals", pattern), data)
    assert check(var("StringMatches", pattern), {"v": pattern}) is True


@given(st.text(), st.text(), st.text())
def test_wildcard_matches_any_infix(prefix, middle, suffix):
    def escape(text):
        return text.replace("\\", "\\\\").replace("*", "\\*")

    pattern = escape(prefix) + "*" + escape(suffix)
    assert check(var("StringMatches", pattern), {"v": prefix + middle + suffix}) is True
    assert check(var("StringMatches", escape(prefix + middle + suffix)),
                 {"v": prefix + middle + suffix}) is True


moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
offsets = st.integers(-18 * 60, 18 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


def rfc3339(moment: datetime) -> str:
    text = moment.isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z") if moment.utcoffset() == timedelta(0) else text


@given(moments, offsets, moments, offsets)
def test_timestamp_comparisons_agree_with_instants(a, tz_a, b, tz_b):
    a, b = a.replace(tzinfo=tz_a), b.replace(tzinfo=tz_b)
    data = {"v": rfc3339(a), "w": rfc3339(b)}
    assert check(var("TimestampLessThanPath", "$.w"), data) is (a < b)
    assert check(var("TimestampEqualsPath", "$.w"), data) is (a == b)
    assert check(var("TimestampGreaterThanEqualsPath", "$.w"), data) is (a >= b)


# ------------------------------------------------------------------ recorded AWS cases

CASES = Path("/work/shared/conformance/cases.json")
TERMINAL = {"Pass", "Succeed", "Fail"}


def single_choice_cases() -> list[dict]:
    """Recorded cases whose machine is one JSONPath Choice state leading to terminal states."""
    if not CASES.exists():
        return []
    cases = json.loads(CASES.read_text())["cases"]
    return [case for case in cases
            if case["feature_area"] in ("choice_operators", "scenarios/choice") and simple(case)]


def simple(case: dict) -> bool:
    definition = case["definition"]
    states = definition["States"]
    start = states[definition["StartAt"]]
    others = [s for name, s in states.items() if name != definition["StartAt"]]
    return (start["Type"] == "Choice" and "QueryLanguage" not in json.dumps(definition)
            and all(s["Type"] in TERMINAL and "Parameters" not in s and "InputPath" not in s
                    and "OutputPath" not in s and "ResultPath" not in s for s in others))


def run_single_choice(definition: dict, data: Any) -> dict:
    """The outcome of a single-Choice machine, by hand: only Pass/Succeed/Fail follow it."""
    choice = definition["States"][definition["StartAt"]]
    target = next((rule["Next"] for rule in choice["Choices"] if check(rule, data)),
                  choice.get("Default"))
    if target is None:
        return {"status": "FAILED", "error": "States.NoChoiceMatched"}
    state = definition["States"][target]
    if state["Type"] == "Fail":
        return {k: v for k, v in [("status", "FAILED"), ("error", state.get("Error")),
                                  ("cause", state.get("Cause"))] if v is not None}
    return {"status": "SUCCEEDED", "output": state.get("Result", data)}


@pytest.mark.parametrize("case", single_choice_cases(), ids=lambda case: case["id"].split("::", 1)[1])
def test_recorded_aws_case(case):
    outcome = run_single_choice(case["definition"], json.loads(case["input_raw"]))
    expected = {k: v for k, v in case["expected"].items() if k in ("status", "output", "error", "cause")}
    assert outcome == expected


def test_recorded_cases_were_found():
    if CASES.exists():
        assert len(single_choice_cases()) >= 256

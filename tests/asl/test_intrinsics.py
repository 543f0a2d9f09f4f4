"""The 18 intrinsic functions: AWS documentation examples, AWS-recorded cases, properties."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepflow.asl.intrinsic_functions import _JavaRandom
from stepflow.asl.intrinsics import (
    FUNCTIONS,
    INTRINSIC_ERROR,
    compile_intrinsic,
    is_intrinsic,
    java_str,
)
from stepflow.asl.jsonpath import PathNotFound
from stepflow.errors import StatesError


@pytest.fixture(scope="module")
def run(make_env):
    """``run(text, input={}, context=None, variables=None)`` -> the call's value."""

    def evaluate(text, input=None, context=None, variables=None):
        return compile_intrinsic(text)(make_env(input if input is not None else {}, context,
                                                variables))

    return evaluate


def test_all_eighteen_functions_are_known():
    assert len(FUNCTIONS) == 18


# --------------------------------------------------------------------------- AWS doc examples


@pytest.mark.parametrize(
    ("text", "input", "expected"),
    [
        ("States.Format('Hello, my name is {}.', $.name)", {"name": "Arnav"},
         "Hello, my name is Arnav."),
        ("States.Format($.template, $.name)",
         {"name": "Arnav", "template": "Hello, my name is {}."}, "Hello, my name is Arnav."),
        ("States.StringToJson($.escapedJsonString)", {"escapedJsonString": '{"foo": "bar"}'},
         {"foo": "bar"}),
        ("States.JsonToString($.unescapedJson)", {"unescapedJson": {"foo": "bar"}},
         '{"foo":"bar"}'),
        ("States.Array($.Id)", {"Id": 123456}, [123456]),
        ("States.ArrayPartition($.inputArray, 4)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
         [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
        ("States.ArrayContains($.inputArray, $.lookingFor)",
         {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5}, True),
        ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
        ("States.ArrayGetItem($.inputArray, $.index)",
         {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}, 6),
        ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
        ("States.ArrayUnique($.inputArray)", {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]},
         [1, 2, 3, 4]),
        ("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
        ("States.Hash($.Data, $.Algorithm)", {"Data": "input data", "Algorithm": "SHA-1"},
         "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("States.JsonMerge($.json1, $.json2, false)",
         {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}},
         {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}),
        ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
        ("States.StringSplit($.inputString, $.splitter)",
         {"inputString": "1,2,3,4,5", "splitter": ","}, ["1", "2", "3", "4", "5"]),
        ("States.StringSplit($.inputString, $.splitter)",
         {"inputString": "This.is+a,test=string", "splitter": ".+,="},
         ["This", "is", "a", "test", "string"]),
    ],
)
def test_aws_documentation_examples(run, text, input, expected):
    assert run(text, input) == expected


def test_uuid_is_a_version_4_uuid(run):
    value = run("States.UUID()")
    assert uuid.UUID(value).version == 4
    assert value != run("States.UUID()")


def test_math_random_is_in_the_half_open_range(run):
    values = {run("States.MathRandom($.start, $.end)", {"start": 1, "end": 4}) for _ in range(200)}
    assert values == {1, 2, 3}


def test_math_random_with_a_seed_is_deterministic(run):
    first = run("States.MathRandom(1, 1000, 42)")
    assert all(run("States.MathRandom(1, 1000, 42)") == first for _ in range(5))
    assert 1 <= first < 1000


def test_the_seeded_generator_is_javas():
    # new java.util.Random(0).nextInt() == -1155484576, i.e. next(31) == 1569741360
    assert _JavaRandom(0)._next31() == 1569741360


def test_nested_calls_as_in_the_aws_documentation(run):
    # The documentation's example has three placeholders for two values; two are used here.
    text = ("States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
            "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
            "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), "
            "2), '.'), 1))")
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/test/1.0.0"
    assert run(text, {"ImageRecipe": {"Arn": arn}}) == "1.0"


# --------------------------------------------------------------------------- AWS-recorded


def _recorded_intrinsic_cases(cases):
    for case in cases:
        if case["feature_area"] != "intrinsic_functions":
            continue
        state = next(iter(case["definition"]["States"].values()))
        if "Parameters" in state and "MathRandom" not in json.dumps(state):
            yield case, state["Parameters"]["FunctionResult.$"]


def test_aws_recorded_intrinsic_cases(run, aws_cases, recorded_match):
    checked = 0
    for case, text in _recorded_intrinsic_cases(aws_cases):
        context = {
            "Execution": {"Input": case["input"], "Name": "exec-name"},
            "StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:sm-x",
                             "Name": "sm-x"},
        }
        expected = case["expected"]["output"]["FunctionResult"]
        actual = run(text, case["input"], context)
        assert recorded_match(expected, actual), (case["id"], text, actual, expected)
        checked += 1
    assert checked >= 60


# --------------------------------------------------------------------------- semantics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('a \\{\\} b {}', 1)", "a {} b 1"),
        ("States.Format('it\\'s {}', 'x')", "it's x"),
        ("States.Format('back\\\\slash {}', 'x')", "back\\slash x"),
        ("States.Format('{} {} {} {}', null, true, 1.5, $.o)", "null true 1.5 {a=1, b=[x, null]}"),
        ("States.Format('{}', 1e20)", "1.0E20"),
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.StringSplit('Hello\nWorld', '\n')", ["Hello", "World"]),
        ("States.StringSplit(',,a,,b,', ',')", ["a", "b"]),
        ("States.StringToJson('')", None),
        ("States.StringToJson(' ')", None),
        ("States.StringToJson('-0')", 0),
        ("States.MathAdd(1.49, 1.5)", 3),  # each argument is rounded, Java's Math.round
        ("States.MathAdd(-1.5, 0)", -1),
        ("States.ArrayRange(1.4, 5.6, 2.2)", [1, 3, 5]),  # truncated
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayRange(5, 1, 1)", []),
        ("States.ArrayGetItem($.l, 1.2)", 20),
        ("States.ArrayGetItem($.e, 999)", None),
        ("States.ArrayContains($.l, '20')", True),  # AWS compares Java text forms
        ("States.ArrayContains(States.Array($.o), $.o)", True),
        ("States.ArrayUnique(States.Array(1, true, 1, '1', null, null))", [1, True, "1", None]),
        ("States.Hash(123, 'MD5')", "202cb962ac59075b964b07152d234b70"),
        ("States.Base64Decode('YWJj ZA')", "abcd"),  # lenient like AWS
        ("States.Base64Decode('YWJjZA==garbage')", "abcd"),
        ("States.JsonToString($.o)", '{"a":1,"b":["x",null]}'),
        ("States.Array()", []),
        ("States.ArrayLength($.l[?(@ > 15)])", 2),  # paths may hold spaces, commas, parens
        ("States.Array($['o']['a'] , $.l[0,1])", [1, [10, 20]]),
        ("States.JsonToString($)", '{"o":{"a":1,"b":["x",null]},"l":[10,20,30],"e":[]}'),
    ],
)
def test_behaviour_as_aws_shows_it(run, text, expected):
    doc = {"o": {"a": 1, "b": ["x", None]}, "l": [10, 20, 30], "e": []}
    assert run(text, doc) == expected


def test_context_and_variable_arguments(run):
    context = {"StateMachine": {"Name": "alpha-beta-gamma"}}
    text = "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), $idx)"
    assert run(text, {}, context, {"idx": 2}) == "gamma"


@pytest.mark.parametrize(
    "text",
    [
        "States.Format('{} {}', 'one')",
        "States.Format('{}', 'one', 'two')",
        "States.Format('Hello {', 'x')",
        "States.Format('}')",
        "States.Format('Hello {{}}', 'x')",
        "States.Format($.n)",
        "States.StringToJson('{not json')",
        "States.StringToJson($.n)",
        "States.ArrayPartition($.l, 0)",
        "States.ArrayPartition('x', 1)",
        "States.ArrayContains('not-array', 'x')",
        "States.ArrayRange(1, 10, 0)",
        "States.ArrayRange(1, 10, 0.49)",
        "States.ArrayRange(1, 1001, 1)",
        "States.ArrayRange('a', 5, 1)",
        "States.ArrayGetItem($.l, 3)",
        "States.ArrayGetItem($.l, -1)",
        "States.ArrayGetItem($.l, '1')",
        "States.ArrayLength($.n)",
        "States.ArrayUnique('x')",
        "States.Base64Encode($.n)",
        "States.Base64Encode($.long)",
        "States.Base64Decode($.long)",
        "States.Hash($.long, 'SHA-256')",
        "States.Hash('data', 'sha-256')",
        "States.Hash('data', 'SHA256')",
        "States.Hash('hello', 123)",
        "States.JsonMerge($.o, $.o, true)",
        "States.JsonMerge($.o, $.l, false)",
        "States.MathRandom(1, 1)",
        "States.MathRandom(10, 5)",
        "States.MathRandom(1.4, 1.6)",
        "States.MathRandom(1, 10, null)",
        "States.MathAdd('1', 2)",
        "States.MathAdd(2147483648, 1)",
        "States.StringSplit(1, ',')",
        "States.ArrayRange(1, 5)",
        "States.Hash('hello', 'SHA-256', 'extra')",
        "States.Base64Decode()",
        "States.UUID(1)",
    ],
)
def test_invalid_arguments_fail_at_run_time_as_aws_does(run, text):
    doc = {"n": 7, "l": [10, 20, 30], "o": {"a": 1}, "long": "a" * 10_001}
    with pytest.raises(StatesError) as info:
        run(text, doc)
    name = re.match(r"States\.\w+", text).group()
    assert info.value.error == INTRINSIC_ERROR
    assert info.value.cause == f"Invalid arguments in {name}"


def test_limits_are_inclusive(run):
    assert len(run("States.Hash($.s, 'SHA-256')", {"s": "a" * 10_000})) == 64
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
    assert len(run("States.ArrayRange(1000, 1, -1)")) == 1000


def test_a_missing_path_argument_raises_path_not_found(run):
    with pytest.raises(PathNotFound) as info:
        run("States.Hash($.missing, 'SHA-256')", {})
    assert info.value.path == "$.missing"


@pytest.mark.parametrize(
    "text",
    [
        "States.StringToJson('{\"text\":\"An \\\"escaped double quote\\\" here\"}')",  # recorded
        "States.Format('bad \\n escape')",
        "States.Nope(1)",
        "States.Format('unterminated)",
        "States.Format('x' 'y')",
        "States.Array(1,)",
        "States.Array(1) trailing",
        "States.Array(foo)",
        "States.Array($.a[)",
        "Format('x')",
        "States.Array(" * 11 + ")" * 11,
    ],
)
def test_syntax_errors_raise_value_error(text):
    with pytest.raises(ValueError):
        compile_intrinsic(text)


def test_nesting_ten_deep_is_allowed(run):
    assert run("States.Array(" * 10 + ")" * 10) == [[[[[[[[[[]]]]]]]]]]


def test_strict_mode_reports_arity_at_compile_time():
    with pytest.raises(ValueError, match="States.ArrayRange takes 3"):
        compile_intrinsic("States.ArrayRange(1, 5)", strict=True)
    assert callable(compile_intrinsic("States.ArrayRange(1, 5)"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("States.Format('x')", True), ("  States.UUID ()", True), ("$.States.x", False),
     ("States.Format", False), ("States", False), (5, False)],
)
def test_is_intrinsic(text, expected):
    assert is_intrinsic(text) is expected


def test_java_str_matches_javas_to_string():
    assert java_str({"a": [1, 2.0, None], "b": {"c": False}}) == "{a=[1, 2.0, null], b={c=false}}"
    assert java_str(1.5e-5) == "1.5E-5"
    assert java_str(12345678.0) == "1.2345678E7"


# --------------------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_json_to_string_and_back_round_trips(run, value):
    text = run("States.JsonToString($.v)", {"v": value})
    assert run("States.StringToJson($.t)", {"t": text}) == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_base64_round_trips(run, text):
    encoded = run("States.Base64Encode($.t)", {"t": text})
    assert encoded == base64.b64encode(text.encode()).decode()
    assert run("States.Base64Decode($.e)", {"e": encoded}) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(JSON, max_size=30), st.integers(1, 12))
def test_array_partition_reconcatenates_to_the_input(run, items, size):
    chunks = run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size})
    assert [x for chunk in chunks for x in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert all(0 < len(chunk) <= size for chunk in chunks)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5) | st.sampled_from(["a", "b"]) | st.booleans(), max_size=30))
def test_array_unique_keeps_first_occurrences_in_order(run, items):
    unique = run("States.ArrayUnique($.a)", {"a": items})
    expected = []
    for item in items:
        if not any(type(item) is type(seen) and item == seen for seen in expected):
            expected.append(item)
    assert unique == expected
    assert [type(x) for x in unique] == [type(x) for x in expected]


@settings(max_examples=200, deadline=None)
@given(st.integers(-500, 500), st.integers(-500, 500), st.integers(-50, 50).filter(bool))
def test_array_range_is_an_inclusive_arithmetic_sequence(run, first, last, step):
    expected = list(range(first, last + (1 if step > 0 else -1), step))
    if len(expected) > 1000:
        return
    assert run("States.ArrayRange($.a, $.b, $.c)", {"a": first, "b": last, "c": step}) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(alphabet=",;. \n", min_size=1, max_size=3))
def test_string_split_drops_empties_and_keeps_all_other_characters(run, text, delimiters):
    parts = run("States.StringSplit($.t, $.d)", {"t": text, "d": delimiters})
    assert all(parts) and not any(c in delimiters for part in parts for c in part)
    assert "".join(parts) == "".join(c for c in text if c not in delimiters)


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1))
def test_math_add_adds_integers_exactly(run, a, b):
    result = run("States.MathAdd($.a, $.b)", {"a": a, "b": b})
    assert result == a + b and type(result) is int


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="States.Format()'{}$ ,\\abc0123", max_size=30))
def test_compile_terminates_on_any_text(text):
    """Regression: text ending inside a function name made the parser loop forever."""
    try:
        compile_intrinsic(text)
    except ValueError:
        pass

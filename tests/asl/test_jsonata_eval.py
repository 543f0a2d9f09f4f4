"""JSONata as AWS Step Functions evaluates it: expressions, templates, AWS's functions and words."""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepflow.asl.jsonata_eval import (
    JsonataSyntaxError,
    compile_assign,
    compile_expression,
    compile_template,
    expect_type,
    is_jsonata_string,
)
from stepflow.errors import QUERY_EVALUATION_ERROR, StatesError

CASES = Path("/work/shared/conformance/cases.json")
STATES = {
    "input": {"a": 1, "v": [1, 2, 3], "n": None, "whole": 2.0, "name": "Ana"},
    "context": {"Execution": {"Id": "arn:aws:states:us-east-1:1:execution:sm:e1"}},
}


def run(text: str, states=STATES, variables=None, field: str = "Output"):
    return compile_expression(text, field).evaluate(states, variables or {})


def cause_of(text: str, states=STATES, variables=None, field: str = "Output") -> str:
    with pytest.raises(StatesError) as info:
        run(text, states, variables, field)
    assert info.value.error == QUERY_EVALUATION_ERROR
    return info.value.cause


# --- what is an expression -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["{% $states.input %}", "{%$states.input%}", "{% 1 %}", "{%\n1\n%}"]
)
def test_whole_string_braces_are_an_expression(value):
    assert is_jsonata_string(value)


@pytest.mark.parametrize(
    "value",
    [
        " {% states.input %} ",
        "{% 1 %} ",
        " {% 1 %}",
        "Hello {% $x %}",
        "$states.input",
        "{%}",
        "{% 1",
        "1 %}",
        None,
        1,
        ["{% 1 %}"],
    ],
)
def test_anything_outside_the_braces_makes_a_literal(value):
    assert not is_jsonata_string(value)


def test_aws_literal_arguments_case_comes_back_unchanged():
    arguments = {
        "constant_not_jsonata": " {% states.input %} ",
        "constant_varpath_states": "$states.input",
        "constant_lst": [None, 0, 0.1, True, [], {"constant": 0}, " {% states.input %} "],
        "constant_obj": {"in_obj_constant_float": 0.1, "in_obj_constant_obj_empty": {}},
    }
    assert compile_template(arguments, "Arguments")(STATES, {}) == arguments


# --- evaluation and binding ------------------------------------------------------------------


def test_states_input_and_context_are_bound():
    assert run("$states.input.name") == "Ana"
    assert run("$states.context.Execution.Id") == STATES["context"]["Execution"]["Id"]


def test_result_and_error_output_are_read_when_present():
    states = {**STATES, "result": {"Payload": 7}, "errorOutput": {"Error": "E"}}
    assert run("$states.result.Payload + 1", states) == 8
    assert run("$states.errorOutput.Error", states) == "E"
    assert "returned nothing" in cause_of("$states.result")


def test_variables_are_bound_by_name():
    assert run("$sum($states.input.v) + $one", variables={"one": 1}) == 7
    assert run("$greeting & ' ' & $states.input.name", variables={"greeting": "Hi"}) == "Hi Ana"


def test_a_variable_holding_null_is_null_not_undefined():
    assert run("$nothing", variables={"nothing": None}) is None
    assert run("$exists($nothing)", variables={"nothing": None}) is True


def test_a_json_null_in_the_input_is_null():
    assert run("$states.input.n") is None


def test_states_cannot_be_shadowed_by_a_variable():
    assert run("$states.input.a", variables={"states": {"input": {"a": 99}}}) == 1


def test_evaluation_does_not_modify_its_inputs():
    states = {"input": {"xs": [3, 1, 2], "o": {"k": [1]}}, "context": {}}
    variables = {"list": [5, 4], "obj": {"a": {"b": 1}}}
    before = copy.deepcopy((states, variables))
    for text in [
        "$sort($states.input.xs)",
        "$reverse($list)",
        "$append($list, 1)",
        "$states.input.o ~> |$|{'k': 2}|",
        "$merge([$obj, {'a': 2}])",
        "$states.input",
    ]:
        result = run(text, states, variables)
        if isinstance(result, (dict, list)):
            result.clear()
    assert (states, variables) == before


# --- undefined and field paths ---------------------------------------------------------------


def test_undefined_top_level_names_the_field():
    assert cause_of("$doesNotExist") == (
        "The JSONata expression '$doesNotExist' specified for the field 'Output' "
        "returned nothing (undefined)."
    )


@pytest.mark.parametrize(
    "template, field",
    [
        ({"result": "{% $doesNotExist %}"}, "Output/result"),
        ({"a": {"b": "{% $doesNotExist %}"}}, "Output/a/b"),
        ([1, "{% $doesNotExist %}"], "Output[1]"),
        ({"list": [{"x": 1}, {"x": "{% $doesNotExist %}"}]}, "Output/list[1]/x"),
    ],
)
def test_undefined_inside_a_template_names_the_nested_field(template, field):
    with pytest.raises(StatesError) as info:
        compile_template(template, "Output")(STATES, {})
    assert info.value.cause == (
        f"The JSONata expression '$doesNotExist' specified for the field '{field}' "
        "returned nothing (undefined)."
    )


def test_expression_text_is_quoted_trimmed():
    with pytest.raises(StatesError) as info:
        compile_template("{%   $nope   %}", "Arguments")(STATES, {})
    assert "expression '$nope' specified for the field 'Arguments'" in info.value.cause


def test_a_function_result_is_an_unsupported_type():
    assert cause_of("$fn := function($x){$x}", field="Items") == (
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' "
        "returned an unsupported result type."
    )


# --- errors ----------------------------------------------------------------------------------


def test_runtime_error_has_aws_sentence_and_jsonata_code():
    assert cause_of("$each('x', function($v){$v})") == (
        "The JSONata expression '$each('x', function($v){$v})' specified for the field "
        "'Output' threw an error during evaluation. "
        'T0410: Argument 1 of function "each" does not match function signature'
    )


@pytest.mark.parametrize(
    "text, detail",
    [
        ("1 + 'a'", 'T2002: The right side of the "+" operator must evaluate to a number'),
        ("$sum(['a'])", 'T0412: Argument 1 of function "sum" must be an array of "numbers"'),
        ("$split('a', 'b', -1)", "D3020: Third argument of split function must evaluate to a positive number"),
        ("$error('boom')", "D3137: boom"),
        ("$nofunction(1)", "T1006: Attempted to invoke a non-function"),
    ],
)
def test_runtime_errors_use_jsonata_js_wording(text, detail):
    assert cause_of(text).endswith(f"threw an error during evaluation. {detail}")


def test_eval_is_disabled_as_on_aws():
    assert cause_of("$eval('1+1')").endswith(
        "threw an error during evaluation. T1006: Attempted to invoke a non-function"
    )


def test_a_runaway_loop_is_stopped_with_an_uncoded_message():
    expression = compile_expression("($f := function($x){ $f($x+1) }; $f(1))", "Output", timeout_seconds=0.05)
    with pytest.raises(StatesError) as info:
        expression.evaluate(STATES, {})
    assert info.value.cause.endswith(
        "threw an error during evaluation: Expression evaluation timeout: Check for infinite loop"
    )


def test_deep_recursion_fails_the_state_instead_of_the_process():
    text = "($f := function($x){ $x <= 0 ? 0 : 1 + $f($x-1) }; $f(100000))"
    assert "Stack overflow error" in cause_of(text)


@pytest.mark.parametrize("text", ["1 +", "a[1,2)", "", "'unterminated", "$x :="])
def test_syntax_errors_are_value_errors_with_jsonata_detail(text):
    with pytest.raises(ValueError) as info:
        compile_expression(text, "Output")
    assert isinstance(info.value, JsonataSyntaxError)
    assert re.match(r"S0\d{3}: ", info.value.detail)
    assert info.value.field == "Output"


def test_template_syntax_error_names_nested_field():
    with pytest.raises(JsonataSyntaxError) as info:
        compile_template({"a": ["{% 1 + %}"]}, "Arguments")
    assert info.value.field == "Arguments/a[0]"


# --- expected result types -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected, message_end",
    [
        (True, "array", "Expected 'array', but was 'boolean' for value: true"),
        (1, "array", "Expected 'array', but was 'number' for value: 1"),
        (None, "array", "Expected 'array', but was 'null' for value: null"),
        ("x", "number", "Expected 'number', but was 'string' for value: \"x\""),
        (1.5, "integer", "Expected 'integer', but was 'number' for value: 1.5"),
    ],
)
def test_expect_type_failures_have_aws_wording(value, expected, message_end):
    with pytest.raises(StatesError) as info:
        expect_type(value, expected, "$ItemsVar", "Items")
    assert info.value.error == QUERY_EVALUATION_ERROR
    assert info.value.cause == (
        "The JSONata expression '$ItemsVar' specified for the field 'Items' returned an "
        f"unexpected result type. {message_end}"
    )


@pytest.mark.parametrize(
    "value, expected",
    [([1], "array"), ({}, "object"), (2, "integer"), (2.5, "number"), ("s", "string"), (False, "boolean")],
)
def test_expect_type_accepts_matching_values(value, expected):
    assert expect_type(value, expected, "e", "f") == value


def test_evaluate_as_checks_the_type():
    expression = compile_expression("true", "Items")
    with pytest.raises(StatesError, match="Expected 'array', but was 'boolean' for value: true"):
        expression.evaluate_as(STATES, {}, "array")
    assert compile_expression("[0]", "Items").evaluate_as(STATES, {}, "array") == [0]


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$sum($states.input.v) + 1", 7),
        ("6 / 3", 2),
        ("1.5 * 2", 3),
        ("$states.input.whole", 2),
        ("$parse('1.0')", 1),
        ("$parse('-0')", 0),
        ("$average([1, 3])", 2),
        ("{'a': [2.0]}", {"a": [2]}),
    ],
)
def test_whole_numbers_come_back_as_int(text, expected):
    result = run(text)
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)


def test_fractions_stay_floats():
    assert run("0.1 + 0.2") == pytest.approx(0.3)
    assert run("$parse('1.1')") == 1.1


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_any_whole_double_normalises_to_the_same_int(n):
    result = run("$states.input.x", {"input": {"x": float(n)}})
    assert type(result) is int and result == n


# --- the functions Step Functions adds -------------------------------------------------------


def test_partition_docs_example():
    assert run("$partition([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)") == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$partition([1,2,3,4,5], 2)", [[1, 2], [3, 4], [5]]),
        ("$partition([0], 3)", [[0]]),
        ("$partition([1,2,3,4,5], 2.9)", [[1, 2], [3, 4], [5]]),
        ("$partition([1,2,3])", [[1, 2, 3]]),
    ],
)
def test_partition(text, expected):
    assert run(text) == expected


@pytest.mark.parametrize("text", ["$partition([], 2)", "$partition([1,2], 0)"])
def test_partition_that_is_empty_is_nothing(text):
    assert "returned nothing" in cause_of(text)


def test_partition_negative_size_is_an_error():
    assert cause_of("$partition([1], -1)").endswith("D3137: Second argument must be zero or greater")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
        ("$range(0, 9, 3)", [0, 3, 6, 9]),
        ("$range(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("$range(10, 0, -2)", [10, 8, 6, 4, 2, 0]),
        ("$range(1.7, 5, 1)", [1, 2, 3, 4, 5]),
        ("$range(3, 3, 1)", 3),
    ],
)
def test_range(text, expected):
    assert run(text) == expected


@pytest.mark.parametrize("text", ["$range(5, 1, 1)", "$range(1, 5, 0)", "$range(1, 5)"])
def test_range_that_is_empty_is_nothing(text):
    assert "returned nothing" in cause_of(text)


@pytest.mark.parametrize(
    "algorithm, digest",
    [
        ("MD5", "8b1a9953c4611296a827abf8c47804d7"),
        ("SHA-1", "f7ff9e8b7bb2e09b70935a5d785e0cc5d9d0abf0"),
        ("SHA-256", "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969"),
        (
            "SHA-384",
            "3519fe5ad2c596efe3e276a6f351b8fc0b03db861782490d45f7598ebd0ab5fd"
            "5520ed102f38c4a5ec834e98668035fc",
        ),
        (
            "SHA-512",
            "3615f80c9d293ed7402687f94b22d58e529b8cc7916f8fac7fddf7fbd5af4cf7"
            "77d3d795a7a00a16bf7e7f3fb9561ee9baae480da9fe7a18769e71886b03f315",
        ),
    ],
)
def test_hash_every_algorithm(algorithm, digest):
    assert run("$hash($states.input.content, $algorithm)", {"input": {"content": "Hello"}}, {"algorithm": algorithm}) == digest


def test_hash_uses_utf8():
    assert run("$hash('ñ', 'MD5')") == "94e9342ecbb1458b6043ecd3bfcbc192"


@pytest.mark.parametrize("algorithm", ["md5", "SHA3-256", "SHA256"])
def test_hash_unknown_algorithm_is_an_error(algorithm):
    assert "D3137: The hash algorithm" in cause_of(f"$hash('a', '{algorithm}')")


@pytest.mark.parametrize("text", ["$hash(42, 'MD5')", "$hash(null, 'MD5')", "$parse(null)", "$uuid('x')"])
def test_wrong_argument_types_are_signature_errors(text):
    assert "T0410: Argument" in cause_of(text)


def test_random_is_in_unit_interval_and_varies():
    draws = {run("$random()") for _ in range(20)}
    assert all(0 <= d < 1 for d in draws) and len(draws) > 1


def test_random_with_seed_is_reproducible_like_java_util_random():
    assert run("$random($states.input.seed)", {"input": {"seed": 42}}) == 0.7275636800328681
    assert run("$random(0)") == 0.730967787376657
    assert run("$random(0.9)") == run("$random(0)")


def test_uuid_is_version_4_and_fresh():
    value = run("$uuid()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value)
    assert run("$uuid() = $uuid()") is False


def test_parse_docs_example():
    states = {"input": {"json_string": '{"name": "Ana", "ids": [1, 2], "none": null}'}}
    assert run("$parse($states.input.json_string)", states) == {"name": "Ana", "ids": [1, 2], "none": None}


@pytest.mark.parametrize(
    "text, expected", [("$parse('true')", True), ("$parse('\"HelloWorld\"')", "HelloWorld"), ("$parse('null')", None)]
)
def test_parse_scalars(text, expected):
    assert run(text) == expected


@pytest.mark.parametrize("json_text", ["", "{\"a\":1}{\"b\":2}", "{\"a\":1,\"a\":2}", "1e400", "NaN", "{a:1}"])
def test_parse_rejects_what_is_not_strict_json(json_text):
    assert cause_of("$parse($states.input.t)", {"input": {"t": json_text}}).endswith("D3137: Invalid JSON")


def test_aws_functions_work_as_function_values():
    assert run("$map(['{\"a\":1}', '{\"a\":2}'], $parse).a") == [1, 2]


# --- templates and Assign --------------------------------------------------------------------


def test_output_template_mixes_expressions_and_literals():
    template = compile_template(
        {"sum": "{% $sum($states.input.v) %}", "lit": "text", "list": ["{% $states.input.a %}", 2]},
        "Output",
    )
    assert template(STATES, {}) == {"sum": 6, "lit": "text", "list": [1, 2]}


def test_a_whole_string_output_is_one_expression():
    assert compile_template("{% $states.input.v %}", "Output")(STATES, {}) == [1, 2, 3]


def test_literal_containers_are_fresh_on_every_evaluation():
    template = compile_template({"a": [1, {"b": 2}]}, "Output")
    first = template(STATES, {})
    first["a"][1]["b"] = 99
    assert template(STATES, {}) == {"a": [1, {"b": 2}]}


def test_assign_reads_the_old_variables():
    assign = compile_assign({"theAnswer": 18, "oldAnswer": "{% $theAnswer %}"})
    assert assign(STATES, {"theAnswer": 42}) == {"theAnswer": 18, "oldAnswer": 42}


def test_assign_names_the_variable_in_errors():
    with pytest.raises(StatesError, match="for the field 'Assign/x' returned nothing"):
        compile_assign({"x": "{% $states.input.missing %}"})(STATES, {})


def test_assign_must_be_an_object():
    with pytest.raises(ValueError):
        compile_assign(["{% 1 %}"])


JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _has_expression(value) -> bool:
    if isinstance(value, dict):
        return any(_has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expression(v) for v in value)
    return is_jsonata_string(value)


@settings(max_examples=200)
@given(JSON_VALUES.filter(lambda v: not _has_expression(v)))
def test_literal_templates_evaluate_to_themselves(value):
    result = compile_template(value, "Output")(STATES, {})
    assert result == value
    assert json.dumps(result) == json.dumps(value)


# --- threads ---------------------------------------------------------------------------------


def test_one_compiled_expression_serves_many_threads():
    expression = compile_expression(
        "$map($states.input.xs, function($v){ $v * $k }) ~> $sum()", "Output"
    )
    failures: list[str] = []

    def worker(k: int) -> None:
        for n in range(200):
            states = {"input": {"xs": list(range(n % 7 + 1))}}
            expected = k * sum(range(n % 7 + 1))
            got = expression.evaluate(states, {"k": k})
            if got != expected:
                failures.append(f"k={k} n={n}: {got} != {expected}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_now_is_the_evaluation_time_even_after_other_compiles():
    expression = compile_expression("$millis()", "Output")
    compile_expression("1", "Other")  # plain jsonata-python would read this one's clock
    time.sleep(0.05)
    before = int(time.time() * 1000)
    assert expression.evaluate(STATES, {}) >= before - 1


# --- AWS-recorded cases ----------------------------------------------------------------------


def _recorded_pass_outputs():
    if not CASES.exists():
        return []
    found = []
    for case in json.loads(CASES.read_text())["cases"]:
        states = case["definition"].get("States", {})
        if len(states) != 1:
            continue
        (state,) = states.values()
        jsonata = "JSONata" in (state.get("QueryLanguage"), case["definition"].get("QueryLanguage"))
        if jsonata and state.get("Type") == "Pass" and "Output" in state and "expected" in case:
            found.append(pytest.param(state["Output"], case["input"], case["expected"], id=case["id"][-60:]))
    return found


@pytest.mark.parametrize("output, execution_input, expected", _recorded_pass_outputs())
def test_recorded_single_pass_state_outputs(output, execution_input, expected):
    template = compile_template(output, "Output")
    states = {"input": execution_input, "context": {}}
    if expected["status"] == "SUCCEEDED":
        assert template(states, {}) == expected["output"]
    else:
        with pytest.raises(StatesError) as info:
            template(states, {})
        assert info.value.error == expected["error"]
        assert expected["cause"].endswith(info.value.cause)

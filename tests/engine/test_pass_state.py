"""Pass: Result, Parameters, and the JSONPath data flow (InputPath, ResultPath, OutputPath)."""

from __future__ import annotations

import pytest
from engine_helpers import machine, single

import stepflow


def run_pass(state: dict, input_value):
    result = stepflow.run(single({"Type": "Pass", **state}), input_value)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output


def test_pass_without_fields_passes_its_input_through():
    assert run_pass({}, {"a": 1, "b": [1, 2]}) == {"a": 1, "b": [1, 2]}


def test_result_replaces_the_input():
    assert run_pass({"Result": {"x": 1}}, {"a": 1}) == {"x": 1}


def test_result_path_merges_the_result_into_the_input():
    assert run_pass({"Result": {"x": 1}, "ResultPath": "$.r"}, {"a": 1}) == {"a": 1, "r": {"x": 1}}


def test_result_path_creates_missing_intermediate_objects():
    assert run_pass({"Result": 7, "ResultPath": "$.a.b.c"}, {"a": {}}) == {"a": {"b": {"c": 7}}}


def test_result_path_null_discards_the_result():
    assert run_pass({"Result": {"x": 1}, "ResultPath": None}, {"a": 1}) == {"a": 1}


def test_parameters_with_paths_context_and_intrinsics():
    params = {
        "static": "s",
        "fromInput.$": "$.a",
        "name.$": "$$.State.Name",
        "sum.$": "States.MathAdd($.n, 5)",
        "nested": {"b.$": "$.b[1]"},
    }
    out = run_pass({"Parameters": params}, {"a": "A", "b": [10, 20], "n": 1})
    assert out == {"static": "s", "fromInput": "A", "name": "S", "sum": 6, "nested": {"b": 20}}


def test_input_path_selects_part_of_the_input():
    assert run_pass({"InputPath": "$.inner"}, {"inner": {"k": "v"}, "other": 1}) == {"k": "v"}


def test_input_path_null_gives_an_empty_object():
    assert run_pass({"InputPath": None, "Parameters": {"seen.$": "$"}}, {"a": 1}) == {"seen": {}}


def test_output_path_selects_part_of_the_output():
    assert run_pass({"Result": {"keep": 1, "drop": 2}, "OutputPath": "$.keep"}, {}) == 1


def test_output_path_null_gives_an_empty_object():
    assert run_pass({"OutputPath": None}, {"a": 1}) == {}


def test_input_path_then_result_path_apply_to_the_raw_input():
    # ResultPath writes into the state's *raw* input, not the InputPath selection.
    out = run_pass({"InputPath": "$.inner", "Parameters": {"v.$": "$.k"}, "ResultPath": "$.res"}, {"inner": {"k": 3}})
    assert out == {"inner": {"k": 3}, "res": {"v": 3}}


def test_chain_of_pass_states_threads_the_output():
    definition = machine(
        ("A", {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "B"}),
        ("B", {"Type": "Pass", "Parameters": {"double.$": "States.MathAdd($.a, $.a)"}, "End": True}),
    )
    assert stepflow.run(definition, {}).output == {"double": 2}


@pytest.mark.parametrize(
    "field, path",
    [("InputPath", "$.missing"), ("OutputPath", "$.missing")],
)
def test_a_path_that_matches_nothing_fails_with_states_runtime(field, path):
    result = stepflow.run(single({"Type": "Pass", field: path}), {"a": 1})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "An error occurred while executing the state 'S'" in result.cause


def test_parameters_path_to_a_missing_field_fails_with_runtime():
    result = stepflow.run(single({"Type": "Pass", "Parameters": {"x.$": "$.missing"}}), {"a": 1})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "$.missing" in result.cause


def test_non_object_inputs_flow_through_pass():
    assert run_pass({}, [1, 2, 3]) == [1, 2, 3]
    assert run_pass({}, '"text"') == "text"  # a str input is JSON text, as StartExecution takes it
    assert run_pass({"Result": None}, {"a": 1}) is None

"""JSONata states ($states.*, Arguments, Output, Assign), variables and their scoping, and the
context object."""

from __future__ import annotations

import re

from engine_helpers import Recorder, details, events_of, lambda_arn, machine, single

import stepflow
from stepflow import FakeClock

JSONATA = {"QueryLanguage": "JSONata"}
INVOKE = "arn:aws:states:::lambda:invoke"


# -- JSONata ---------------------------------------------------------------------------------------


def test_jsonata_pass_output_reads_states_input():
    state = {"Type": "Pass", "Output": {"sum": "{% $states.input.a + $states.input.b %}", "lit": "x"}}
    assert stepflow.run(single(state, **JSONATA), {"a": 1, "b": 2}).output == {"sum": 3, "lit": "x"}


def test_jsonata_without_output_passes_the_input():
    assert stepflow.run(single({"Type": "Pass"}, **JSONATA), {"a": 1}).output == {"a": 1}


def test_jsonata_task_arguments_and_states_result():
    fn = Recorder(lambda event: {"echo": event})
    state = {"Type": "Task", "Resource": lambda_arn("fn"),
             "Arguments": {"value": "{% $states.input.v * 10 %}"},
             "Output": {"got": "{% $states.result.echo.value %}", "before": "{% $states.input.v %}"}}
    result = stepflow.run(single(state, **JSONATA), {"v": 4}, handlers={"fn": fn})
    assert fn.calls == [{"value": 40}]
    assert result.output == {"got": 40, "before": 4}


def test_jsonata_task_default_output_is_the_result():
    state = {"Type": "Task", "Resource": INVOKE, "Arguments": {"FunctionName": "fn", "Payload": {"x": 1}}}
    result = stepflow.run(single(state, **JSONATA), {}, handlers={"fn": lambda e, c: e["x"] + 1})
    assert result.output["Payload"] == 2


def test_jsonata_error_output_in_catch():
    def boom(event, context):
        raise KeyError("missing")

    definition = machine(
        ("Call", {"Type": "Task", "Resource": lambda_arn("fn"), "End": True,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After",
                             "Output": {"err": "{% $states.errorOutput.Error %}", "in": "{% $states.input.k %}"}}]}),
        ("After", {"Type": "Pass", "End": True}),
        **JSONATA,
    )
    result = stepflow.run(definition, {"k": "v"}, handlers={"fn": boom})
    assert result.output == {"err": "KeyError", "in": "v"}


def test_jsonata_context_object():
    state = {"Type": "Pass", "Output": {
        "state": "{% $states.context.State.Name %}",
        "machine": "{% $states.context.StateMachine.Name %}",
        "input": "{% $states.context.Execution.Input %}",
    }}
    result = stepflow.run(single(state, **JSONATA), {"a": 1}, name="exec-1")
    assert result.output == {"state": "S", "machine": "stepflow-run", "input": {"a": 1}}


def test_jsonata_error_in_expression_is_query_evaluation_error():
    state = {"Type": "Pass", "Output": "{% $states.input.a.b.c + 'x' %}"}
    result = stepflow.run(single(state, **JSONATA), {"a": {"b": {"c": 1}}})
    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"
    assert "EvaluationFailed" in [e["type"] for e in result.history]


def test_per_state_query_language_mixes_with_jsonpath():
    definition = machine(
        ("Path", {"Type": "Pass", "Parameters": {"v.$": "$.x"}, "Next": "Ata"}),
        ("Ata", {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input.v * 2 %}", "End": True}),
    )
    assert stepflow.run(definition, {"x": 21}).output == 42


def test_jsonata_map_items_and_item_selector():
    state = {"Type": "Map", "Items": "{% $states.input.xs %}",
             "ItemSelector": {"i": "{% $states.context.Map.Item.Index %}", "v": "{% $states.context.Map.Item.Value %}"},
             "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    result = stepflow.run(single(state, **JSONATA), {"xs": ["a", "b"]})
    assert result.output == [{"i": 0, "v": "a"}, {"i": 1, "v": "b"}]


def test_jsonata_functions_added_by_aws():
    state = {"Type": "Pass", "Output": {
        "range": "{% $range(1, 5, 2) %}",
        "parsed": "{% $parse('{\"a\": 1}') %}",
        "partition": "{% $partition([1, 2, 3, 4], 2) %}",
    }}
    out = stepflow.run(single(state, **JSONATA), {}).output
    assert out == {"range": [1, 3, 5], "parsed": {"a": 1}, "partition": [[1, 2], [3, 4]]}


# -- variables and Assign ------------------------------------------------------------------------


def test_assign_then_read_in_a_later_state():
    definition = machine(
        ("Set", {"Type": "Pass", "Assign": {"count": 3, "name.$": "$.who"}, "Next": "Use"}),
        ("Use", {"Type": "Pass", "Parameters": {"c.$": "$count", "n.$": "$name"}, "End": True}),
    )
    assert stepflow.run(definition, {"who": "ann"}).output == {"c": 3, "n": "ann"}


def test_assign_is_recorded_in_the_exited_event():
    definition = single({"Type": "Pass", "Assign": {"x": {"y": 1}}})
    result = stepflow.run(definition, {})
    exited = details(events_of(result, "PassStateExited")[0])
    assert exited["assignedVariables"] == {"x": '{"y":1}'}
    assert exited["assignedVariablesDetails"] == {"truncated": False}


def test_assign_reads_values_from_before_the_state():
    # Every expression in one Assign sees the variables as they were when the state started.
    definition = machine(
        ("Init", {"Type": "Pass", "Assign": {"a": 1}, "Next": "Swap"}),
        ("Swap", {"Type": "Pass", "Assign": {"a": 2, "b.$": "$a"}, "Next": "Show"}),
        ("Show", {"Type": "Pass", "Parameters": {"a.$": "$a", "b.$": "$b"}, "End": True}),
    )
    assert stepflow.run(definition, {}).output == {"a": 2, "b": 1}


def test_jsonata_assign_sees_states_result():
    definition = machine(
        ("Call", {"Type": "Task", "Resource": lambda_arn("fn"), "Assign": {"got": "{% $states.result.v %}"}, "Next": "Show"}),
        ("Show", {"Type": "Pass", "Output": "{% $got %}", "End": True}),
        **JSONATA,
    )
    assert stepflow.run(definition, {}, handlers={"fn": lambda e, c: {"v": 9}}).output == 9


def test_map_iterations_see_outer_variables():
    processor = {"StartAt": "Inner", "States": {
        "Inner": {"Type": "Pass", "Assign": {"inner": "set"}, "Parameters": {"outer.$": "$outer", "item.$": "$"}, "Next": "Read"},
        "Read": {"Type": "Pass", "Parameters": {"prev.$": "$", "inner.$": "$inner"}, "End": True},
    }}
    definition = machine(
        ("Set", {"Type": "Pass", "Assign": {"outer": "O"}, "Next": "Fan"}),
        ("Fan", {"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": processor, "ResultPath": "$.results", "Next": "After"}),
        ("After", {"Type": "Pass", "Parameters": {"results.$": "$.results", "outer.$": "$outer"}, "End": True}),
    )
    result = stepflow.run(definition, {"xs": [1, 2]})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {
        "results": [{"prev": {"outer": "O", "item": 1}, "inner": "set"}, {"prev": {"outer": "O", "item": 2}, "inner": "set"}],
        "outer": "O",
    }


def test_iteration_assignments_do_not_change_the_outer_variable():
    processor = {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Assign": {"other": "inner"}, "End": True}}}
    definition = machine(
        ("Set", {"Type": "Pass", "Assign": {"other": "outer"}, "Next": "Fan"}),
        ("Fan", {"Type": "Map", "ItemProcessor": processor, "Next": "After"}),
        ("After", {"Type": "Pass", "Parameters": {"v.$": "$other"}, "End": True}),
    )
    assert stepflow.run(definition, [1, 2]).output == {"v": "outer"}


def test_inner_assignment_is_invisible_after_the_map():
    processor = {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Assign": {"leak": 1}, "End": True}}}
    definition = machine(
        ("Fan", {"Type": "Map", "ItemProcessor": processor, "Next": "After"}),
        ("After", {"Type": "Pass", "Parameters": {"v.$": "$leak"}, "End": True}),
    )
    result = stepflow.run(definition, [1])
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"


def test_parallel_branches_see_outer_variables():
    definition = machine(
        ("Set", {"Type": "Pass", "Assign": {"v": 5}, "Next": "Par"}),
        ("Par", {"Type": "Parallel", "Branches": [
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": True}}},
        ], "End": True}),
    )
    assert stepflow.run(definition, {}).output == [{"v": 5}]


def test_map_state_assign_after_iterations_is_visible_later():
    processor = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    definition = machine(
        ("Fan", {"Type": "Map", "ItemProcessor": processor, "Assign": {"n.$": "States.ArrayLength($)"}, "Next": "After"}),
        ("After", {"Type": "Pass", "Parameters": {"n.$": "$n"}, "End": True}),
    )
    assert stepflow.run(definition, [1, 2, 3]).output == {"n": 3}


# -- the context object --------------------------------------------------------------------------


def test_context_object_fields():
    params = {
        "exec_id.$": "$$.Execution.Id", "exec_name.$": "$$.Execution.Name", "exec_input.$": "$$.Execution.Input",
        "start.$": "$$.Execution.StartTime", "role.$": "$$.Execution.RoleArn",
        "sm_id.$": "$$.StateMachine.Id", "sm_name.$": "$$.StateMachine.Name",
        "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime",
    }
    result = stepflow.run(single({"Type": "Pass", "Parameters": params}), {"a": 1}, name="run-42", clock=FakeClock())
    out = result.output
    assert out["exec_id"] == result.execution_arn
    assert out["exec_id"].endswith(":execution:stepflow-run:run-42")
    assert out["exec_name"] == "run-42"
    assert out["exec_input"] == {"a": 1}
    assert out["start"] == "2023-11-14T22:13:20.000Z"
    assert out["entered"] == "2023-11-14T22:13:20.000Z"
    assert out["role"].startswith("arn:aws:iam::")
    assert out["sm_id"] == "arn:aws:states:us-east-1:123456789012:stateMachine:stepflow-run"
    assert out["sm_name"] == "stepflow-run"
    assert out["state"] == "S"


def test_entered_time_follows_virtual_time():
    definition = machine(
        ("W", {"Type": "Wait", "Seconds": 90, "Next": "P"}),
        ("P", {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "End": True}),
    )
    assert stepflow.run(definition, {}, clock=FakeClock()).output == {"t": "2023-11-14T22:14:50.000Z"}


def test_task_sees_context_in_parameters():
    fn = Recorder()
    state = {"Type": "Task", "Resource": lambda_arn("fn"), "Parameters": {"state.$": "$$.State.Name", "exec.$": "$$.Execution.Name"}}
    stepflow.run(single(state), {}, handlers={"fn": fn}, name="abc")
    assert fn.calls == [{"state": "S", "exec": "abc"}]


def test_execution_names_are_uuids_by_default():
    result = stepflow.run(single({"Type": "Pass", "Parameters": {"n.$": "$$.Execution.Name"}}), {})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", result.output["n"])

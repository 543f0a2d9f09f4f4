"""Payload templates (Parameters, ResultSelector, ItemSelector, JSONPath Assign)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepflow.asl.payload import INTRINSIC, PATH, compile_payload_template, expression_kind
from stepflow.errors import RUNTIME, StatesError


def test_the_states_language_specification_example(make_env):
    template = {"flagged": True, "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[3:]"}}
    build = compile_payload_template(template)
    env = make_env({"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]})
    assert build(env) == {"flagged": True, "parts": {"first": 0, "last3": [30, 40, 50]}}


def test_paths_context_variables_and_intrinsics(make_env):
    template = {
        "input.$": "$",
        "name.$": "$$.Execution.Name",
        "var.$": "$counter",
        "list": [1, {"deep.$": "$.a.b"}, "literal $.not.a.path"],
        "text.$": "States.Format('{}-{}', $.a.b, $counter)",
        "plain": {"k": None},
    }
    doc = {"a": {"b": "x"}}
    env = make_env(doc, {"Execution": {"Name": "run-1"}}, {"counter": 3})
    assert compile_payload_template(template)(env) == {
        "input": doc,
        "name": "run-1",
        "var": 3,
        "list": [1, {"deep": "x"}, "literal $.not.a.path"],
        "text": "x-3",
        "plain": {"k": None},
    }


def test_each_evaluation_builds_fresh_containers(make_env):
    build = compile_payload_template({"lit": {"a": [1, 2]}, "arr": [[]], "v.$": "$.v"})
    env = make_env({"v": 1})
    first = build(env)
    first["lit"]["a"].append(3)
    first["arr"][0].append("x")
    assert build(env) == {"lit": {"a": [1, 2]}, "arr": [[]], "v": 1}


def test_a_missing_path_is_awss_runtime_error(make_env):
    # AWS-recorded case INVALID_JSONPATH_IN_STRING_EXPR_JSONPATH
    build = compile_payload_template({"value.$": "$.no_such_jsonpath"})
    with pytest.raises(StatesError) as info:
        build(make_env({"int-literal": 0}))
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be "
        "found in the input '{\"int-literal\":0}'"
    )


def test_a_missing_context_path_prints_the_context_object(make_env):
    build = compile_payload_template({"checkId.$": "$$.Map.Item.Value.checkId"})
    context = {"Execution": {"Name": "e"}, "Map": {"Item": {"Value": {}}}}
    with pytest.raises(StatesError) as info:
        build(make_env({"x": 1}, context))
    assert info.value.cause == (
        "The JSONPath '$$.Map.Item.Value.checkId' specified for the field 'checkId.$' could not "
        "be found in the input '" + json.dumps(context, separators=(",", ":")) + "'"
    )


def test_a_missing_path_inside_an_intrinsic_names_that_path(make_env):
    build = compile_payload_template({"nested": {"h.$": "States.Hash($.missing, 'SHA-256')"}})
    with pytest.raises(StatesError) as info:
        build(make_env({}))
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "The JSONPath '$.missing' specified for the field 'h.$' could not be found in the "
        "input '{}'"
    )


def test_intrinsic_failures_pass_through(make_env):
    build = compile_payload_template({"r.$": "States.ArrayRange(1, 10, 0)"})
    with pytest.raises(StatesError) as info:
        build(make_env({}))
    assert info.value.cause == "Invalid arguments in States.ArrayRange"


@pytest.mark.parametrize(
    "template",
    [
        {"x.$": "not a path"},
        {"x.$": 5},
        {"x.$": None},
        {"outer": [{"x.$": "$.a["}]},
        {"parsed.$": "States.StringToJson('{\"text\":\"An \\\"escaped\\\" quote\"}')"},
        {"x.$": "States.NoSuch()"},
    ],
)
def test_invalid_dollar_fields_are_rejected_at_compile_time(template):
    with pytest.raises(ValueError, match="must be a valid JSONPath or a valid intrinsic"):
        compile_payload_template(template, "ItemSelector")


@pytest.mark.parametrize(
    ("text", "kind"),
    [("$.a", PATH), ("$$.a", PATH), ("$v", PATH), ("States.Array()", INTRINSIC), ("a", None),
     (3, None)],
)
def test_expression_kind(text, kind):
    assert expression_kind(text) == kind


def test_a_non_object_template_is_a_literal(make_env):
    assert compile_payload_template("plain")(make_env({})) == "plain"
    assert compile_payload_template([1, {"a.$": "$.b"}])(make_env({"b": 2})) == [1, {"a": 2}]


# --------------------------------------------------------------------------- properties

LITERALS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4).filter(lambda k: not k.endswith(".$")), inner,
                      max_size=4),
    max_leaves=20,
)


def _containers(value):
    if isinstance(value, (dict, list)):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


@settings(max_examples=200, deadline=None)
@given(LITERALS)
def test_a_literal_template_evaluates_to_an_equal_fresh_copy(make_env, template):
    before = copy.deepcopy(template)
    out = compile_payload_template(template)(make_env({}))
    assert out == template == before
    originals = {id(c) for c in _containers(template)}
    assert not any(id(c) in originals for c in _containers(out))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=3), LITERALS, min_size=1,
                       max_size=5))
def test_dollar_fields_read_the_input(make_env, doc):
    template = {f"{key}.$": f"$['{key}']" for key in doc}
    assert compile_payload_template(template)(make_env(doc)) == doc

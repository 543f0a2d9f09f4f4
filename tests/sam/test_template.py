"""Globals merging and Parameters (stepflow.sam.template): SAM's merge rules, the Globals
SAM rejects, IgnoreGlobals, parameter values, constraints and --parameter-overrides syntax."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepflow.errors import TemplateError
from stepflow.sam import parse_parameter_overrides
from stepflow.sam.template import merge_globals, parameter_values

FUNCTION = """
Globals:
  Function:
    Handler: app.handler
    Timeout: 20
    Environment:
      Variables: {A: global-a, B: global-b}
    Tags: {team: data}
Resources:
  Plain:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/}
  Own:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: other.handler
      Timeout: !Ref Seconds
      Environment:
        Variables: {B: own-b, C: own-c}
  Ignoring:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [Timeout]
    Properties: {CodeUri: src/}
Parameters:
  Seconds: {Type: Number, Default: 7}
"""


def test_globals_fill_in_and_the_resource_wins(load):
    project = load(FUNCTION, files={"src/app.py": "", "src/other.py": ""})
    plain, own, ignoring = project.functions
    assert (plain.handler, plain.timeout) == ("app.handler", 20)
    assert plain.environment == {"A": "global-a", "B": "global-b"}
    assert (own.handler, own.timeout) == ("other.handler", 7)  # an intrinsic replaces the global value
    assert own.environment == {"A": "global-a", "B": "own-b", "C": "own-c"}  # maps are merged
    assert ignoring.timeout == 3  # IgnoreGlobals: Lambda's default again


def test_merge_rules():
    assert merge_globals({"L": [1, 2], "M": {"a": 1}, "P": "g"}, {"L": [3], "M": {"b": 2}, "P": "l"}) == \
        {"L": [1, 2, 3], "M": {"a": 1, "b": 2}, "P": "l"}
    assert merge_globals({"X": {"a": 1}}, {"X": {"Ref": "Param"}}) == {"X": {"Ref": "Param"}}
    assert merge_globals({"X": [1]}, {"X": {"a": 1}}) == {"X": {"a": 1}}  # different kinds: local wins


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                           max_leaves=10)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_merging_with_empty_globals_keeps_the_resource(props):
    assert merge_globals({}, props) == props


@pytest.mark.parametrize("globals_text, message", [
    ("Function: {FunctionName: x}", "Globals/Function/FunctionName: 'FunctionName' is not a supported property of 'Function'"),
    ("Function: {Events: {}}", "Globals/Function/Events"),
    ("StateMachine: {Type: EXPRESS}", "Globals/StateMachine/Type: 'Type' is not a supported property of 'StateMachine'"),
    ("Queue: {Foo: 1}", "Globals/Queue: not a Globals section SAM supports"),
])
def test_globals_sam_rejects(load, globals_text, message):
    with pytest.raises(TemplateError, match=message):
        load(f"Globals:\n  {globals_text}\nResources:\n  T: {{Type: AWS::SNS::Topic}}\n")


def test_state_machine_globals_are_accepted(load):
    project = load("Globals:\n  StateMachine: {PropagateTags: true}\nResources:\n  T: {Type: AWS::SNS::Topic}\n")
    assert [t.name for t in project.topics] == ["T"]


# -- parameters -------------------------------------------------------------------------------------


PARAMETERS = {
    "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Size": {"Type": "Number", "Default": 5, "MinValue": 1, "MaxValue": 10},
    "Prefix": {"Type": "String", "Default": "ab", "AllowedPattern": "[a-z]+", "MaxLength": 4,
               "ConstraintDescription": "lower-case letters"},
    "Subnets": {"Type": "CommaDelimitedList", "Default": "s1, s2"},
    "Ports": {"Type": "List<Number>", "Default": "80,443"},
}


def values(overrides=None, **extra):
    return parameter_values({"Parameters": {**PARAMETERS, **extra}}, overrides)


def test_defaults_and_overrides():
    assert values() == {"Stage": "dev", "Size": "5", "Prefix": "ab", "Subnets": ["s1", "s2"], "Ports": ["80", "443"]}
    assert values({"Stage": "prod", "Size": "10", "Subnets": "x"}) == {
        "Stage": "prod", "Size": "10", "Prefix": "ab", "Subnets": ["x"], "Ports": ["80", "443"]}


@pytest.mark.parametrize("overrides, message", [
    ({"Stage": "test"}, r"Parameters/Stage: 'test' is not one of the AllowedValues \['dev', 'prod'\]"),
    ({"Size": "11"}, "Parameters/Size: 11 is greater than MaxValue 10"),
    ({"Size": "0"}, "Parameters/Size: 0 is less than MinValue 1"),
    ({"Size": "many"}, "Parameters/Size: 'many' is not a number"),
    ({"Prefix": "AB"}, r"Parameters/Prefix: 'AB' does not match the AllowedPattern \[a-z\]\+ \(lower-case letters\)"),
    ({"Prefix": "abcde"}, r"Parameters/Prefix: 'abcde' is longer than MaxLength 4 \(lower-case letters\)"),
    ({"Ports": "80,http"}, "Parameters/Ports: 'http' is not a number"),
    ({"Colour": "red"}, "Parameters: Colour given as override but not declared in the template"),
])
def test_constraint_errors_name_the_parameter(overrides, message):
    with pytest.raises(TemplateError, match=f"^{message}$"):
        values(overrides)


def test_a_parameter_without_a_value_is_an_error():
    with pytest.raises(TemplateError, match=r"Parameters/Bucket: no value .*--parameter-overrides Bucket=VALUE"):
        values(Bucket={"Type": "String"})
    assert values({"Bucket": "b"}, Bucket={"Type": "String"})["Bucket"] == "b"


def test_ssm_parameters_need_an_override():
    ssm = {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/db-url"}
    with pytest.raises(TemplateError, match="Parameters/Db: type AWS::SSM::Parameter::Value<String> is read from SSM"):
        values(Db=ssm)
    assert values({"Db": "postgres://x"}, Db=ssm)["Db"] == "postgres://x"


@pytest.mark.parametrize("items, expected", [
    (["Stage=prod"], {"Stage": "prod"}),
    (["Stage=prod Size=3"], {"Stage": "prod", "Size": "3"}),
    (["Stage=prod", "Size=3"], {"Stage": "prod", "Size": "3"}),
    (['Greeting="hello world" Empty='], {"Greeting": "hello world", "Empty": ""}),
    (["ParameterKey=Stage,ParameterValue=prod"], {"Stage": "prod"}),
    (["Url=http://x/?a=b"], {"Url": "http://x/?a=b"}),
    ("Stage=prod", {"Stage": "prod"}),
])
def test_parameter_overrides_syntax(items, expected):
    assert parse_parameter_overrides(items) == expected


def test_parameter_overrides_need_key_and_value():
    with pytest.raises(TemplateError, match="parameter override 'Stage': expected Key=Value"):
        parse_parameter_overrides(["Stage"])

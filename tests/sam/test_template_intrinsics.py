"""Intrinsic functions and conditions resolved to local values (stepflow.sam.intrinsics),
written with CloudFormation's short YAML tags as users write them."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepflow.errors import TemplateError
from stepflow.sam.intrinsics import Resolver
from stepflow.sam.template import load_yaml, parameter_values

RESOURCES = """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: !Sub "fn-${Stage}", Handler: app.h}
  LegacyFn:
    Type: AWS::Lambda::Function
    Properties: {Handler: app.h, Code: src/}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties: {Name: orders}
  CfnMachine:
    Type: AWS::StepFunctions::StateMachine
  Topic:
    Type: AWS::SNS::Topic
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: jobs}
  Job:
    Type: AWS::Glue::Job
  Bucket:
    Type: AWS::S3::Bucket
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: orders-table}
  Activity:
    Type: AWS::StepFunctions::Activity
    Properties: {Name: approve}
  ProdQueue:
    Type: AWS::SQS::Queue
    Condition: IsProd
Parameters:
  Stage: {Type: String, Default: dev}
  Zones: {Type: CommaDelimitedList, Default: "a, b,c"}
  Count: {Type: Number, Default: 3}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  DevAndThree: !And [!Condition IsDev, !Equals [!Ref Count, "3"]]
  ProdOrThree: !Or [!Condition IsProd, !Equals ["3", !Ref Count]]
  Loop: !Not [!Condition Loop]
Mappings:
  Sizes:
    dev: {Memory: 256}
"""


def resolver(overrides: dict | None = None) -> Resolver:
    template = load_yaml(RESOURCES)
    return Resolver(template, parameter_values(template, overrides), "eu-west-1", "111122223333")


def resolve(expression: str, overrides: dict | None = None):
    """The value of a YAML expression (short tags allowed) against RESOURCES."""
    return resolver(overrides).value(load_yaml(textwrap.dedent(expression)), "Outputs/X/Value")


# -- Ref and Fn::GetAtt -----------------------------------------------------------------------------


@pytest.mark.parametrize("expression, expected", [
    ("!Ref Fn", "fn-dev"),
    ("!Ref LegacyFn", "LegacyFn"),
    ("!Ref Machine", "arn:aws:states:eu-west-1:111122223333:stateMachine:orders"),
    ("!Ref CfnMachine", "arn:aws:states:eu-west-1:111122223333:stateMachine:CfnMachine"),
    ("!Ref Topic", "arn:aws:sns:eu-west-1:111122223333:Topic"),
    ("!Ref Queue", "https://sqs.eu-west-1.amazonaws.com/111122223333/jobs"),
    ("!Ref Job", "Job"),
    ("!Ref Bucket", "bucket"),
    ("!Ref Table", "orders-table"),
    ("!Ref Activity", "arn:aws:states:eu-west-1:111122223333:activity:approve"),
    ("!Ref Stage", "dev"),
    ("!Ref Count", "3"),  # Number parameters are strings to Ref, as in CloudFormation
    ("!Ref Zones", ["a", "b", "c"]),
    ("!Ref AWS::Region", "eu-west-1"),
    ("!Ref AWS::AccountId", "111122223333"),
    ("!Ref AWS::Partition", "aws"),
    ("!Ref FnRole", "FnRole"),  # SAM's generated role
])
def test_ref(expression, expected):
    assert resolve(expression) == expected


@pytest.mark.parametrize("expression, expected", [
    ("!GetAtt Fn.Arn", "arn:aws:lambda:eu-west-1:111122223333:function:fn-dev"),
    ("!GetAtt LegacyFn.Arn", "arn:aws:lambda:eu-west-1:111122223333:function:LegacyFn"),
    ("!GetAtt Machine.Arn", "arn:aws:states:eu-west-1:111122223333:stateMachine:orders"),
    ("!GetAtt Machine.Name", "orders"),
    ("!GetAtt Topic.TopicArn", "arn:aws:sns:eu-west-1:111122223333:Topic"),
    ("!GetAtt Topic.TopicName", "Topic"),
    ("!GetAtt Queue.Arn", "arn:aws:sqs:eu-west-1:111122223333:jobs"),
    ("!GetAtt Queue.QueueName", "jobs"),
    ("!GetAtt Queue.QueueUrl", "https://sqs.eu-west-1.amazonaws.com/111122223333/jobs"),
    ("!GetAtt Table.Arn", "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-table"),
    ("!GetAtt Bucket.Arn", "arn:aws:s3:::bucket"),
    ("!GetAtt FnRole.Arn", "arn:aws:iam::111122223333:role/FnRole"),
    ("{'Fn::GetAtt': [Machine, Arn]}", "arn:aws:states:eu-west-1:111122223333:stateMachine:orders"),
])
def test_get_att(expression, expected):
    assert resolve(expression) == expected


def test_names_follow_parameter_overrides():
    assert resolve("!GetAtt Fn.Arn", {"Stage": "prod"}) == "arn:aws:lambda:eu-west-1:111122223333:function:fn-prod"


def test_unknown_ref_names_the_logical_id():
    with pytest.raises(TemplateError, match=r"^Outputs/X/Value: Ref to unknown resource or parameter 'Nope'$"):
        resolve("!Ref Nope")


def test_unknown_attribute_names_resource_and_attribute():
    with pytest.raises(TemplateError, match=r"Fn::GetAtt Queue\.Colour: AWS::SQS::Queue has no attribute 'Colour'"):
        resolve("!GetAtt Queue.Colour")


def test_ref_to_a_resource_its_condition_leaves_out_is_an_error():
    with pytest.raises(TemplateError, match="'ProdQueue', which its Condition IsProd leaves out"):
        resolve("!Ref ProdQueue")
    assert resolve("!Ref ProdQueue", {"Stage": "prod"}).endswith("/ProdQueue")


# -- Fn::Sub -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("expression, expected", [
    ('!Sub "${Stage}-${AWS::Region}"', "dev-eu-west-1"),
    ('!Sub "arn is ${Machine.Arn}"', "arn is arn:aws:states:eu-west-1:111122223333:stateMachine:orders"),
    ('!Sub "queue ${Queue}"', "queue https://sqs.eu-west-1.amazonaws.com/111122223333/jobs"),
    ('!Sub "${!Literal} and ${Stage}"', "${Literal} and dev"),
    ('!Sub ["${Greeting}, ${Stage}", {Greeting: hello}]', "hello, dev"),
    ('!Sub ["${Name}", {Name: !GetAtt Topic.TopicName}]', "Topic"),
    ('!Sub "no placeholders"', "no placeholders"),
])
def test_sub(expression, expected):
    assert resolve(expression) == expected


def test_sub_with_an_unknown_name_fails_with_the_name():
    with pytest.raises(TemplateError, match="unknown resource or parameter 'Missing'"):
        resolve('!Sub "x-${Missing}"')


@given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=40))
def test_sub_without_placeholders_is_the_identity(text):
    assert resolver().value({"Fn::Sub": text}, "X") == text


# -- Join, Select, Split, FindInMap, If, and friends ----------------------------------------------------


@pytest.mark.parametrize("expression, expected", [
    ('!Join ["-", [a, !Ref Stage, !GetAtt Topic.TopicName]]', "a-dev-Topic"),
    ('!Join [",", !Ref Zones]', "a,b,c"),
    ("!Select [1, !Ref Zones]", "b"),
    ('!Select ["0", [x, y]]', "x"),
    ('!Split [":", "a:b:c"]', ["a", "b", "c"]),
    ('!Select [3, !Split ["/", !Ref Queue]]', "111122223333"),
    ("!FindInMap [Sizes, !Ref Stage, Memory]", 256),
    ("!If [IsProd, big, small]", "small"),
    ("!If [IsDev, !Ref Stage, !Ref AWS::NoValue]", "dev"),
    ("!Base64 abc", "YWJj"),
    ("!GetAZs ''", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("{A: !If [IsProd, x, !Ref AWS::NoValue], B: 1}", {"B": 1}),
    ("[a, !If [IsProd, b, !Ref AWS::NoValue], c]", ["a", "c"]),
])
def test_functions(expression, expected):
    assert resolve(expression) == expected


@given(st.text(alphabet="ab,:-", max_size=30), st.sampled_from([",", ":", "-"]))
def test_join_undoes_split(text, delimiter):
    r = resolver()
    assert r.value({"Fn::Join": [delimiter, {"Fn::Split": [delimiter, text]}]}, "X") == text


@pytest.mark.parametrize("expression, message", [
    ("!Select [3, [a, b]]", "Fn::Select index 3 is out of range for 2 values"),
    ("!FindInMap [Sizes, prod, Memory]", "Mappings/Sizes/prod/Memory does not exist"),
    ("!If [NoSuch, a, b]", "unknown condition 'NoSuch'"),
    ("!ImportValue shared-vpc", "values exported by other stacks are not available locally"),
    ("{'Fn::Bogus': 1}", "unknown intrinsic function Fn::Bogus"),
    ("!Join [',', !Ref Stage]", "Fn::Join needs a list of values"),
])
def test_function_errors(expression, message):
    with pytest.raises(TemplateError, match=message):
        resolve(expression)


# -- conditions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage, count, expected", [
    ("dev", "3", {"IsProd": False, "IsDev": True, "DevAndThree": True, "ProdOrThree": True}),
    ("dev", "4", {"IsProd": False, "IsDev": True, "DevAndThree": False, "ProdOrThree": False}),
    ("prod", "4", {"IsProd": True, "IsDev": False, "DevAndThree": False, "ProdOrThree": True}),
])
def test_conditions(stage, count, expected):
    r = resolver({"Stage": stage, "Count": count})
    assert {name: r.condition(name, "X") for name in expected} == expected


def test_a_condition_that_depends_on_itself_is_reported():
    with pytest.raises(TemplateError, match="Conditions/Loop: the condition depends on itself"):
        resolver().condition("Loop", "X")

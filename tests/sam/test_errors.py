"""Every template problem is a TemplateError that names the resource and the property."""

from __future__ import annotations

import pytest

from stepflow.errors import TemplateError

from sam_helpers import PASS

MACHINE = """
Resources:
  OrdersMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
{props}
"""


def machine(props: str) -> str:
    return MACHINE.format(props="\n".join(f"      {line}" for line in props.strip().splitlines()))


def raises(load, template: str, message: str, files: dict | None = None) -> str:
    with pytest.raises(TemplateError) as raised:
        load(template, files=files)
    assert message in str(raised.value)
    return str(raised.value)


def test_missing_definition_file(load):
    text = raises(load, machine("DefinitionUri: statemachines/missing.json"), "")
    assert text == "Resources/OrdersMachine/Properties/DefinitionUri: file statemachines/missing.json not found"


def test_invalid_definition_gives_the_resource_and_the_validator_diagnostics(load):
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    text = raises(load, machine("DefinitionUri: sm.asl.json"), "Resources/OrdersMachine/Properties/DefinitionUri: "
                  "invalid state machine definition in sm.asl.json:", files={"sm.asl.json": bad})
    assert "MISSING_TRANSITION_TARGET" in text and "/States/A/Next" in text


def test_invalid_inline_definition(load):
    text = raises(load, machine("Definition: {StartAt: Missing, States: {A: {Type: Succeed}}}"),
                  "Resources/OrdersMachine/Properties/Definition: invalid state machine definition:")
    assert "/StartAt" in text


def test_express_only_rules_use_the_declared_type(load):
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}}
    raises(load, machine("Type: EXPRESS\nDefinitionUri: sm.json"), "Resources/OrdersMachine/Properties/DefinitionUri",
           files={"sm.json": definition})
    load(machine("Type: STANDARD\nDefinitionUri: sm.json"), files={"sm.json": definition})


def test_definition_file_that_is_not_json(load):
    raises(load, machine("DefinitionUri: sm.json"), "Resources/OrdersMachine/Properties/DefinitionUri: sm.json is not valid JSON",
           files={"sm.json": "{not json"})


@pytest.mark.parametrize("props, message", [
    ("Definition: {StartAt: P}\nDefinitionUri: x.json", "Resources/OrdersMachine/Properties: give Definition or DefinitionUri, not both"),
    ("Type: STANDARD", "Resources/OrdersMachine/Properties: one of Definition or DefinitionUri is required"),
    ("Type: FAST\nDefinitionUri: sm.json", "Resources/OrdersMachine/Properties/Type: 'FAST' is not STANDARD or EXPRESS"),
    ("DefinitionUri: s3://bucket/sm.json", "Resources/OrdersMachine/Properties/DefinitionUri: s3://bucket/sm.json is in S3"),
    ("DefinitionUri: {Bucket: b, Key: k.json}", "Resources/OrdersMachine/Properties/DefinitionUri: s3://b/k.json is in S3"),
    ("Name: has space\nDefinitionUri: sm.json", "Resources/OrdersMachine/Properties/Name: 'has space' has a character"),
    ("DefinitionUri: sm.json\nDefinitionSubstitutions: {A: [1, 2]}",
     "Resources/OrdersMachine/Properties/DefinitionSubstitutions/A: expected a string"),
    ("DefinitionUri: sm.json\nDefinitionSubstitutions: {A: !Ref Missing}",
     "Resources/OrdersMachine/Properties/DefinitionSubstitutions/A: Ref to unknown resource or parameter 'Missing'"),
])
def test_state_machine_property_errors(load, props, message):
    raises(load, machine(props), message, files={"sm.json": PASS})


def test_unknown_ref_in_a_property_stepflow_does_not_read_is_still_reported(load):
    raises(load, machine("DefinitionUri: sm.json\nPolicies:\n  - SQSSendMessagePolicy: {QueueName: !GetAtt Queu.QueueName}"),
           "Resources/OrdersMachine/Properties/Policies/0/SQSSendMessagePolicy/QueueName: Fn::GetAtt of unknown resource 'Queu'",
           files={"sm.json": PASS})


@pytest.mark.parametrize("template, message", [
    ("Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: app, CodeUri: src}}",
     "Resources/F/Properties/Handler: a Python handler 'module.function' is required, got 'app'"),
    ("Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: app.h, CodeUri: nowhere/}}",
     "Resources/F/Properties/CodeUri: folder nowhere/ not found"),
    ("Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: app.h, CodeUri: src, Timeout: soon}}",
     "Resources/F/Properties/Timeout: expected an integer, got 'soon'"),
    ("Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Handler: app.h, CodeUri: src, Events: {S: {Type: SNS, Properties: {Topic: arn:aws:sns:us-east-1:1:other}}}}}",
     "Resources/F/Properties/Events: topic arn:aws:sns:us-east-1:1:other is not a topic of this template"),
    ("Resources:\n  T: {Type: AWS::SNS::Topic, Properties: {Subscription: [{Protocol: pigeon, Endpoint: x}]}}",
     "Resources/T/Properties/Subscription/0/Protocol: 'pigeon' is not one of"),
    ("Resources:\n  T: {Type: AWS::SNS::Topic, Properties: {Subscription: [{Protocol: https, Endpoint: 'http://x'}]}}",
     "Resources/T/Properties/Subscription/0/Endpoint: 'http://x' is not an https:// URL"),
    ("Resources:\n  T: {Type: AWS::SNS::Topic, Properties: {TopicName: t, FifoTopic: true}}",
     "Resources/T/Properties/TopicName: the name of a FIFO topic must end with .fifo, got 't'"),
    ("Resources:\n  S: {Type: AWS::SNS::Subscription, Properties: {TopicArn: arn:aws:sns:us-east-1:1:x, Protocol: email, Endpoint: a@b}}",
     "Resources/S/Properties/TopicArn: 'arn:aws:sns:us-east-1:1:x' is not a topic of this template"),
    ("Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {QueueName: 'bad name'}}",
     "Resources/Q/Properties/QueueName: 'bad name' is not a valid queue name"),
    ("Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {FifoQueue: maybe}}",
     "Resources/Q/Properties/FifoQueue: expected true or false, got 'maybe'"),
    ("Resources:\n  J: {Type: AWS::Glue::Job, Properties: {Command: {Name: glueetl}}}",
     "Resources/J/Properties/Command/ScriptLocation: a Glue job needs Command.ScriptLocation"),
    ("Resources:\n  J: {Type: AWS::Glue::Job, Properties: {Command: {ScriptLocation: jobs/none.py}}}",
     "Resources/J/Properties/Command/ScriptLocation: script jobs/none.py not found"),
    ("Resources:\n  X: {Properties: {}}", "Resources/X/Type: every resource needs a Type"),
    ("Resources:\n  X: {Type: AWS::SNS::Topic, Condition: Nope}", "Resources/X/Condition: unknown condition 'Nope'"),
    ("Resources:\n  X: {Type: AWS::SNS::Topic, DependsOn: [Y]}", "Resources/X/DependsOn: unknown resource 'Y'"),
    ("Resources:\n  X: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub '${Nope}-t'}}",
     "Resources/X/Properties/TopicName: Fn::Sub placeholder ${Nope} names no parameter, resource or variable"),
    ("Resources:\n  X: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Value: !Ref Y}", "Outputs/O/Value: Ref to unknown resource or parameter 'Y'"),
    ("Conditions:\n  C: !Equals [a]\nResources:\n  X: {Type: AWS::SNS::Topic, Condition: C}", "Conditions/C: Fn::Equals needs two values"),
    ("Conditions:\n  C: !Ref Stage\nParameters: {Stage: {Type: String, Default: a}}\nResources:\n  X: {Type: AWS::SNS::Topic, Condition: C}",
     "Conditions/C: a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition"),
    ("Resources:\n  X: {Type: AWS::SNS::Topic, Properties: [1]}", "Resources/X/Properties: must be a map"),
    ("Resources: {}\nGlobals: [1]", "Globals: must be a map"),
])
def test_resource_property_errors(load, template, message):
    raises(load, template, message, files={"src/app.py": "def h(e, c):\n    return e\n"})


def test_yaml_errors_and_missing_resources(project_dir, tmp_path):
    from stepflow.sam import load_project

    with pytest.raises(TemplateError, match="is not valid YAML"):
        load_project(project_dir("Resources: [\n"))
    with pytest.raises(TemplateError, match="has no Resources section"):
        load_project(project_dir("Description: nothing\n"))
    with pytest.raises(TemplateError, match="Cannot read template"):
        load_project(tmp_path / "absent.yaml")

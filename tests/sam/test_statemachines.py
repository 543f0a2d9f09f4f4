"""State machine resources: inline Definition with intrinsics, DefinitionString, the plain
CloudFormation resource, DefinitionSubstitutions semantics, and schedules' properties."""

from __future__ import annotations

import json

import pytest

from stepflow.errors import TemplateError

from sam_helpers import PASS

TASK_DEF = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${FnArn}", "End": True}}}


def test_inline_definition_with_intrinsics_and_substitutions(load):
    project = load("""
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Handler: app.h, CodeUri: .}
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              Type: EXPRESS
              DefinitionSubstitutions:
                Target: !GetAtt Fn.Arn
                Greeting: hello
              Definition:
                StartAt: Call
                States:
                  Call:
                    Type: Task
                    Resource: arn:aws:states:::lambda:invoke
                    Parameters:
                      FunctionName: ${Target}
                      Region: !Ref AWS::Region
                    Next: ${Greeting}
                  ${Greeting}:
                    Type: Succeed
        """)
    (machine,) = project.state_machines
    assert machine.type == "EXPRESS" and machine.source is None
    call = machine.definition["States"]["Call"]
    assert call["Parameters"] == {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:Fn", "Region": "us-east-1"}
    assert call["Next"] == "hello" and "hello" in machine.definition["States"]  # keys are substituted too


def test_substitution_is_one_pass_and_unknown_placeholders_stay_with_a_warning(load):
    project = load("""
        Resources:
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: sm.json
              DefinitionSubstitutions:
                A: "${B}"
                B: bee
        """, files={"sm.json": {"Comment": "${A} ${B} ${C}", **PASS}})
    assert project.state_machines[0].definition["Comment"] == "${B} bee ${C}"
    assert any("no value for ${C}" in w and "Resources/Machine/Properties/DefinitionSubstitutions" in w
               for w in project.warnings)


def test_file_substitution_happens_in_the_text_so_unquoted_numbers_work(load):
    text = '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": ${Delay}, "End": true}}}'
    project = load("""
        Resources:
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: sm.json
              DefinitionSubstitutions: {Delay: 30}
        """, files={"sm.json": text})
    assert project.state_machines[0].definition["States"]["W"]["Seconds"] == 30


def test_cloudformation_state_machine_with_definition_string(load):
    project = load("""
        Parameters:
          Stage: {Type: String, Default: dev}
        Resources:
          Machine:
            Type: AWS::StepFunctions::StateMachine
            Properties:
              StateMachineName: !Sub "etl-${Stage}"
              StateMachineType: EXPRESS
              RoleArn: arn:aws:iam::123456789012:role/etl
              DefinitionString: !Sub |
                {"Comment": "${Stage} via ${!Suffix} and ${!Literal}", "StartAt": "P",
                 "States": {"P": {"Type": "Pass", "End": true}}}
              DefinitionSubstitutions: {Suffix: end}
        """)
    (machine,) = project.state_machines
    assert (machine.name, machine.type, machine.role_arn) == ("etl-dev", "EXPRESS", "arn:aws:iam::123456789012:role/etl")
    assert machine.definition["Comment"] == "dev via end and ${Literal}"  # Fn::Sub first, then substitutions
    assert machine.arn == "arn:aws:states:us-east-1:123456789012:stateMachine:etl-dev"


def test_cloudformation_state_machine_with_a_local_definition_s3_location(load):
    project = load("""
        Resources:
          Machine:
            Type: AWS::StepFunctions::StateMachine
            Properties:
              RoleArn: !GetAtt MachineRole.Arn
              DefinitionS3Location: defs/machine.asl.json
          MachineRole:
            Type: AWS::IAM::Role
        """, files={"defs/machine.asl.json": PASS})
    assert project.state_machines[0].definition == PASS
    assert project.state_machines[0].role_arn == "arn:aws:iam::123456789012:role/MachineRole"


def test_cloudformation_state_machine_with_inline_definition(load):
    project = load("""
        Resources:
          Machine:
            Type: AWS::StepFunctions::StateMachine
            Properties:
              Definition:
                StartAt: P
                States: {P: {Type: Pass, Result: !Ref AWS::AccountId, End: true}}
        """)
    assert project.state_machines[0].definition["States"]["P"]["Result"] == "123456789012"
    assert project.state_machines[0].type == "STANDARD"


def test_schedule_properties(load):
    project = load("""
        Resources:
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}
              Events:
                Off:
                  Type: Schedule
                  Properties: {Schedule: rate(5 minutes), Enabled: false, Name: five}
                Once:
                  Type: ScheduleV2
                  Properties:
                    ScheduleExpression: at(2030-01-01T00:00:00)
                    Input: {day: one}
                    StartDate: "2029-12-31T00:00:00Z"
                Api:
                  Type: Api
                  Properties: {Path: /go, Method: post}
        """)
    off, once = project.schedules
    assert (off.name, off.expression, off.enabled, off.input) == ("five", "rate(5 minutes)", False, None)
    assert (once.name, once.expression, once.enabled) == ("MachineOnce", "at(2030-01-01T00:00:00)", True)
    assert json.loads(once.input) == {"day": "one"} and once.start_date == "2029-12-31T00:00:00Z"
    assert any("Events/Api: event type Api is not run locally" in w for w in project.warnings)


@pytest.mark.parametrize("event, message", [
    ("{Type: Schedule, Properties: {Schedule: at(2030-01-01T00:00:00)}}",
     r"Events/E/Properties/Schedule: 'at\(2030-01-01T00:00:00\)' is not a cron\(...\) or rate\(...\) expression"),
    ("{Type: ScheduleV2, Properties: {ScheduleExpression: every hour}}", "Events/E/Properties/ScheduleExpression: 'every hour'"),
    ("{Type: Schedule, Properties: {}}", "Events/E/Properties/Schedule: a Schedule event needs Schedule"),
    ("{Type: Schedule, Properties: {Schedule: rate(1 hour), Input: '{bad'}}", "Events/E/Properties/Input: not valid JSON"),
    ("{Type: Schedule, Properties: {Schedule: rate(1 hour), Enabled: true, State: ENABLED}}",
     "Events/E/Properties: give Enabled or State, not both"),
    ("{Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 hour), State: PAUSED}}",
     "Events/E/Properties/State: 'PAUSED' is not ENABLED or DISABLED"),
])
def test_schedule_errors_name_the_event_and_property(load, event, message):
    with pytest.raises(TemplateError, match=f"^Resources/M/Properties/{message}"):
        load(f"""
            Resources:
              M:
                Type: AWS::Serverless::StateMachine
                Properties:
                  Definition: {{StartAt: P, States: {{P: {{Type: Pass, End: true}}}}}}
                  Events:
                    E: {event}
            """)

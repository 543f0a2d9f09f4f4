"""Functions, topics, queues and Glue jobs outside the fixture's happy path: plain
AWS::Lambda::Function, functions left out with a warning, Glue script locations, FIFO defaults."""

from __future__ import annotations

import pytest

APP = {"src/app.py": "def h(event, context):\n    return event\n"}


def test_plain_lambda_function_with_local_code(load):
    project = load("""
        Resources:
          Legacy:
            Type: AWS::Lambda::Function
            Properties:
              FunctionName: legacy
              Handler: app.h
              Runtime: python3.11
              Code: src/
              MemorySize: 512
              Timeout: 60
              ReservedConcurrentExecutions: 2
              Environment: {Variables: {FLAG: true, RATIO: 1.5}}
        """, files=APP)
    (fn,) = project.functions
    assert (fn.name, fn.runtime, fn.memory_size, fn.timeout, fn.reserved_concurrency) == ("legacy", "python3.11", 512, 60, 2)
    assert fn.environment == {"FLAG": "true", "RATIO": "1.5"}  # CloudFormation's text for booleans and numbers


@pytest.mark.parametrize("props, warning", [
    ("{Handler: index.h, Runtime: nodejs20.x, CodeUri: src/}", "Runtime: nodejs20.x functions are not run locally"),
    ("{PackageType: Image, ImageUri: repo:tag}", "PackageType: container image functions are not run locally"),
    ("{Handler: app.h, CodeUri: s3://bucket/code.zip}", "CodeUri: code in S3 or inline"),
    ("{Handler: app.h, CodeUri: {Bucket: b, Key: k}}", "CodeUri: code in S3 or inline (Bucket, Key)"),
    ("{Handler: index.h, InlineCode: 'def h(e, c): pass'}", "InlineCode: inline code is not run locally"),
])
def test_functions_stepflow_cannot_run_are_left_out_with_a_warning(load, props, warning):
    project = load(f"Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {props}\n", files=APP)
    assert project.functions == ()
    assert any(w.startswith("Resources/F/Properties/") and warning in w for w in project.warnings), project.warnings


def test_a_left_out_function_can_still_be_referenced(load):
    project = load("""
        Resources:
          Node:
            Type: AWS::Serverless::Function
            Properties: {Handler: index.h, Runtime: nodejs20.x, CodeUri: src/}
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition: {StartAt: P, States: {P: {Type: Pass, Result: !GetAtt Node.Arn, End: true}}}
        """, files=APP)
    assert project.state_machines[0].definition["States"]["P"]["Result"].endswith(":function:Node")


@pytest.mark.parametrize("location", ["jobs/etl.py", "file://jobs/etl.py"])
def test_glue_script_is_a_local_path_or_file_url(load, tmp_path, location):
    project = load(f"""
        Resources:
          Job:
            Type: AWS::Glue::Job
            Properties:
              Command: {{Name: pythonshell, ScriptLocation: "{location}"}}
              MaxRetries: 1
        """, files={"jobs/etl.py": "print('hi')\n"})
    (job,) = project.glue_jobs
    assert (job.name, job.script, job.command_name, job.max_retries) == ("Job", tmp_path / "jobs" / "etl.py", "pythonshell", 1)
    assert (job.max_concurrent_runs, job.timeout_minutes, job.default_arguments) == (1, None, {})


def test_glue_script_in_s3_is_left_out_unless_metadata_names_a_local_copy(load, tmp_path):
    template = """
        Resources:
          Job:
            Type: AWS::Glue::Job
            {metadata}
            Properties:
              Command: {{ScriptLocation: !Sub "s3://${{AWS::AccountId}}-scripts/etl.py"}}
        """
    project = load(template.format(metadata=""))
    assert project.glue_jobs == ()
    assert any("Resources/Job/Properties/Command/ScriptLocation: s3://123456789012-scripts/etl.py is in S3" in w
               for w in project.warnings)
    project = load(template.format(metadata="Metadata: {stepflow: {ScriptLocation: jobs/etl.py}}"),
                   files={"jobs/etl.py": ""})
    assert project.glue_jobs[0].script == tmp_path / "jobs" / "etl.py"


def test_fifo_topic_and_queue_names(load):
    project = load("""
        Resources:
          Events: {Type: AWS::SNS::Topic, Properties: {FifoTopic: true}}
          Named: {Type: AWS::SQS::Queue, Properties: {FifoQueue: "true", QueueName: jobs.fifo}}
        """)
    assert (project.topics[0].name, project.topics[0].fifo) == ("Events.fifo", True)
    assert project.queues[0].url == "https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo"


def test_subscription_filter_policy_as_json_text_and_stepflow_file_protocol(load):
    project = load("""
        Resources:
          T:
            Type: AWS::SNS::Topic
            Properties:
              Subscription: [{Protocol: file, Endpoint: out/messages.jsonl}]
          S:
            Type: AWS::SNS::Subscription
            Properties:
              TopicArn: !Ref T
              Protocol: sqs
              Endpoint: !GetAtt Q.Arn
              FilterPolicy: '{"kind": ["a"]}'
              FilterPolicyScope: MessageBody
          Q: {Type: AWS::SQS::Queue}
        """)
    file_sub, sqs_sub = project.topics[0].subscriptions
    assert (file_sub.protocol, file_sub.endpoint) == ("file", "out/messages.jsonl")
    assert (sqs_sub.endpoint, sqs_sub.filter_policy, sqs_sub.filter_policy_scope) == \
        ("arn:aws:sqs:us-east-1:123456789012:Q", {"kind": ["a"]}, "MessageBody")


def test_resources_whose_condition_is_false_are_left_out_everywhere(load):
    template = """
        Parameters:
          WithAlerts: {Type: String, Default: "no", AllowedValues: ["yes", "no"]}
        Conditions:
          Alerts: !Equals [!Ref WithAlerts, "yes"]
        Resources:
          Alarm: {Type: AWS::SNS::Topic, Condition: Alerts}
          Machine:
            Type: AWS::Serverless::StateMachine
            Condition: Alerts
            Properties: {Definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}}
          Fn:
            Type: AWS::Serverless::Function
            Condition: Alerts
            Properties: {Handler: app.h, CodeUri: src/}
          Job:
            Type: AWS::Glue::Job
            Condition: Alerts
            Properties: {Command: {ScriptLocation: missing.py}}
        """
    off = load(template, files=APP)
    assert (off.topics, off.state_machines, off.functions, off.glue_jobs) == ((), (), (), ())
    with pytest.raises(Exception, match="Resources/Job/Properties/Command/ScriptLocation: script missing.py not found"):
        load(template, {"WithAlerts": "yes"}, files=APP)

"""The local identity of each resource: its name, what ``Ref`` gives, and its ``Fn::GetAtt``s.

Names: a resource's own name property when set (``FunctionName``, ``Name``, ``TopicName``...),
else its **logical id** (CloudFormation would generate ``stack-LogicalId-RANDOM``; the logical id
is stable across runs and readable in histories). FIFO queues and topics get ``.fifo`` appended
to a generated name, S3 buckets are lower-cased, as AWS requires.

Local ARN and URL forms (region and account from the settings, default us-east-1/123456789012):

==============================  ===================================================  =============
resource                        Ref                                                  Fn::GetAtt
==============================  ===================================================  =============
Serverless/Lambda Function      name                                                 Arn
Serverless/StepFunctions SM     ``arn:aws:states:R:A:stateMachine:NAME``             Arn, Name
StepFunctions Activity          ``arn:aws:states:R:A:activity:NAME``                 Arn, Name
SNS Topic                       ``arn:aws:sns:R:A:NAME``                             TopicArn, TopicName
SQS Queue                       ``https://sqs.R.amazonaws.com/A/NAME`` (AWS's form)  Arn, QueueName, QueueUrl
Glue Job                        name                                                 -
S3 Bucket, DynamoDB Table,      name                                                 Arn (and a few more)
IAM Role, Logs LogGroup, ...
==============================  ===================================================  =============
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stepflow.errors import TemplateError

Attrs = Callable[[str, str, str], dict]  # (name, region, account) -> {attribute: value}


@dataclass(frozen=True)
class Kind:
    """How one resource type is named and what its Ref and attributes are."""

    name_property: str | None
    ref: str  # "name" or one of the attribute names
    attrs: Attrs
    fifo_property: str | None = None
    lower: bool = False


def _lambda(n, r, a):
    return {"Arn": f"arn:aws:lambda:{r}:{a}:function:{n}"}


def _state_machine(n, r, a):
    return {"Arn": f"arn:aws:states:{r}:{a}:stateMachine:{n}", "Name": n}


def _activity(n, r, a):
    return {"Arn": f"arn:aws:states:{r}:{a}:activity:{n}", "Name": n}


def _topic(n, r, a):
    return {"TopicArn": f"arn:aws:sns:{r}:{a}:{n}", "TopicName": n}


def _queue(n, r, a):
    return {"Arn": f"arn:aws:sqs:{r}:{a}:{n}", "QueueName": n, "QueueUrl": queue_url(n, r, a)}


def queue_url(name: str, region: str, account: str) -> str:
    """A queue's URL: AWS's own form, so URLs copied from a deployed stack match."""
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def _bucket(n, r, a):
    return {"Arn": f"arn:aws:s3:::{n}", "DomainName": f"{n}.s3.amazonaws.com",
            "RegionalDomainName": f"{n}.s3.{r}.amazonaws.com"}


def _table(n, r, a):
    arn = f"arn:aws:dynamodb:{r}:{a}:table/{n}"
    return {"Arn": arn, "StreamArn": f"{arn}/stream/1970-01-01T00:00:00.000"}


def _role(n, r, a):
    return {"Arn": f"arn:aws:iam::{a}:role/{n}", "RoleId": f"AROA{n.upper()[:17]}"}


KINDS: dict[str, Kind] = {
    "AWS::Serverless::Function": Kind("FunctionName", "name", _lambda),
    "AWS::Lambda::Function": Kind("FunctionName", "name", _lambda),
    "AWS::Serverless::StateMachine": Kind("Name", "Arn", _state_machine),
    "AWS::StepFunctions::StateMachine": Kind("StateMachineName", "Arn", _state_machine),
    "AWS::StepFunctions::Activity": Kind("Name", "Arn", _activity),
    "AWS::SNS::Topic": Kind("TopicName", "TopicArn", _topic, fifo_property="FifoTopic"),
    "AWS::SQS::Queue": Kind("QueueName", "QueueUrl", _queue, fifo_property="FifoQueue"),
    "AWS::Glue::Job": Kind("Name", "name", lambda n, r, a: {}),
    "AWS::S3::Bucket": Kind("BucketName", "name", _bucket, lower=True),
    "AWS::DynamoDB::Table": Kind("TableName", "name", _table),
    "AWS::Serverless::SimpleTable": Kind("TableName", "name", _table),
    "AWS::IAM::Role": Kind("RoleName", "name", _role),
    "AWS::Logs::LogGroup": Kind("LogGroupName", "name", lambda n, r, a: {"Arn": f"arn:aws:logs:{r}:{a}:log-group:{n}:*"}),
    "AWS::Events::EventBus": Kind("Name", "name", lambda n, r, a: {"Arn": f"arn:aws:events:{r}:{a}:event-bus/{n}", "Name": n}),
    "AWS::Events::Rule": Kind("Name", "name", lambda n, r, a: {"Arn": f"arn:aws:events:{r}:{a}:rule/{n}"}),
    "AWS::SSM::Parameter": Kind("Name", "name", lambda n, r, a: {"Type": "String"}),
    "AWS::SecretsManager::Secret": Kind("Name", "Arn", lambda n, r, a: {"Arn": f"arn:aws:secretsmanager:{r}:{a}:secret:{n}"}),
}
_UNKNOWN = Kind(None, "name", lambda n, r, a: {})

# SAM generates these for functions and state machines without a Role, and for implicit APIs;
# templates may Ref/GetAtt them.
IMPLICIT_ROLE_OWNERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
IMPLICIT_RESOURCES = {"ServerlessRestApi": "AWS::ApiGateway::RestApi", "ServerlessHttpApi": "AWS::ApiGatewayV2::Api"}


def kind_of(resource_type: str) -> Kind:
    return KINDS.get(resource_type, _UNKNOWN)


def default_name(resource_type: str, logical_id: str, fifo: bool) -> str:
    """The name a resource gets without a name property: its logical id (see module doc)."""
    kind = kind_of(resource_type)
    name = logical_id.lower() if kind.lower else logical_id
    return f"{name}.fifo" if fifo else name


def ref_value(resource_type: str, name: str, region: str, account: str) -> str:
    kind = kind_of(resource_type)
    return name if kind.ref == "name" else kind.attrs(name, region, account)[kind.ref]


def attribute(resource_type: str, logical_id: str, name: str, attr: str, region: str, account: str, where: str):
    """``Fn::GetAtt [logical_id, attr]`` for a resource named ``name``."""
    attrs = kind_of(resource_type).attrs(name, region, account)
    if attr not in attrs:
        known = ", ".join(sorted(attrs)) or "none known locally"
        raise TemplateError(f"{where}: Fn::GetAtt {logical_id}.{attr}: {resource_type} has no attribute "
                            f"{attr!r} stepflow knows ({known})")
    return attrs[attr]

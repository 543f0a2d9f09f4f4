"""sns:publish to the project's topics, delivered over real transports: an HTTP server and an
SMTP server on 127.0.0.1, a JSONL file, a local queue."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from integration_helpers import execute, task
from transports import http_sink, smtp_server  # noqa: F401 - fixtures

from stepflow.cli.main import cli
from stepflow.runtime import Runtime, Settings
from stepflow.sam import Project, QueueSpec, SubscriptionSpec, TopicSpec

REGION, ACCOUNT = "us-east-1", "123456789012"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
PUBLISH = "arn:aws:states:::sns:publish"


def topic(*subscriptions: SubscriptionSpec, name: str = "alerts", fifo: bool = False) -> TopicSpec:
    return TopicSpec(logical_id="Alerts", name=name, arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}", subscriptions=subscriptions, fifo=fifo)


def runtime(*topics: TopicSpec, queues=(), retry_delays=(0.0, 0.0, 0.0), **settings) -> Runtime:
    rt = Runtime(Settings(**settings))
    rt.project = Project(path=Path("template.yaml"), topics=topics, queues=tuple(queues))
    rt.services.deliveries.retry_delays = retry_delays
    return rt


async def publish(rt: Runtime, parameters: dict) -> dict:
    described = await execute(rt, task(PUBLISH, parameters))
    await rt.services.drain()
    return described


def test_publish_answers_with_a_message_id_and_sdk_metadata_and_records_the_message(tmp_path):
    async def scenario():
        rt = runtime(topic(), messages_sink=str(tmp_path / "messages.jsonl"))
        described = await publish(rt, {"TopicArn": TOPIC_ARN, "Message": {"job": "done"}, "Subject": "ETL"})
        output = json.loads(described["output"])
        assert set(output) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
        assert output["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "text/xml"
        [record] = rt.services.sns.messages("alerts")
        assert record["MessageId"] == output["MessageId"]
        assert record["Message"] == '{"job":"done"}'  # a JSON value is published as its JSON text
        assert record["ExecutionArn"] == described["executionArn"]
        lines = (tmp_path / "messages.jsonl").read_text().splitlines()
        assert [json.loads(line)["MessageId"] for line in lines] == [output["MessageId"]]

    asyncio.run(scenario())


def test_http_subscriber_gets_snss_notification_and_headers(http_sink):  # noqa: F811
    async def scenario():
        rt = runtime(topic(SubscriptionSpec("http", http_sink.url + "/hook")))
        attributes = {"env": {"DataType": "String", "StringValue": "dev"}}
        described = await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "Job 5 failed", "Subject": "Failure",
                                        "MessageAttributes": attributes})
        message_id = json.loads(described["output"])["MessageId"]
        [request] = http_sink.requests
        assert request.method == "POST" and request.path == "/hook"
        assert request.headers["x-amz-sns-message-type"] == "Notification"
        assert request.headers["x-amz-sns-topic-arn"] == TOPIC_ARN
        assert request.headers["x-amz-sns-message-id"] == message_id
        assert request.headers["x-amz-sns-subscription-arn"].startswith(TOPIC_ARN + ":")
        assert request.headers["content-type"] == "text/plain; charset=UTF-8"
        body = request.json()
        assert body["Type"] == "Notification" and body["Message"] == "Job 5 failed" and body["Subject"] == "Failure"
        assert body["TopicArn"] == TOPIC_ARN and body["MessageId"] == message_id
        assert body["MessageAttributes"] == {"env": {"Type": "String", "Value": "dev"}}
        [record] = rt.services.sns.messages()
        assert record["Deliveries"][0]["Status"] == "DELIVERED"

    asyncio.run(scenario())


def test_http_delivery_is_retried_on_5xx_then_succeeds(http_sink):  # noqa: F811
    async def scenario():
        http_sink.statuses = [500, 503, 200]
        rt = runtime(topic(SubscriptionSpec("http", http_sink.url)))
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "retry me"})
        assert len(http_sink.requests) == 3
        assert {r.json()["MessageId"] for r in http_sink.requests} == {rt.services.sns.messages()[0]["MessageId"]}
        delivery = rt.services.sns.messages()[0]["Deliveries"][0]
        assert delivery["Status"] == "DELIVERED" and delivery["Attempts"] == 3

    asyncio.run(scenario())


def test_http_delivery_gives_up_after_three_retries_and_never_retries_a_4xx(http_sink):  # noqa: F811
    async def scenario():
        http_sink.statuses = [500]
        rt = runtime(topic(SubscriptionSpec("http", http_sink.url)))
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "lost"})
        assert len(http_sink.requests) == 4  # the first attempt and SNS's three retries
        assert rt.services.sns.messages()[0]["Deliveries"][0]["Status"] == "FAILED"
        http_sink.requests.clear()
        http_sink.statuses = [404]
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "nobody home"})
        assert len(http_sink.requests) == 1

    asyncio.run(scenario())


def test_raw_message_delivery_posts_the_message_itself(http_sink):  # noqa: F811
    async def scenario():
        rt = runtime(topic(SubscriptionSpec("http", http_sink.url, raw_message_delivery=True)))
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "just this"})
        [request] = http_sink.requests
        assert request.body == b"just this"
        assert request.headers["x-amz-sns-rawdelivery"] == "true"

    asyncio.run(scenario())


def test_email_goes_through_the_smtp_server(smtp_server):  # noqa: F811
    async def scenario():
        rt = runtime(topic(SubscriptionSpec("email", "team@example.com"), SubscriptionSpec("email-json", "ops@example.com")),
                     smtp=smtp_server.address)
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "Refresh finished", "Subject": "DB refresh"})
        by_recipient = {rcpt[0]: message for _, rcpt, message in smtp_server.messages}
        plain = by_recipient["team@example.com"]
        assert plain["Subject"] == "DB refresh"
        assert _text(plain).startswith("Refresh finished\n")
        as_json = json.loads(_text(by_recipient["ops@example.com"]))
        assert as_json["Type"] == "Notification" and as_json["Message"] == "Refresh finished"

    asyncio.run(scenario())


def _text(message) -> str:
    return message.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")


def test_email_without_an_smtp_server_is_recorded_as_failed():
    async def scenario():
        rt = runtime(topic(SubscriptionSpec("email", "team@example.com")), smtp=None)
        described = await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "hello"})
        assert described["status"] == "SUCCEEDED"  # Publish succeeds; delivery is asynchronous
        delivery = rt.services.sns.messages()[0]["Deliveries"][0]
        assert delivery["Status"] == "FAILED" and "SMTP" in delivery["Error"]

    asyncio.run(scenario())


def test_message_structure_json_sends_each_protocol_its_message(http_sink, tmp_path):  # noqa: F811
    async def scenario():
        sink = tmp_path / "out" / "alerts.jsonl"
        rt = runtime(topic(SubscriptionSpec("http", http_sink.url), SubscriptionSpec("file", str(sink))))
        message = json.dumps({"default": "plain", "http": "for http"})
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": message, "MessageStructure": "json"})
        assert http_sink.requests[0].json()["Message"] == "for http"
        [line] = sink.read_text().splitlines()
        assert json.loads(line)["Message"] == "plain"

    asyncio.run(scenario())


def test_sqs_subscription_puts_the_notification_in_the_local_queue():
    async def scenario():
        queue = QueueSpec("Q", "inbox", f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox", f"http://127.0.0.1:8083/{ACCOUNT}/inbox")
        rt = runtime(topic(SubscriptionSpec("sqs", queue.arn)), queues=[queue])
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "queued"})
        [message] = rt.services.queues.messages("inbox")
        assert json.loads(message["Body"])["Message"] == "queued"

    asyncio.run(scenario())


@pytest.mark.parametrize("parameters, error, message", [
    ({"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:missing", "Message": "x"}, "SNS.NotFoundException", "Topic does not exist"),
    ({"TopicArn": TOPIC_ARN}, "SNS.InvalidParameterException", "Empty message"),
    ({"Message": "x"}, "SNS.InvalidParameterException", "Invalid parameter: TopicArn or TargetArn"),
    ({"TopicArn": TOPIC_ARN, "Message": '{"http": "x"}', "MessageStructure": "json"}, "SNS.InvalidParameterException",
     "Invalid parameter: Message Structure - No default entry in JSON message body"),
    ({"TopicArn": TOPIC_ARN, "Message": "x", "Subject": "two\nlines"}, "SNS.InvalidParameterException", "Invalid parameter: Subject"),
])
def test_publish_errors_take_snss_names_and_sdk_cause(parameters, error, message):
    async def scenario():
        rt = runtime(topic())
        described = await publish(rt, parameters)
        assert described["error"] == error
        assert described["cause"].startswith(message)
        assert "(Service: AmazonSNS; Status Code: " in described["cause"]
        assert rt.services.sns.messages() == []

    asyncio.run(scenario())


def test_fifo_topics_need_a_group_and_answer_with_a_sequence_number():
    async def scenario():
        rt = runtime(topic(name="orders.fifo", fifo=True))
        arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:orders.fifo"
        missing = await publish(rt, {"TopicArn": arn, "Message": "x"})
        assert missing["error"] == "SNS.InvalidParameterException"
        ok = await publish(rt, {"TopicArn": arn, "Message": "x", "MessageGroupId": "g"})
        assert "SequenceNumber" in json.loads(ok["output"])

    asyncio.run(scenario())


def test_stepflow_messages_lists_recorded_messages(tmp_path):
    store = f"sqlite:///{tmp_path / 'store.db'}"

    async def scenario():
        rt = runtime(topic(), store_url=store)
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "listed", "Subject": "S"})

    asyncio.run(scenario())
    result = CliRunner().invoke(cli, ["messages", "--store", store, "--topic", "alerts", "--json"])
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert json.loads(line)["Message"] == "listed"
    other = CliRunner().invoke(cli, ["messages", "--store", store, "--topic", "elsewhere"])
    assert other.exit_code == 0 and "listed" not in other.output


@pytest.mark.parametrize("policy, attributes, delivered", [
    ({"env": ["prod"]}, {"env": {"DataType": "String", "StringValue": "prod"}}, True),
    ({"env": ["prod"]}, {"env": {"DataType": "String", "StringValue": "dev"}}, False),
    ({"env": ["prod"]}, {}, False),
    ({"env": [{"prefix": "pr"}]}, {"env": {"DataType": "String", "StringValue": "prod"}}, True),
    ({"env": [{"anything-but": ["dev", "test"]}]}, {"env": {"DataType": "String", "StringValue": "dev"}}, False),
    ({"rows": [{"numeric": [">", 100, "<=", 200]}]}, {"rows": {"DataType": "Number", "StringValue": "150"}}, True),
    ({"rows": [{"numeric": [">", 100]}]}, {"rows": {"DataType": "Number", "StringValue": "7"}}, False),
    ({"tags": ["red"]}, {"tags": {"DataType": "String.Array", "StringValue": '["blue", "red"]'}}, True),
    ({"env": [{"exists": False}]}, {}, True),
    ({"env": ["prod"], "kind": ["failure"]}, {"env": {"DataType": "String", "StringValue": "prod"}}, False),
])
def test_filter_policies_choose_the_subscribers(tmp_path, policy, attributes, delivered):
    sink = tmp_path / "filtered.jsonl"

    async def scenario():
        rt = runtime(topic(SubscriptionSpec("file", str(sink), filter_policy=policy)))
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "m", "MessageAttributes": attributes})

    asyncio.run(scenario())
    assert sink.exists() == delivered


def test_filter_policy_on_the_message_body(tmp_path):
    sink = tmp_path / "body.jsonl"
    policy = {"job": {"status": ["FAILED"]}}

    async def scenario():
        rt = runtime(topic(SubscriptionSpec("file", str(sink), filter_policy=policy, filter_policy_scope="MessageBody")))
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": {"job": {"status": "SUCCEEDED"}}})
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": {"job": {"status": "FAILED"}}})

    asyncio.run(scenario())
    [line] = sink.read_text().splitlines()
    assert json.loads(json.loads(line)["Message"]) == {"job": {"status": "FAILED"}}


def test_lambda_subscription_invokes_the_local_function_with_an_sns_event():
    received = []

    async def scenario():
        rt = Runtime(Settings(handlers={"notify": lambda event, context: received.append(event)}, lambda_mode="inprocess"))
        rt.project = Project(path=Path("template.yaml"), topics=(topic(SubscriptionSpec("lambda", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:notify")),))
        await publish(rt, {"TopicArn": TOPIC_ARN, "Message": "to lambda", "Subject": "S"})
        assert rt.services.sns.messages()[0]["Deliveries"][0]["Status"] == "DELIVERED"

    asyncio.run(scenario())
    [event] = received
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["Sns"]["Message"] == "to lambda" and record["Sns"]["Subject"] == "S"

"""The HTTP Task against a real HTTP server on 127.0.0.1, and sqs:sendMessage to local queues."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from click.testing import CliRunner
from integration_helpers import execute, task
from transports import http_sink  # noqa: F401 - fixture

from stepflow.cli.main import cli
from stepflow.integrations.http_task import form_pairs
from stepflow.integrations.sqs import md5_of_attributes
from stepflow.runtime import Runtime, Settings
from stepflow.sam import Project, QueueSpec
from stepflow.testing import free_port

HTTP = "arn:aws:states:::http:invoke"
SQS = "arn:aws:states:::sqs:sendMessage"
ACCOUNT = "123456789012"


def run(definition, input_value=None, rt: Runtime | None = None) -> dict:
    return asyncio.run(execute(rt or Runtime(Settings()), definition, input_value))


# HTTP Task --------------------------------------------------------------------------------------


def test_post_with_json_body_headers_and_query(http_sink):  # noqa: F811
    described = run(task(HTTP, {
        "ApiEndpoint": http_sink.url + "/v1/customers", "Method": "POST",
        "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/x/y"},
        "Headers": {"X-Api-Key": "k1"}, "QueryParameters": {"limit": "10", "tag": ["a", "b"]},
        "RequestBody": {"name": "Ann", "n": 1},
    }))
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["StatusCode"] == "200" and output["StatusText"] == "OK"
    assert output["ResponseBody"] == {"ok": True}
    assert output["Headers"]["x-test"] == ["yes"]
    [request] = http_sink.requests
    assert request.method == "POST"
    assert request.path == "/v1/customers?limit=10&tag=a&tag=b"
    assert request.headers["x-api-key"] == "k1"
    assert request.headers["content-type"].startswith("application/json")
    assert request.headers["user-agent"] == "Amazon|StepFunctions|HttpInvoke|us-east-1"
    assert request.json() == {"name": "Ann", "n": 1}


def test_url_encoded_body_with_array_formats(http_sink):  # noqa: F811
    run(task(HTTP, {"ApiEndpoint": http_sink.url, "Method": "POST", "RequestBody": {"a": ["x", "y"], "o": {"k": "v"}},
                    "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}}))
    [request] = http_sink.requests
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(request.body.decode()) == [("a[]", "x"), ("a[]", "y"), ("o[k]", "v")]


@pytest.mark.parametrize("array_format, expected", [
    ("INDICES", [("a[0]", "1"), ("a[1]", "2")]),
    ("REPEAT", [("a", "1"), ("a", "2")]),
    ("COMMAS", [("a", "1,2")]),
    ("BRACKETS", [("a[]", "1"), ("a[]", "2")]),
])
def test_form_array_formats(array_format, expected):
    assert form_pairs({"a": [1, 2]}, array_format) == expected


def test_non_2xx_fails_with_the_status_code_error(http_sink):  # noqa: F811
    http_sink.statuses = [404]
    http_sink.body = b'{"message": "no such customer"}'
    described = run(task(HTTP, {"ApiEndpoint": http_sink.url + "/c/9", "Method": "GET"}))
    assert described["error"] == "States.Http.StatusCode.404"
    cause = json.loads(described["cause"])
    assert cause["StatusCode"] == "404" and cause["ResponseBody"] == {"message": "no such customer"}


def test_server_error_is_catchable_and_retryable(http_sink):  # noqa: F811
    http_sink.statuses = [503, 200]
    definition = task(HTTP, {"ApiEndpoint": http_sink.url, "Method": "GET"},
                      Retry=[{"ErrorEquals": ["States.Http.StatusCode.503"], "IntervalSeconds": 1, "MaxAttempts": 2}])
    described = asyncio.run(execute(Runtime(Settings(time_scale=0.0)), definition))
    assert described["status"] == "SUCCEEDED" and len(http_sink.requests) == 2


def test_network_failure_is_states_http_socket():
    port = free_port()  # nothing listens there
    described = run(task(HTTP, {"ApiEndpoint": f"http://127.0.0.1:{port}/x", "Method": "GET"}))
    assert described["error"] == "States.Http.Socket"
    assert f"127.0.0.1:{port}" in described["cause"]


def test_text_response_body_stays_text(http_sink):  # noqa: F811
    http_sink.body, http_sink.content_type = b"plain words", "text/plain"
    output = json.loads(run(task(HTTP, {"ApiEndpoint": http_sink.url, "Method": "GET"}))["output"])
    assert output["ResponseBody"] == "plain words"


def test_bad_method_is_a_runtime_error():
    described = run(task(HTTP, {"ApiEndpoint": "http://127.0.0.1:1/", "Method": "FETCH"}))
    assert described["error"] == "States.Runtime" and "Method" in described["cause"]


# SQS --------------------------------------------------------------------------------------------

QUEUE = QueueSpec("Jobs", "jobs", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs", f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs")
FIFO = QueueSpec("Ordered", "ordered.fifo", f"arn:aws:sqs:us-east-1:{ACCOUNT}:ordered.fifo",
                 f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/ordered.fifo", fifo=True)


def sqs_runtime(**settings) -> Runtime:
    rt = Runtime(Settings(**settings))
    rt.project = Project(path=Path("template.yaml"), queues=(QUEUE, FIFO))
    return rt


def test_send_message_answers_with_md5s_and_stores_the_message():
    rt = sqs_runtime()
    attributes = {"kind": {"DataType": "String", "StringValue": "refresh"}}
    described = run(task(SQS, {"QueueUrl": QUEUE.url, "MessageBody": {"step": 3}, "MessageAttributes": attributes}), rt=rt)
    output = json.loads(described["output"])
    assert output["MD5OfMessageBody"] == hashlib.md5(b'{"step":3}').hexdigest()
    assert output["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    [message] = rt.services.queues.messages("jobs")
    assert message["MessageId"] == output["MessageId"] and message["Body"] == '{"step":3}'
    assert message["ExecutionArn"] == described["executionArn"]


def test_md5_of_message_attributes_matches_sqs():
    # the value SQS answers for this attribute (as computed by the AWS SDKs' checksum validation)
    attributes = {"a": {"DataType": "String", "StringValue": "b"}}
    encoded = b"\x00\x00\x00\x01a" + b"\x00\x00\x00\x06String" + b"\x01" + b"\x00\x00\x00\x01b"
    assert md5_of_attributes(attributes) == hashlib.md5(encoded).hexdigest()


def test_queue_is_found_by_name_in_any_url():
    rt = sqs_runtime()
    described = run(task(SQS, {"QueueUrl": "http://localhost:4566/000000000000/jobs", "MessageBody": "hi"}), rt=rt)
    assert described["status"] == "SUCCEEDED"


def test_unknown_queue_fails_as_sqs_does():
    described = run(task(SQS, {"QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/missing", "MessageBody": "x"}),
                    rt=sqs_runtime())
    assert described["error"] == "SQS.QueueDoesNotExistException"
    assert described["cause"].startswith("The specified queue does not exist. (Service: AmazonSQS; Status Code: 400; "
                                         "Error Code: AWS.SimpleQueueService.NonExistentQueue;")


def test_fifo_needs_a_group_and_deduplicates():
    async def scenario():
        rt = sqs_runtime()
        missing = await execute(rt, task(SQS, {"QueueUrl": FIFO.url, "MessageBody": "x"}))
        assert missing["error"] == "SQS.AmazonSQSException" and "MessageGroupId" in missing["cause"]
        no_dedup = await execute(rt, task(SQS, {"QueueUrl": FIFO.url, "MessageBody": "x", "MessageGroupId": "g"}))
        assert no_dedup["error"] == "SQS.AmazonSQSException" and "ContentBasedDeduplication" in no_dedup["cause"]
        params = {"QueueUrl": FIFO.url, "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d1"}
        first = json.loads((await execute(rt, task(SQS, params)))["output"])
        again = json.loads((await execute(rt, task(SQS, params)))["output"])
        assert first["MessageId"] == again["MessageId"] and "SequenceNumber" in first
        assert len(rt.services.queues.messages("ordered.fifo")) == 1

    asyncio.run(scenario())


def test_messages_command_lists_queue_messages(tmp_path):
    store = f"sqlite:///{tmp_path / 's.db'}"
    run(task(SQS, {"QueueUrl": QUEUE.url, "MessageBody": "queued body"}), rt=sqs_runtime(store_url=store))
    result = CliRunner().invoke(cli, ["messages", "--store", store, "--queue", "jobs"])
    assert result.exit_code == 0 and "queued body" in result.output

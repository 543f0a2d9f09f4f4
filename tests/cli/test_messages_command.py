"""``stepflow messages``: SNS and SQS messages in one list, oldest first, with one time format."""

from click.testing import CliRunner

from stepflow.cli.main import cli
from stepflow.store import open_store


def test_sns_and_sqs_messages_are_interleaved_by_time_and_sqs_times_are_readable(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    store.put_resource("sns-message", "m-late", {"MessageId": "m-late", "TopicName": "alerts", "Message": "published second",
                                                 "Timestamp": "2024-07-01T02:00:05.000Z"})
    store.put_resource("sqs-message", "q-early", {"MessageId": "q-early", "QueueName": "jobs", "Body": "sent first",
                                                  "SentTimestamp": 1719799201250})  # 2024-07-01T02:00:01.250Z
    store.close()
    result = CliRunner().invoke(cli, ["messages", "--store", url])
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first.startswith("2024-07-01T02:00:01.250Z  jobs  q-early  sent first")
    assert second.startswith("2024-07-01T02:00:05.000Z  alerts  m-late")

"""SigV4 verification: the verifier against botocore's signer, key loading, and a real
``stepflow serve --auth`` driven by boto3 (also for versions, aliases and activities)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from api_helpers import PASS, PASS2, ROLE
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stepflow.errors import ApiError, ConfigurationError
from stepflow.server.auth import SigV4Verifier, load_keys
from stepflow.testing import Server, wait_for_execution

BODY = b'{"maxResults": 10}'


def signed_headers(key="AKID", secret="SECRET", body=BODY, url="http://127.0.0.1:8083/"):
    request = AWSRequest(method="POST", url=url, data=body, headers={
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(key, secret), "states", "us-east-1").add_auth(request)
    return list(request.headers.items()) + [("Host", "127.0.0.1:8083")]


def verify(headers, body=BODY, keys=None, now=None):
    verifier = SigV4Verifier(keys or {"AKID": "SECRET"}, **({"now": now} if now else {}))
    return verifier.verify("POST", "/", "", headers, body)


def test_botocore_signature_verifies():
    assert verify(signed_headers()) == "AKID"


@pytest.mark.parametrize("headers, keys, body, code, status", [
    ([("Host", "x")], None, BODY, "MissingAuthenticationToken", 403),
    (None, {"OTHER": "SECRET"}, BODY, "UnrecognizedClientException", 400),
    (None, {"AKID": "WRONG"}, BODY, "InvalidSignatureException", 400),
    (None, None, b'{"maxResults": 11}', "InvalidSignatureException", 400),
    ([("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/x"), ("X-Amz-Date", "20240101T000000Z")], None, BODY, "IncompleteSignature", 400),
])
def test_bad_requests_get_aws_errors(headers, keys, body, code, status):
    with pytest.raises(ApiError) as err:
        verify(headers if headers is not None else signed_headers(), body, keys)
    assert (err.value.code, err.value.status) == (code, status)
    if code == "InvalidSignatureException":
        assert err.value.message.startswith("The request signature we calculated does not match the signature you provided.")


def test_old_signatures_expire():
    with pytest.raises(ApiError) as err:
        verify(signed_headers(), now=lambda: time.time() + 3600)
    assert err.value.code == "InvalidSignatureException" and err.value.message.startswith("Signature expired:")


def test_load_keys_from_file_and_env(tmp_path, monkeypatch):
    path = tmp_path / "keys"
    path.write_text("# stepflow keys\nAKID1 secret1\n\nAKID2 secret2\n")
    assert load_keys(str(path)) == {"AKID1": "secret1", "AKID2": "secret2"}
    path.write_text("only-one-field\n")
    with pytest.raises(ConfigurationError):
        load_keys(str(path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "K")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "S")
    assert load_keys("env") == {"K": "S"}


# -- a real server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("auth")
    (folder / "keys").write_text("AKIDSTEPFLOW s3cret\n")
    running = Server("--auth", str(folder / "keys"), "--log-level", "error", cwd=folder).start()
    yield running
    running.stop(timeout=2)  # a held GetActivityTask poll would keep a graceful shutdown waiting


def client(server, key="AKIDSTEPFLOW", secret="s3cret", unsigned=False):
    from botocore import UNSIGNED

    return server.client(key=key, secret=secret, retries={"max_attempts": 1}, read_timeout=70,
                         signature_version=UNSIGNED if unsigned else None)


def error_of(call):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_server_refuses_unsigned_and_wrongly_signed_requests(server):
    assert client(server).list_state_machines()["stateMachines"] == []
    assert error_of(lambda: client(server, unsigned=True).list_state_machines()) == ("MissingAuthenticationToken", 403)
    assert error_of(lambda: client(server, key="NOBODY").list_state_machines()) == ("UnrecognizedClientException", 400)
    assert error_of(lambda: client(server, secret="wrong").list_state_machines()) == ("InvalidSignatureException", 400)


def test_server_starts_executions_through_versions_and_aliases(server):
    sfn = client(server)
    arn = sfn.create_state_machine(name="aliased", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    v1 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=PASS2)
    alias = sfn.create_state_machine_alias(name="PROD", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    outputs = {}
    for target in (arn, v1, alias):
        execution = sfn.start_execution(stateMachineArn=target)["executionArn"]
        outputs[target] = wait_for_execution(sfn, execution)["output"]
    assert json.loads(outputs[arn]) == {"v": 2}
    assert json.loads(outputs[v1]) == json.loads(outputs[alias]) == {"v": 1}
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert described["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 100}]


def test_server_holds_activity_polls_open(server):
    sfn = client(server)
    activity = sfn.create_activity(name="worker-queue")["activityArn"]

    def poll():
        try:
            sfn.get_activity_task(activityArn=activity, workerName="w")
        except Exception:  # the server goes away at teardown while the poll is held
            pass

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    time.sleep(0.3)
    assert poller.is_alive()  # held open: no task yet
    sfn.delete_activity(activityArn=activity)
    assert error_of(lambda: sfn.describe_activity(activityArn=activity)) == ("ActivityDoesNotExist", 400)
    assert error_of(lambda: sfn.get_activity_task(activityArn=activity)) == ("ActivityDoesNotExist", 400)

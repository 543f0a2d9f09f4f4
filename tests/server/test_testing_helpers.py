"""stepflow.testing: serve() starts, answers and stops without leaving a process behind; a
Server killed with SIGKILL starts again on the same port and store; a serve that cannot start
says why."""

from __future__ import annotations

import json

import pytest

from stepflow.testing import Server, ServeError, serve, wait_for_execution

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"done": True}, "End": True}}})
ROLE_ARN = "arn:aws:iam::123456789012:role/test"


def test_serve_answers_for_the_block_and_stops_after_it(tmp_path):
    with serve(cwd=tmp_path) as server:
        assert server.endpoint == f"http://127.0.0.1:{server.port}"
        sfn = server.client()
        arn = sfn.create_state_machine(name="helper", definition=PASS, roleArn=ROLE_ARN)["stateMachineArn"]
        started = sfn.start_execution(stateMachineArn=arn)
        described = wait_for_execution(sfn, started["executionArn"])
        assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"done": True})
    assert server.process.poll() is not None
    assert not server.alive()


def test_a_killed_server_starts_again_on_the_same_port_and_store(tmp_path):
    server = Server(store=f"sqlite:///{tmp_path}/helper.db", cwd=tmp_path, log=tmp_path / "serve.log")
    try:
        server.start()
        arn = server.client().create_state_machine(name="kept", definition=PASS, roleArn=ROLE_ARN)["stateMachineArn"]
        port = server.port
        server.kill()
        assert server.process.returncode == -9
        server.start()
        assert server.port == port
        assert server.client().describe_state_machine(stateMachineArn=arn)["name"] == "kept"
    finally:
        server.stop()
    assert "stepflow serving the Step Functions API" in (tmp_path / "serve.log").read_text()


def test_a_serve_that_cannot_start_raises_with_its_output(tmp_path):
    with pytest.raises(ServeError, match="(?s)exited with 2.*--template"):
        with serve("--template", str(tmp_path / "missing.yaml"), cwd=tmp_path):
            pass

"""stepflow.testing: serve() starts, answers and stops without leaving a process behind; a
Server killed with SIGKILL starts again on the same port and store; a serve that cannot start
says why; a port another server holds (answering /health too) is never taken for this one's."""

from __future__ import annotations

import http.client
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import stepflow.testing
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


class _OtherHealth(BaseHTTPRequestHandler):
    """Another server on the port: GET /health answers 200 with this test process's pid."""

    def do_GET(self):
        body = json.dumps({"status": "ok", "active_executions": 0, "pid": os.getpid()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def taken_port():
    """A 127.0.0.1 port held by another HTTP server that answers /health with 200."""
    other = HTTPServer(("127.0.0.1", 0), _OtherHealth)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        yield other.server_address[1]
    finally:
        other.shutdown()
        other.server_close()
        thread.join()


def _health(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()


def test_health_answers_with_the_pid_of_the_serve_process(tmp_path):
    with serve(cwd=tmp_path) as server:
        assert _health(server.port)["pid"] == server.process.pid


def test_another_server_on_a_fixed_port_is_not_taken_for_this_one(tmp_path, taken_port):
    server = Server(port=taken_port, cwd=tmp_path, timeout=5)
    try:
        with pytest.raises(ServeError, match="(?i)address already in use|answered by another process"):
            server.start()
        assert server.port == taken_port  # a fixed port is not replaced
        assert not server.alive()
    finally:
        server.stop()
    assert _health(taken_port)["pid"] == os.getpid()  # the other server still holds its port


def test_a_chosen_port_taken_before_the_server_binds_it_is_replaced(tmp_path, taken_port, monkeypatch):
    ports = iter([taken_port])  # the first free_port() answer is taken by the time serve binds it
    real_free_port = stepflow.testing.free_port
    monkeypatch.setattr(stepflow.testing, "free_port", lambda: next(ports, None) or real_free_port())
    with serve(cwd=tmp_path, timeout=10) as server:
        assert server.port != taken_port
        assert _health(server.port)["pid"] == server.process.pid
        assert server.client().list_state_machines()["stateMachines"] == []

"""Real transports for the integration tests (imported as ``transports``; test modules import the
fixtures they use): an HTTP server and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stepflow.testing import free_port


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class HttpSink:
    """A local HTTP server that records every request and answers from a script of statuses
    (the last one repeats): ``sink.statuses = [500, 500, 200]``."""

    url: str
    requests: list = field(default_factory=list)
    statuses: list = field(default_factory=lambda: [200])
    body: bytes = b'{"ok": true}'
    content_type: str = "application/json"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            status = self.statuses[0]
            if len(self.statuses) > 1:
                self.statuses.pop(0)
            return status


def _handler(sink: HttpSink):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with sink.lock:
                sink.requests.append(Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = sink.next_status()
            payload = b"" if self.command == "HEAD" else sink.body
            self.send_response(status)
            self.send_header("Content-Type", sink.content_type)
            self.send_header("X-Test", "yes")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

        def log_message(self, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def http_sink():
    sink = HttpSink(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()


class MailBox:
    """aiosmtpd handler keeping every message it gets."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes

        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.address = f"127.0.0.1:{controller.port}"
    yield box
    controller.stop()

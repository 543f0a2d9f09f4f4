"""The outside world of the warehouse refresh, on 127.0.0.1, for run.py: the reference-data API
(``GET /rates``, called by the HTTP Task), the ops webhook (``POST /hooks/sns``, an HTTP
subscriber of the notifications topic) and the data team's mailbox (an SMTP server, the email
subscriber; only when aiosmtpd is installed, as it is by ``make test``'s dev dependencies)."""

from __future__ import annotations

import json
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from stepflow.testing import free_port

RATES_PER_USD = {"USD": 1.0, "EUR": 0.93, "GBP": 0.78}


class Recorder:
    """What the local services received, in order."""

    def __init__(self):
        self.rates_requests: list[dict] = []
        self.webhook: list[dict] = []
        self.mails: list[dict] = []
        self.lock = threading.Lock()

    def add(self, kind: str, item: dict) -> None:
        with self.lock:
            getattr(self, kind).append(item)

    def snapshot(self) -> dict:
        with self.lock:
            return {"rates_requests": list(self.rates_requests), "webhook": list(self.webhook), "mails": list(self.mails)}


def _handler(recorder: Recorder):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            if url.path != "/rates":
                return self._reply(404, {"message": "not found"})
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            recorder.add("rates_requests", {"query": query, "user_agent": self.headers.get("User-Agent")})
            self._reply(200, {"base": query.get("base", "USD"), "date": query.get("date"), "rates": RATES_PER_USD})

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if urlparse(self.path).path != "/hooks/sns":
                return self._reply(404, {"message": "not found"})
            recorder.add("webhook", {"type": self.headers.get("x-amz-sns-message-type"), "body": json.loads(body)})
            self._reply(200, {"ok": True})

        def _reply(self, status: int, document: dict) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep the runner's output readable
            pass

    return Handler


class LocalServices:
    """Starts and stops the HTTP server and, when possible, the SMTP server."""

    def __init__(self):
        self.recorder = Recorder()
        self.http = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(self.recorder))
        self.http_url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.smtp = None
        self.smtp_address: str | None = None

    def start(self) -> LocalServices:
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self._start_smtp()
        return self

    def _start_smtp(self) -> None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:  # no mailbox: the email subscription is left out
            return
        recorder = self.recorder

        class Mailbox:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                mail = message_from_bytes(envelope.content)
                recorder.add("mails", {"to": envelope.rcpt_tos, "subject": mail["Subject"]})
                return "250 Message accepted for delivery"

        port = free_port()
        self.smtp = Controller(Mailbox(), hostname="127.0.0.1", port=port)
        self.smtp.start()
        self.smtp_address = f"127.0.0.1:{port}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        if self.smtp is not None:
            self.smtp.stop()

"""A minimal Step Functions API client (JSON 1.0 over keep-alive HTTP/1.1) for the 'many' scenario.

Why it exists: boto3 spends about 0.6 ms of CPU on every call (request building, signing,
response parsing), and the 'many' scenario makes at least 2 x M calls from one process. On a
2-core machine that puts a ceiling of roughly 800 executions/s on any server measured through
boto3, whatever the server does. This client sends the same StartExecution and
DescribeExecution requests (same bodies, same X-Amz-Target) over 32 asyncio connections at a
few tens of microseconds each, so the figure it gives is the server's. It talks to any HTTP
endpoint: ``stepflow serve`` and moto's own server (``moto_server.py``) alike.

Every request carries a SigV4-shaped ``Authorization`` header with a dummy signature: moto's
server picks the service from its credential scope; stepflow (without ``--auth``) ignores it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import urlsplit

from sfn_workloads import CLIENT_THREADS, TERMINAL, Batch


# Not a valid signature: neither server checks it. The credential scope names the service.
AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=bench/20240101/us-east-1/states/aws4_request, "
                 "SignedHeaders=content-type;host;x-amz-target, Signature=" + "0" * 64)


class ApiError(RuntimeError):
    """A non-200 answer."""


class Connection:
    """One connection speaking the AWS JSON 1.0 protocol: kept alive, or opened again for the
    next request when the server answered ``Connection: close`` (moto's werkzeug server does)."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.hostname, self.port, self.host = parts.hostname, parts.port or 80, parts.netloc
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @classmethod
    async def open(cls, url: str) -> "Connection":
        connection = cls(url)
        await connection.connect()
        return connection

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.hostname, self.port)

    async def call(self, action: str, params: dict) -> dict:
        if self.writer is None:
            await self.connect()
        body = json.dumps(params).encode()
        head = (f"POST / HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/x-amz-json-1.0\r\n"
                f"X-Amz-Target: AWSStepFunctions.{action}\r\nAuthorization: {AUTHORIZATION}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        status, length, keep_alive = parse_head(await self.reader.readuntil(b"\r\n\r\n"))
        reply = json.loads(await self.reader.readexactly(length))
        if not keep_alive:
            self.close()
        if status != 200:
            raise ApiError(f"{action}: HTTP {status} {reply}")
        return reply

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status code, Content-Length and whether the connection stays open, from a response head."""
    lines = head.split(b"\r\n")
    length, keep_alive = 0, not lines[0].startswith(b"HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep_alive = value.strip().lower() != b"close"
    return int(lines[0].split()[1]), length, keep_alive


async def drain(connections: list[Connection], jobs: list, work) -> None:
    """Run ``work(connection, job)`` for every job, one job at a time per connection."""
    queue = iter(jobs)

    async def worker(connection: Connection) -> None:
        for job in queue:
            await work(connection, job)

    await asyncio.gather(*(worker(c) for c in connections))


async def many(url: str, machine_arn: str, m: int, timeout: float) -> Batch:
    """The 'many' scenario: start M executions, poll them until all are terminal."""
    connections = [await Connection.open(url) for _ in range(min(m, CLIENT_THREADS))]
    batch, arns = Batch(m), []

    async def start(connection: Connection, i: int) -> None:
        params = {"stateMachineArn": machine_arn, "name": f"m{i}-{uuid.uuid4().hex[:12]}", "input": json.dumps({"i": i})}
        try:
            arns.append((await connection.call("StartExecution", params))["executionArn"])
        except (ApiError, OSError, asyncio.IncompleteReadError) as err:
            batch.errors.append(repr(err)[:200])

    try:
        t0 = time.perf_counter()
        await drain(connections, range(m), start)
        batch.start_phase_s = time.perf_counter() - t0
        batch.wall_s = await poll_all(connections, arns, batch, t0 + timeout) - t0
    finally:
        for connection in connections:
            connection.close()
    return batch


async def poll_all(connections: list[Connection], arns: list[str], batch: Batch, deadline: float) -> float:
    """Describe the pending executions until none is left; when the last was seen done."""
    pending, last_seen = list(arns), time.perf_counter()
    while pending and time.perf_counter() < deadline:
        still = []

        async def describe(connection: Connection, arn: str) -> None:
            nonlocal last_seen
            status = (await connection.call("DescribeExecution", {"executionArn": arn}))["status"]
            if status in TERMINAL:
                last_seen = time.perf_counter()
                batch.succeeded += status == "SUCCEEDED"
            else:
                still.append(arn)

        await drain(connections, pending, describe)
        pending = still
        if pending:
            await asyncio.sleep(0.02)
    return last_seen


def run_many(url: str, machine_arn: str, m: int, timeout: float) -> Batch:
    """:func:`many` on a fresh event loop."""
    return asyncio.run(many(url, machine_arn, m, timeout))

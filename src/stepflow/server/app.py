"""The ASGI application: the Step Functions API at ``POST /``, a status page at ``GET /``.

``POST /`` is the hot path (every boto3 and aws CLI call), so it is served by a plain ASGI
callable that reads the body and dispatches to :class:`ApiEndpoint` without Starlette's
routing and middleware (with uvloop and httptools under uvicorn, it halved the server's CPU per
request on bench/'s "many" scenario). Everything else (``GET /``, ``/health``, 404/405 answers,
lifespan) goes to a small Starlette app.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from stepflow.runtime import Runtime
from stepflow.scheduler.loop import start_for as start_schedules
from stepflow.server.api import ApiEndpoint
from stepflow.server.asgi import read_body

log = logging.getLogger("stepflow.server")


class StepflowApp:
    """ASGI entry point: ``POST /`` straight to the API endpoint, the rest to Starlette."""

    def __init__(self, endpoint: ApiEndpoint, fallback: Starlette):
        self.endpoint = endpoint
        self.fallback = fallback

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/":
            await self.api(scope, receive, send)
        else:
            await self.fallback(scope, receive, send)

    async def api(self, scope, receive, send) -> None:
        body = await read_body(receive)
        if body is None:  # the client went away
            return
        reply = await self.endpoint.call(header(scope, b"x-amz-target"), body)
        await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers()})
        await send({"type": "http.response.body", "body": reply.body})


def header(scope, name: bytes) -> str:
    """One request header (ASGI names are lower case), decoded as Starlette does; '' if absent."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def create_app(runtime: Runtime) -> StepflowApp:
    """The HTTP app over one runtime; RUNNING executions of its store resume at startup."""
    endpoint = ApiEndpoint(runtime.service)
    return StepflowApp(endpoint, _pages_app(runtime, endpoint))


def api_app(runtime: Runtime) -> StepflowApp:
    """The API alone (``POST /`` and ``/health``), without resuming executions or firing
    schedules at startup: for a server that lives only while one run does."""
    endpoint = ApiEndpoint(runtime.service)
    return StepflowApp(endpoint, Starlette(routes=_routes(runtime, endpoint)))


def _pages_app(runtime: Runtime, endpoint: ApiEndpoint) -> Starlette:
    """GET /, /health and the lifespan (resume), as a Starlette app."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        resumed = runtime.resume_all()
        if resumed:
            log.info("resumed %d running executions", resumed)
        schedules = start_schedules(runtime)
        yield
        if schedules is not None:
            schedules.cancel()

    return Starlette(routes=_routes(runtime, endpoint), lifespan=lifespan)


def _routes(runtime: Runtime, endpoint: ApiEndpoint) -> list[Route]:
    async def index(request):
        machines = runtime.store.list_state_machines()
        rows = "".join(f"<li>{html.escape(m.name)} ({m.type})</li>" for m in machines)
        return HTMLResponse(f"<!doctype html><title>stepflow</title><h1>stepflow</h1><ul>{rows}</ul>")

    async def health(request):
        # pid: stepflow.testing.Server accepts only its own process's answer on its port
        return JSONResponse({"status": "ok", "active_executions": len(runtime.runner.active), "pid": os.getpid()})

    return [
        Route("/", endpoint.handle, methods=["POST"]),  # reached only under a root_path
        Route("/", index, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]

"""The ASGI application: the Step Functions API at ``POST /``, a status page at ``GET /``."""

from __future__ import annotations

import contextlib
import logging

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from stepflow.runtime import Runtime
from stepflow.server.api import ApiEndpoint

log = logging.getLogger("stepflow.server")


def create_app(runtime: Runtime) -> Starlette:
    """The HTTP app over one runtime; RUNNING executions of its store resume at startup."""
    endpoint = ApiEndpoint(runtime.service)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        resumed = runtime.resume_all()
        if resumed:
            log.info("resumed %d running executions", resumed)
        yield

    async def index(request):
        machines = runtime.store.list_state_machines()
        rows = "".join(f"<li>{m.name} ({m.type})</li>" for m in machines)
        return HTMLResponse(f"<!doctype html><title>stepflow</title><h1>stepflow</h1><ul>{rows}</ul>")

    async def health(request):
        return JSONResponse({"status": "ok", "active_executions": len(runtime.runner.active)})

    routes = [
        Route("/", endpoint.handle, methods=["POST"]),
        Route("/", index, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)

"""The Step Functions API served in the background of a one-off run (``stepflow run``).

A ``.waitForTaskToken`` task is answered by someone calling SendTaskSuccess/SendTaskFailure; in
``stepflow run`` there is no ``stepflow serve`` to call, so :func:`api_while_running` serves the
API on a free 127.0.0.1 port for as long as the execution runs and points the template's
functions at it (``Runtime.serve_api_at``). No schedules run and nothing is resumed here: that
is ``stepflow serve``'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

from stepflow.runtime import Runtime


@contextlib.asynccontextmanager
async def api_while_running(runtime: Runtime) -> AsyncIterator[str | None]:
    """Serve ``runtime``'s API while the body runs, when one of its state machines waits for a
    task token; yields the endpoint URL (or None when nothing needs it)."""
    if not runtime.uses_task_tokens():
        yield None
        return
    import uvicorn  # imported here: most runs need no server, and uvicorn + starlette cost ~0.1 s

    from stepflow.server.app import api_app
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    runtime.serve_api_at(endpoint)
    server = uvicorn.Server(uvicorn.Config(api_app(runtime), lifespan="off", log_level="warning", access_log=False))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        yield endpoint
    finally:
        server.should_exit = True
        await task
        sock.close()

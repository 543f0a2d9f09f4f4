"""A PostgreSQL URL for the pipeline: ``DATABASE_URL`` when set, else an embedded server.

The embedded server comes from the ``pgserver`` wheel (a real PostgreSQL, DESIGN.md §8) and
keeps its data folder under ``.stepflow/pg`` so that a second ``make demo`` reuses both the
cluster and the generated data. As root, pgserver runs the server binaries as its own
unprivileged ``pgserver`` user (PostgreSQL refuses to run as root); the same approach as the
store tests' ``postgres_url`` fixture in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

DEFAULT_FOLDER = Path(".stepflow") / "pg"
_servers: dict[Path, object] = {}


def database_url(folder: str | os.PathLike | None = None, *, keep_running: bool = False) -> str:
    """``DATABASE_URL``, else the URI of an embedded server in ``folder`` (started if needed).

    The server is stopped when this process exits unless ``keep_running``; its data stays.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return embedded_server(folder, keep_running=keep_running).get_uri()


def embedded_server(folder: str | os.PathLike | None = None, *, keep_running: bool = False):
    """The pgserver handle for ``folder`` (one per process and folder)."""
    path = Path(folder or DEFAULT_FOLDER).resolve()
    if path not in _servers:
        path.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
            import pgserver

            _servers[path] = pgserver.get_server(path, cleanup_mode=None if keep_running else "stop")
    return _servers[path]

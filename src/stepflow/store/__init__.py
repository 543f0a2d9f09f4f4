"""Durable state: one protocol, backends chosen by URL (``memory://``, ``sqlite:///path``, ``postgresql://``)."""

from __future__ import annotations

from stepflow.errors import ConfigurationError

DEFAULT_URL = "sqlite:///.stepflow/stepflow.db"


def open_store(url: str):
    """The store a URL names."""
    if url.startswith("memory:"):
        from stepflow.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:"):
        from stepflow.store.sqlite import SqliteStore

        return SqliteStore(url)
    if url.startswith(("postgresql:", "postgres:")):
        from stepflow.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigurationError(f"Unknown store URL {url!r}: use memory://, sqlite:///path.db or postgresql://...")

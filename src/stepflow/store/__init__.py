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
        raise ConfigurationError("The SQLite store is not available yet in this version; use --store memory://")
    if url.startswith(("postgresql:", "postgres:")):
        raise ConfigurationError("The PostgreSQL store is not available yet in this version; use --store memory://")
    raise ConfigurationError(f"Unknown store URL {url!r}: use memory://, sqlite:///path.db or postgresql://...")

"""Configuration from the environment (domain spec A6, stage 1), with every failure collected.

The password is kept out of every representation: ``Config.public()`` omits it, ``repr`` hides
it, and :func:`redact` removes it (and a DSN's password part) from any text.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TRUE_WORDS = {"1", "true", "yes", "on", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "off", "n", "f", ""}
PARTS = ("POSTGRES_HOST", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")


@dataclass(frozen=True)
class Config:
    """Everything the handler needs; built by :func:`load`."""

    dsn: str | None = None
    host: str | None = None
    port: int = 5432
    db: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sslmode: str = "prefer"
    connect_timeout: int = 5
    conflict_schema: str = "conflict"
    analytics_schema: str = "analytics"
    lookback_years: int | None = None
    lookahead_days: int | None = None
    target_chunk_size: int = 10_000
    max_chunk_size: int = 50_000
    max_keys_per_chunk: int = 1_000
    max_concurrency: int = 5
    as_of: dt.date | None = None
    enable_event_rules: bool = False

    def conninfo(self) -> str:
        """The libpq connection string (contains the password: never log it)."""
        from psycopg.conninfo import make_conninfo

        if self.dsn:
            return make_conninfo(self.dsn, connect_timeout=self.connect_timeout)
        return make_conninfo(host=self.host, port=self.port, dbname=self.db, user=self.user,
                             password=self.password, sslmode=self.sslmode, connect_timeout=self.connect_timeout)

    def secrets(self) -> list[str]:
        """Strings that must never appear in output, logs or errors."""
        out = [self.password] if self.password else []
        if self.dsn:
            out += _dsn_secrets(self.dsn)
        return [s for s in out if s]

    def public(self) -> dict:
        """What validate_config may echo: no password, no DSN."""
        host, port, db, user = self.host, self.port, self.db, self.user
        if self.dsn:
            parts = _dsn_parts(self.dsn)
            host, db, user = parts.get("host"), parts.get("dbname"), parts.get("user")
            port = int(parts["port"]) if str(parts.get("port", "")).isdigit() else port
        return {"host": host, "port": port, "db": db, "user": user, "conflict_schema": self.conflict_schema,
                "analytics_schema": self.analytics_schema, "dsn_given": bool(self.dsn)}


def _dsn_parts(dsn: str) -> dict:
    try:
        from psycopg.conninfo import conninfo_to_dict

        return conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - an unparsable DSN is reported by validation
        return {}


def _dsn_secrets(dsn: str) -> list[str]:
    secrets = [str(_dsn_parts(dsn).get("password") or "")]
    match = re.match(r"^[a-z]+://[^:/@]*:([^@]*)@", dsn)
    if match:
        from urllib.parse import unquote

        secrets += [match.group(1), unquote(match.group(1))]
    return secrets


def redact(text: str, secrets: list[str]) -> str:
    """The text with every secret replaced by ``***``."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


class _Reader:
    """Reads one variable at a time, collecting CONFIG_INVALID problems."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.invalid: list[dict] = []
        self.warnings: list[str] = []

    def get(self, *names: str) -> str | None:
        for name in names:
            value = self.env.get(name)
            if value is not None and value.strip() != "":
                return value.strip()
        return None

    def integer(self, name: str, default: int | None, low: int, high: int | None = None, secret=False) -> int | None:
        raw = self.get(name)
        if raw is None:
            return default
        if re.fullmatch(r"[+-]?[0-9]{1,9}", raw) and low <= int(raw) <= (high if high is not None else 10**9):
            return int(raw)
        rule = f"an integer {low}..{high}" if high is not None else f"an integer >= {low}"
        self.bad(name, raw, rule, secret)
        return default

    def bad(self, name: str, value: str, rule: str, secret: bool = False) -> None:
        shown = "***" if secret else value[:80]
        self.invalid.append({"name": name, "value": shown, "rule": rule})


def load(env: Mapping[str, str] | None = None) -> tuple[Config, list[str], list[dict], list[str]]:
    """(config, missing names, invalid entries, warnings) from the environment."""
    r = _Reader(os.environ if env is None else env)
    dsn = r.get("POSTGRES_DSN", "DATABASE_URL")
    parts = {name: r.get(name, *(("POSTGRES_DATABASE",) if name == "POSTGRES_DB" else ())) for name in PARTS}
    missing = [] if dsn else [name for name, value in parts.items() if value is None]
    if dsn and any(parts.values()):
        r.warnings.append("POSTGRES_DSN is set: POSTGRES_HOST/DB/USER/PASSWORD are ignored")
    values = dict(
        dsn=dsn, host=parts["POSTGRES_HOST"], db=parts["POSTGRES_DB"], user=parts["POSTGRES_USER"],
        password=parts["POSTGRES_PASSWORD"],
        port=r.integer("POSTGRES_PORT", 5432, 1, 65535),
        sslmode=_choice(r, "POSTGRES_SSLMODE", "prefer", ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")),
        connect_timeout=r.integer("POSTGRES_CONNECT_TIMEOUT", 5, 1, 600),
        conflict_schema=_identifier(r, ("CONFLICT_SCHEMA", "POSTGRES_CONFLICT_SCHEMA"), "conflict"),
        analytics_schema=_identifier(r, ("ANALYTICS_SCHEMA", "POSTGRES_ANALYTICS_SCHEMA"), "analytics"),
        lookback_years=r.integer("LOOKBACK_YEARS", None, 0, 100),
        lookahead_days=r.integer("LOOKAHEAD_DAYS", None, 0, 3650),
        target_chunk_size=r.integer("TARGET_CHUNK_SIZE", 10_000, 1),
        max_chunk_size=r.integer("MAX_CHUNK_SIZE", 50_000, 1),
        max_keys_per_chunk=r.integer("MAX_KEYS_PER_CHUNK", 1_000, 1),
        max_concurrency=r.integer("MAX_CONCURRENCY", 5, 1, 40),
        as_of=_date(r, "AS_OF"),
        enable_event_rules=_boolean(r, "ENABLE_EVENT_RULES", False),
    )
    if values["target_chunk_size"] > values["max_chunk_size"]:
        r.bad("TARGET_CHUNK_SIZE", str(values["target_chunk_size"]), "TARGET_CHUNK_SIZE <= MAX_CHUNK_SIZE")
    if dsn and not _dsn_parts(dsn):
        r.bad("POSTGRES_DSN", "", "a libpq URI or keyword/value string", secret=True)
    return Config(**values), missing, r.invalid, r.warnings


def _identifier(r: _Reader, names: tuple[str, ...], default: str) -> str:
    raw = r.get(*names)
    if raw is None:
        return default
    if IDENTIFIER.match(raw):
        return raw
    r.bad(names[0], raw, "^[a-z_][a-z0-9_]{0,62}$")
    return default


def _choice(r: _Reader, name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = r.get(name)
    if raw is None or raw in allowed:
        return raw or default
    r.bad(name, raw, "one of " + ", ".join(allowed))
    return default


def _date(r: _Reader, name: str) -> dt.date | None:
    raw = r.get(name)
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except ValueError:
        r.bad(name, raw, "an ISO date YYYY-MM-DD")
        return None


def parse_date(raw: str) -> dt.date:
    """A strict ISO date (YYYY-MM-DD); ValueError otherwise."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise ValueError(f"not an ISO date: {raw[:40]!r}")
    return dt.date.fromisoformat(raw)


def _boolean(r: _Reader, name: str, default: bool) -> bool:
    raw = r.get(name)
    if raw is None:
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    r.bad(name, raw, "a boolean word (true/false, yes/no, 1/0, on/off)")
    return default

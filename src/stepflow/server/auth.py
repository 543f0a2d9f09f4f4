"""AWS Signature Version 4 verification for ``stepflow serve --auth``.

Every request must be signed (as boto3 and the aws CLI sign them) with an access key that the
server knows; the server recomputes the signature from the request it received and compares.
Failures answer as AWS does: no signature -> MissingAuthenticationToken (403), an unknown key ->
UnrecognizedClientException (400), a malformed Authorization header -> IncompleteSignature
(400), a wrong signature or a date too far from now -> InvalidSignatureException (400).

Keys come from a file (one ``ACCESS_KEY_ID SECRET_ACCESS_KEY`` pair a line; blank lines and
lines starting with ``#`` are ignored) or, with ``--auth env``, from the AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY environment variables.

The algorithm is the documented one (canonical request, string to sign, derived signing key);
it is written out here because verifying needs the request exactly as received, which a client
signer such as botocore's does not take. The tests sign with botocore to prove the two agree.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote

from stepflow.errors import ApiError, ConfigurationError
from stepflow.server.asgi import read_body

CONTENT_TYPE = "application/x-amz-json-1.0"

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60  # AWS refuses requests more than 15 minutes from its clock
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MISSING_TOKEN = "Missing Authentication Token"
INVALID_TOKEN = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+(?P<fields>.+)$")
_FIELD = re.compile(r"\s*(\w+)=([^,\s]*)\s*,?")


def load_keys(source: str) -> dict[str, str]:
    """Access keys by id, from ``env`` (the AWS_* variables) or a key file."""
    if source == "env":
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            raise ConfigurationError("--auth env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        return {key: secret}
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigurationError(f"cannot read the --auth key file {source}: {err}") from None
    return _parse_key_file(text, source)


def _parse_key_file(text: str, source: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ConfigurationError(f"{source}:{number}: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY'")
        keys[parts[0]] = parts[1]
    if not keys:
        raise ConfigurationError(f"{source}: no access keys")
    return keys


class SigV4Verifier:
    """Checks requests against known access keys (``verify`` raises :class:`ApiError`)."""

    def __init__(self, keys: dict[str, str], now: Callable[[], float] = time.time, max_skew: float = MAX_SKEW_SECONDS):
        self.keys = dict(keys)
        self.now = now
        self.max_skew = max_skew

    def verify(self, method: str, raw_path: str, query: str, headers: list[tuple[str, str]], body: bytes) -> str:
        """The access key id that signed the request; ApiError when it is not properly signed."""
        lookup = _header_map(headers)
        authorization = lookup.get("authorization")
        if not authorization:
            raise ApiError("MissingAuthenticationToken", MISSING_TOKEN, 403)
        fields = _auth_fields(authorization[0])
        key_id, date, region, service = _credential(fields["Credential"])
        secret = self.keys.get(key_id)
        if secret is None:
            raise ApiError("UnrecognizedClientException", INVALID_TOKEN, 400)
        stamp = _amz_date(lookup)
        self._check_time(stamp)
        signed = fields["SignedHeaders"].split(";")
        canonical = canonical_request(method, raw_path, query, lookup, signed, _payload_hash(lookup, body))
        scope = f"{date}/{region}/{service}/aws4_request"
        to_sign = "\n".join((ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()))
        expected = hmac.new(signing_key(secret, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise ApiError("InvalidSignatureException", BAD_SIGNATURE, 400)
        return key_id

    def _check_time(self, stamp: str) -> None:
        try:
            signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            raise ApiError("IncompleteSignature", f"Date must be in ISO-8601 'basic format'. Got '{stamp}'.", 400) from None
        now = self.now()
        if signed_at < now - self.max_skew:
            raise ApiError("InvalidSignatureException", f"Signature expired: {stamp} is now earlier than {_stamp(now - self.max_skew)} ({_stamp(now)} - {int(self.max_skew // 60)} min.)", 400)
        if signed_at > now + self.max_skew:
            raise ApiError("InvalidSignatureException", f"Signature not yet current: {stamp} is still later than {_stamp(now + self.max_skew)} ({_stamp(now)} + {int(self.max_skew // 60)} min.)", 400)


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_request(method: str, raw_path: str, query: str, headers: dict[str, list[str]], signed: list[str], payload_hash: str) -> str:
    """The canonical request of the SigV4 documentation."""
    lines = [f"{name}:{','.join(' '.join(v.split()) for v in headers.get(name, []))}" for name in signed]
    return "\n".join((method.upper(), canonical_uri(raw_path), canonical_query(query), "\n".join(lines) + "\n", ";".join(signed), payload_hash))


def canonical_uri(raw_path: str) -> str:
    """Each path segment URI-encoded (once more, as non-S3 services sign it)."""
    return quote(raw_path or "/", safe="/~")


def canonical_query(query: str) -> str:
    """Parameters sorted by encoded name, then value, each encoded as SigV4 wants."""
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name.replace("+", " ")), safe="-_.~"), quote(unquote(value.replace("+", " ")), safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def _header_map(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name.lower(), []).append(value)
    return out


def _auth_fields(header: str) -> dict[str, str]:
    match = _AUTH.match(header.strip())
    fields = dict(_FIELD.findall(match.group("fields"))) if match else {}
    missing = [f for f in ("Credential", "SignedHeaders", "Signature") if not fields.get(f)]
    if not match or missing:
        raise ApiError("IncompleteSignature", f"Authorization header requires {', '.join(repr(m) for m in missing) or 'the AWS4-HMAC-SHA256 algorithm'}. Authorization={header}", 400)
    return fields


def _credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise ApiError("IncompleteSignature", f"Credential should be scoped to a valid region and service, not '{credential}'.", 400)
    return parts[0], parts[1], parts[2], parts[3]


def _amz_date(headers: dict[str, list[str]]) -> str:
    stamp = (headers.get("x-amz-date") or [""])[0]
    if not stamp:
        raise ApiError("IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", 400)
    return stamp


def _payload_hash(headers: dict[str, list[str]], body: bytes) -> str:
    declared = (headers.get("x-amz-content-sha256") or [""])[0]
    if declared == UNSIGNED_PAYLOAD:
        return declared
    return hashlib.sha256(body).hexdigest()


def _stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


# -- the ASGI side ------------------------------------------------------------------------------


def verify_scope(verifier: SigV4Verifier, scope: dict, body: bytes) -> None:
    """Verify one ASGI HTTP request (its scope and whole body); raises ApiError."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(scope.get("path", "/"), safe="/~!$&'()*+,;=:@")
    query = scope.get("query_string", b"").decode("latin-1")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    verifier.verify(scope.get("method", "POST"), path, query, headers, body)


class SigV4Middleware:
    """ASGI middleware: every HTTP request but ``GET /health`` must be signed.

    It reads the body, verifies, then hands the app the same body; unsigned or wrongly signed
    requests get AWS's JSON error shape and never reach the app.
    """

    def __init__(self, app, verifier: SigV4Verifier):
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or (scope["method"] == "GET" and scope["path"] == "/health"):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        try:
            verify_scope(self.verifier, scope, body)
        except ApiError as err:
            await _send_error(send, err)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_error(send, err: ApiError) -> None:
    body = json.dumps({"__type": err.code, "message": err.message}).encode()
    headers = [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", str(len(body)).encode()),
               (b"x-amzn-errortype", err.code.encode("latin-1"))]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

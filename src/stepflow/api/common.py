"""Request checks, ARNs and pagination shared by the API mixins, in AWS's words."""

from __future__ import annotations

import base64
import re
from typing import Any

from stepflow.errors import ApiError

# Names of activities, executions and state machines (the API's ``Name`` rule).
NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")
RESOURCE_NOT_FOUND = "Request references a resource that does not exist."
_VERSION_SUFFIX = re.compile(r"^[1-9][0-9]*$")


def require(**fields: Any) -> None:
    """ValidationException for the first missing required field."""
    for key, value in fields.items():
        if value is None:
            raise ApiError("ValidationException", f"1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null")


def check_name(name: Any) -> None:
    """InvalidName unless ``name`` follows the API's Name rule."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ApiError("InvalidName", f"Invalid Name: '{name}'")


def invalid_arn(arn: Any) -> ApiError:
    """AWS's InvalidArn for an ARN of the wrong kind."""
    return ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'")


def arn_parts(arn: Any) -> list[str] | None:
    """``arn:aws:states:REGION:ACCOUNT:KIND:NAME[:QUALIFIER...]`` split on ':', or None."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "states" or not parts[6]:
        return None
    return parts


def arn_kind(arn: Any) -> str | None:
    """``stateMachine``, ``version``, ``alias``, ``activity``, ``execution``... or None.

    A state machine ARN with a numeric qualifier is a version, with another qualifier an alias.
    """
    parts = arn_parts(arn)
    if parts is None:
        return None
    kind = parts[5]
    if kind == "stateMachine" and len(parts) == 8:
        return "version" if _VERSION_SUFFIX.match(parts[7]) else "alias"
    if kind in ("stateMachine", "activity") and len(parts) != 7:
        return None
    return kind


def base_machine_arn(arn: str) -> str:
    """The unqualified state machine ARN of a version or alias ARN."""
    return ":".join(arn.split(":")[:7])


def expect_kind(arn: Any, *kinds: str) -> str:
    """The ARN's kind when it is one of ``kinds``, else InvalidArn."""
    kind = arn_kind(arn)
    if kind not in kinds:
        raise invalid_arn(arn)
    return kind


def paginate(items: list, max_results: Any, token: str | None, limit: int = 1000) -> tuple[list, str | None]:
    """One page and the next token (an opaque offset); InvalidToken for a token we did not make."""
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise ApiError("InvalidToken", f"Invalid Token: '{token}'") from None
    if max_results is not None and (not isinstance(max_results, int) or not 0 <= max_results <= limit):
        raise ApiError("ValidationException", f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {limit}")
    size = max_results or 100
    end = start + size
    next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], next_token


def with_token(out: dict, token: str | None) -> dict:
    """Add ``nextToken`` when there is a next page."""
    if token is not None:
        out["nextToken"] = token
    return out

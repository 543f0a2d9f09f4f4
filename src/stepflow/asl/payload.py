"""Payload templates: Parameters, ResultSelector, ItemSelector and JSONPath-mode Assign.

A key ending in ``.$`` takes a path (``$...``, ``$$...``, ``$var...``) or an intrinsic call, and
loses its ``.$`` in the output; objects and arrays are walked; any other value is a literal.
Everything is compiled once: evaluating a template is a straight walk of prebuilt closures.

Each evaluation builds fresh objects and arrays, so callers may mutate the result; scalar
literals are shared, and values read through a path are the input's own (not copied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stepflow.asl.intrinsics import compile_intrinsic, is_intrinsic
from stepflow.asl.json_text import dumps
from stepflow.asl.jsonpath import JsonPath, PathNotFound, compile_path
from stepflow.errors import RUNTIME, StatesError

if TYPE_CHECKING:
    from stepflow.asl.env import Env

Builder = Callable[["Env"], Any]
PATH, INTRINSIC = "path", "intrinsic"


def expression_kind(text: Any) -> str | None:
    """``"intrinsic"``, ``"path"`` or ``None``: what a ``.$`` value is meant to be."""
    if is_intrinsic(text):
        return INTRINSIC
    if isinstance(text, str) and text.lstrip().startswith("$"):
        return PATH
    return None


def compile_payload_template(value: Any, field: str = "Parameters") -> Builder:
    """Compile a payload template to ``env -> value``; ``ValueError`` names a bad ``.$`` field."""
    return _compile(value, field)


def _compile(value: Any, field: str) -> Builder:
    if isinstance(value, dict):
        return _compile_object(value, field)
    if isinstance(value, list):
        return _compile_array(value, field)
    return lambda env: value


def _compile_object(template: dict, field: str) -> Builder:
    entries = tuple(_compile_entry(key, child, field) for key, child in template.items())

    def build(env: Env) -> dict:
        return {key: make(env) for key, make in entries}

    return build


def _compile_array(template: list, field: str) -> Builder:
    items = tuple(_compile(child, field) for child in template)

    def build(env: Env) -> list:
        return [make(env) for make in items]

    return build


def _compile_entry(key: str, child: Any, field: str) -> tuple[str, Builder]:
    if not key.endswith(".$"):
        return key, _compile(child, field)
    kind = expression_kind(child)
    if kind is None:
        raise ValueError(
            f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic "
            f"function call (in {field})"
        )
    try:
        if kind == INTRINSIC:
            return key[:-2], _guard(compile_intrinsic(child), key)
        return key[:-2], _guard_path(compile_path(child), key)
    except ValueError as exc:
        raise ValueError(
            f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic "
            f"function call (in {field}): {exc}"
        ) from None


def _guard_path(path: JsonPath, key: str) -> Builder:
    """A path lookup whose miss becomes AWS's States.Runtime error."""
    get = path.get

    def read(env: Env) -> Any:
        try:
            return get(env)
        except PathNotFound as exc:
            raise not_found_error(exc, key) from None

    return read


def _guard(evaluate: Builder, key: str) -> Builder:
    """An intrinsic call whose argument paths may miss."""

    def run(env: Env) -> Any:
        try:
            return evaluate(env)
        except PathNotFound as exc:
            raise not_found_error(exc, key) from None

    return run


def not_found_error(exc: PathNotFound, key: str) -> StatesError:
    """AWS's cause for a ``.$`` path with no match; it prints the document the path read."""
    return StatesError(
        RUNTIME,
        f"The JSONPath '{exc.path}' specified for the field '{key}' could not be found "
        f"in the input '{dumps(exc.document)}'",
    )

"""Validation problems as ``file:line: field.path: message`` lines a newcomer can act on."""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from pydantic import BaseModel
from pydantic_core import ErrorDetails

#: Values of these keys are never echoed back in a message, even if written literally in a file.
SECRET_KEYS = {"password", "token", "key", "client_secret", "secret", "api_key", "storage_options"}


@dataclass(frozen=True)
class Issue:
    file: str
    path: str
    message: str
    line: int | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.path}:" if self.path else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}:{field} {prefix}{self.message}"


def format_path(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def data_path(data: Any, loc: Sequence[str | int]) -> list[str | int]:
    """Map a pydantic ``loc`` onto the document, dropping union tags and validator names."""
    out: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and isinstance(part, str) and _is_tag(part, current):
            continue  # a discriminator tag or validator name, not part of the document
        if isinstance(current, dict) and part in current:
            current = current[part]
            out.append(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            out.append(part)
        elif isinstance(current, dict) and isinstance(part, str):
            out.append(part)  # a missing or unknown key: still part of the path
            current = None
    return out


def _is_tag(part: str, current: dict) -> bool:
    return "[" in part or current.get("type") == part


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, Annotated, list, dict, unions)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if origin in (list, tuple, set):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if origin is dict:
        return _unwrap(typing.get_args(annotation)[1])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def allowed_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Keys accepted by the model that holds the last element of ``loc``."""
    candidates: list[type[BaseModel]] = [root]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        matched = [c for c in candidates if part in _field_names(c)]
        if matched:
            nxt: list[type[BaseModel]] = []
            for c in matched:
                for name, f in c.model_fields.items():
                    if (f.alias or name) == part:
                        nxt.extend(_unwrap(f.annotation))
            candidates = nxt
        else:  # a union tag selects the member whose ``type`` literal matches
            tagged = [c for c in candidates if _literal_type(c) == part]
            if tagged:
                candidates = tagged
    names: list[str] = []
    for c in candidates:
        for n in _field_names(c):
            if n not in names:
                names.append(n)
    return names


def _literal_type(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(error: ErrorDetails, root: type[BaseModel], key: str | int | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    secret = isinstance(key, str) and key in SECRET_KEYS
    got = "" if secret else f", got {_show(value)}"
    if kind == "extra_forbidden":
        allowed = allowed_keys(root, error["loc"])
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{key}'{hint}; expected one of: {', '.join(allowed)}"
    if kind == "missing":
        return f"missing required key '{key}'"
    if kind == "union_tag_invalid":
        return f"unknown type {ctx.get('tag')!r}; expected one of: {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"missing '{ctx.get('discriminator', 'type').strip(chr(39))}'; it selects the kind of block"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}{got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()))
        return f"expected a number {op} {bound}{got}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s){got}"
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "model_type" or kind == "dict_type":
        return f"expected a mapping of keys{got}"
    if kind == "list_type":
        return f"expected a list{got}"
    msg = str(error["msg"]).replace("Input should be", "expected")
    return f"{msg}{got}"


def from_validation_error(
    errors: Iterable[ErrorDetails], *, root: type[BaseModel], data: Any, file: str, line_of: Callable[[list], int | None]
) -> list[Issue]:
    """One issue per error of a ``ValidationError.errors()`` list."""
    issues = []
    for error in errors:
        parts = data_path(data, error["loc"])
        key = parts[-1] if parts else None
        issues.append(
            Issue(file=file, path=format_path(parts), message=describe(error, root, key), line=line_of(parts))
        )
    return issues

"""The user's reference (docs/reference.md), generated from the definition models.

Every model field carries an attribute docstring whose last sentence is ``Example: `value```;
:func:`field_doc` splits it into the description and the example, :func:`render` writes one
table per model (one per ``type`` for the kinds chosen by ``type``).
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .connection import Connection
from .hook import Hook
from .pipeline import Pipeline

EXAMPLE = re.compile(r"\s*Example: `(?P<example>.+)`\s*$", re.DOTALL)

DOCUMENTS: list[tuple[str, Any, str]] = [
    ("Connection documents", Connection, "One file per connection in `connections/`: a REST API or a folder of Delta tables, chosen by `type`."),
    ("Pipeline documents", Pipeline, "One file per pipeline in `pipelines/`: tables read from a source connection and written to a destination."),
    ("Hook documents", Hook, "One file per hook in `hooks/`: an HTTP call made on pipeline events."),
]

HEADER = """# Definition reference

Generated from the definition models by `restsync docs` (`make docs`); do not edit by hand.
Each table lists a block's keys with their type, default and an example value.
Templates (`{{ env.NAME }}`, `{{ parent.NAME }}`, …) are described in the guides.
"""


@dataclass(frozen=True)
class FieldDoc:
    name: str
    type: str
    default: str
    description: str
    example: str


def field_doc(name: str, info: FieldInfo) -> FieldDoc:
    """A field's type, default, description and example (empty strings when missing)."""
    text = " ".join((info.description or "").split())
    match = EXAMPLE.search(text)
    example = match.group("example") if match else ""
    description = text[: match.start()].strip() if match else text
    return FieldDoc(info.alias or name, type_name(info.annotation), _default(info), description, example)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.get_default(call_default_factory=True, validated_data={})
    else:
        value = info.default
    if value is PydanticUndefined or value is None:
        return "—"
    if isinstance(value, BaseModel):
        value = value.model_dump()
    return json.dumps(value)


def _args(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(annotation)


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = _args(annotation)[0]
    return annotation


def type_name(annotation: Any) -> str:
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in _args(annotation))
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in _args(annotation) if a is not type(None)]
        union = " \\| ".join(type_name(a) for a in parts)
        return union + (" \\| null" if len(parts) < len(_args(annotation)) else "")
    if origin is list:
        return f"list[{type_name(_args(annotation)[0])}]"
    if origin is dict:
        key, value = _args(annotation)
        return f"map[{type_name(key)}, {type_name(value)}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if annotation is Any:
        return "any"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in _args(annotation):
        yield from _models_in(arg)


def models(root: Any) -> list[type[BaseModel]]:
    """Every model reachable from ``root``, in the order first met (breadth first)."""
    seen: list[type[BaseModel]] = []
    queue = list(_models_in(root))
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            queue.extend(m for m in _models_in(info.annotation) if m not in seen)
    return seen


def all_models() -> list[type[BaseModel]]:
    out: list[type[BaseModel]] = []
    for _, root, _ in DOCUMENTS:
        out.extend(m for m in models(root) if m not in out)
    return out


def undocumented() -> list[str]:
    """``Model.field`` of every field without a description or an example."""
    missing = []
    for model in all_models():
        for name, info in model.model_fields.items():
            doc = field_doc(name, info)
            if not doc.description or not doc.example:
                missing.append(f"{model.__name__}.{name}")
    return missing


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _section(model: type[BaseModel]) -> list[str]:
    lines = [f"### {model.__name__}", ""]
    kind = model.model_fields.get("type")
    kinds = _args(_strip(kind.annotation)) if kind is not None else ()
    if len(kinds) == 1:
        lines += [f"Chosen by `type: {kinds[0]}`.", ""]
    lines += ["| Field | Type | Default | Description | Example |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        doc = field_doc(name, info)
        lines.append(f"| `{doc.name}` | {doc.type} | {_cell(doc.default)} | {_cell(doc.description)} | `{_cell(doc.example)}` |")
    return lines + [""]


def render() -> str:
    """The whole reference, deterministic for a given set of models."""
    out = [HEADER]
    done: set[type[BaseModel]] = set()
    for title, root, intro in DOCUMENTS:
        out += [f"## {title}", "", intro, ""]
        for model in models(root):
            if model in done:
                continue
            done.add(model)
            out += _section(model)
    return "\n".join(out).rstrip() + "\n"

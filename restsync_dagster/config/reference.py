"""The user reference (docs/reference.md), generated from the definition models' field docstrings.

A field's docstring is its description; its example is written either as ``Example: `value` `` at the
end or as ``e.g. ``value`` `` inside the text (several joined by ``or``). The example is shown in its own
column and removed from the description.
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .connection import DeltaConnection, RestConnection
from .hook import Hook
from .pipeline import Pipeline

#: The document kinds, with the folder their files live in.
DOCUMENTS: list[tuple[str, type[BaseModel], str]] = [
    ("REST connection", RestConnection, "connections/"),
    ("Delta connection", DeltaConnection, "connections/"),
    ("Pipeline", Pipeline, "pipelines/"),
    ("Hook", Hook, "hooks/"),
]

_EXAMPLE_END = re.compile(r"\s*Example:\s*`(?P<value>[^`]+(?:`[^`]*`)*?)`\s*$", re.S)
_EXAMPLE_EG = re.compile(r",?\s*\(?e\.g\.\s*(?P<values>``.+?``(?:\s*or\s*``.+?``)*)\)?", re.S)
_CODE = re.compile(r"``(.+?)``", re.S)

HEADER = (
    "# Definitions reference\n\n"
    "Generated from the definition models by `make docs` (`restsync docs`); do not edit by hand.\n"
    "Every field of every document kind, with its YAML path, type, default, description and an example.\n"
    "Guides: [docs/index.md](index.md).\n"
)


@dataclass(frozen=True)
class FieldDoc:
    path: str
    type: str
    default: str
    description: str
    example: str


@dataclass(frozen=True)
class Section:
    title: str
    anchor: str
    model: type[BaseModel]
    path: str
    fields: tuple[FieldDoc, ...]


def split_example(doc: str | None) -> tuple[str, str]:
    """(description, example) of a field docstring; example is ``""`` when it has none."""
    text = " ".join((doc or "").split())
    match = _EXAMPLE_END.search(text)
    if match:
        return text[: match.start()].strip(), match.group("value").strip()
    match = _EXAMPLE_EG.search(text)
    if match:
        values = _CODE.findall(match.group("values"))
        description = (text[: match.start()] + text[match.end() :]).strip()
        description = re.sub(r"\s+([.,;:])", r"\1", description).replace("()", "").strip()
        return description, " or ".join(v.strip() for v in values)
    return text, ""


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return [_unwrap(a) for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _type_text(annotation: Any, anchors: dict[type, str]) -> str:
    parts = []
    for tp in _members(annotation):
        origin = typing.get_origin(tp)
        if origin is Literal:
            parts.append(" \\| ".join(f"`{json.dumps(v)}`" if not isinstance(v, str) else f"`{v}`" for v in typing.get_args(tp)))
        elif origin is list:
            parts.append(f"list of {_type_text(typing.get_args(tp)[0], anchors)}")
        elif origin is dict:
            parts.append(f"map of {_type_text(typing.get_args(tp)[1], anchors)}")
        elif _is_model(tp):
            parts.append(f"[{tp.__name__}](#{anchors.get(tp, tp.__name__.lower())})")
        elif tp is Any:
            parts.append("any")
        else:
            parts.append(getattr(tp, "__name__", str(tp)))
    return " \\| ".join(parts)


def _nested(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for tp in _members(annotation):
        if _is_model(tp):
            found.append(tp)
        for arg in typing.get_args(tp):
            found.extend(m for m in _nested(arg) if m not in found)
    return found


def _default(info: Any) -> str:
    if info.is_required():
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        value = value.model_dump()
    return f"`{json.dumps(value)}`"


def _kind(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("type")
    if info is None:
        return None
    args = typing.get_args(_unwrap(info.annotation))
    return args[0] if typing.get_origin(_unwrap(info.annotation)) is Literal and len(args) == 1 else None


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")


def sections() -> list[Section]:
    """Every model reachable from the document kinds, once each, in document then field order."""
    order: list[tuple[str, type[BaseModel], str]] = []
    seen: set[type] = set()

    def visit(model: type[BaseModel], path: str, title: str) -> None:
        if model in seen:
            return
        seen.add(model)
        order.append((title, model, path))
        for name, info in model.model_fields.items():
            key = info.alias or name
            for sub in _nested(info.annotation):
                suffix = "[]" if typing.get_origin(_unwrap(_members(info.annotation)[0])) is list else ""
                kind = _kind(sub)
                label = f"{path}{key}{suffix}" if path else key + suffix
                visit(sub, label + ".", f"`{label}`" + (f" (type `{kind}`)" if kind else f": {sub.__name__}"))

    for title, model, _folder in DOCUMENTS:
        visit(model, "", f"{title} document")
    anchors = {model: _anchor(title) for title, model, _path in order}
    out = []
    for title, model, path in order:
        docs = []
        for name, info in model.model_fields.items():
            description, example = split_example(info.description)
            docs.append(
                FieldDoc(
                    path=f"{path}{info.alias or name}",
                    type=_type_text(info.annotation, anchors),
                    default=_default(info),
                    description=description,
                    example=example,
                )
            )
        out.append(Section(title=title, anchor=anchors[model], model=model, path=path, fields=tuple(docs)))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    if not text:
        return ""
    return f"`` {_cell(text)} ``" if "`" in text else f"`{_cell(text)}`"


def render() -> str:
    """docs/reference.md, deterministic for given models."""
    parts = [HEADER]
    all_sections = sections()
    parts.append("\n## Contents\n\n" + "\n".join(f"- [{s.title}](#{s.anchor})" for s in all_sections) + "\n")
    for section in all_sections:
        parts.append(f"\n<a id=\"{section.anchor}\"></a>\n\n## {section.title}\n")
        if section.model.__doc__:
            parts.append("\n" + " ".join(section.model.__doc__.split()) + "\n")
        parts.append("\n| Field | Type | Default | Description | Example |\n|---|---|---|---|---|\n")
        for f in section.fields:
            parts.append(f"| `{f.path}` | {f.type} | {_cell(f.default)} | {_cell(f.description)} | {_code(f.example)} |\n")
    return "".join(parts)


def missing() -> list[str]:
    """``Model.field`` of every reachable field without a description or an example."""
    out = []
    for section in sections():
        for f in section.fields:
            name = f"{section.model.__name__}.{f.path.rsplit('.', 1)[-1]} ({f.path})"
            if not f.description:
                out.append(f"{name}: no description")
            elif not f.example:
                out.append(f"{name}: no example")
    return out

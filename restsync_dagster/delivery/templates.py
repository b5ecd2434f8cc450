"""``#{field}`` templates of a REST destination.

A template is compiled once into literal text and placeholders, then rendered per record. What a
value becomes depends on where the template is used (its *context*):

=============  =====================================================================================
context        a placeholder is replaced by
=============  =====================================================================================
``url``        the value's text, percent-encoded with nothing left safe (``/``, ``?``, ``&``, ``#``,
               spaces…), so a value is always exactly one path segment or one query value
``header``     the value's text
``json``       *outside* a JSON string literal: the value as JSON (``42``, ``true``, ``null``,
               ``"text"`` with its quotes, an object for a ``json``/``struct`` column);
               *inside* a string literal (``"id-#{id}"``): the value's text, JSON-escaped without
               quotes, so the payload stays valid JSON whatever the value holds
``form``       the value's text, ``application/x-www-form-urlencoded``-encoded (``quote_plus``)
``text``       the value's text, as is (CSV payload templates: quoting is the template's business)
=============  =====================================================================================

The *text* of a value: ``None`` → empty, booleans → ``true``/``false``, objects and lists → compact
JSON, bytes → base64, anything else → ``str`` (timestamps are already ISO 8601 text by then, see
``records``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, quote_plus

import orjson

from ..config.destination import FIELD_REF
from ..errors import TemplateError

Context = Literal["url", "header", "json", "form", "text"]


def json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """Compact JSON, bytes as base64 (the one JSON encoder of the delivery package)."""
    return orjson.dumps(value, default=json_default)


def as_text(value: Any) -> str:
    """A record value as text (see the module doc)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return dumps(value).decode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return str(value)


def _json_string_body(text: str) -> str:
    return orjson.dumps(text).decode()[1:-1]


def _string_spans(text: str) -> list[tuple[int, int]]:
    """Start/end offsets of the JSON string literals in ``text`` (quotes included)."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            start = i
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            spans.append((start, i + 1))
        i += 1
    return spans


@dataclass(frozen=True, slots=True)
class _Slot:
    field: str
    quoted: bool


class Template:
    """A compiled ``#{field}`` template; ``render(row)`` fills it from one record's columns."""

    __slots__ = ("text", "context", "_parts", "fields")

    def __init__(self, text: str, context: Context):
        self.text = text
        self.context = context
        spans = _string_spans(text) if context == "json" else []
        parts: list[str | _Slot] = []
        pos = 0
        for match in FIELD_REF.finditer(text):
            if match.start() > pos:
                parts.append(text[pos : match.start()])
            quoted = any(a < match.start() and match.end() <= b for a, b in spans)
            parts.append(_Slot(match.group(1), quoted))
            pos = match.end()
        if pos < len(text):
            parts.append(text[pos:])
        self._parts = tuple(parts)
        self.fields: tuple[str, ...] = tuple(dict.fromkeys(p.field for p in parts if isinstance(p, _Slot)))

    @property
    def is_static(self) -> bool:
        return not self.fields

    def render(self, row: Mapping[str, Any]) -> str:
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            try:
                value = row[part.field]
            except KeyError:
                raise TemplateError(
                    f"#{{{part.field}}} names no column of the record; columns are {', '.join(row)}"
                ) from None
            out.append(self._encode(value, part.quoted))
        return "".join(out)

    def _encode(self, value: Any, quoted: bool) -> str:
        if self.context == "url":
            return quote(as_text(value), safe="")
        if self.context == "form":
            return quote_plus(as_text(value))
        if self.context == "json":
            return _json_string_body(as_text(value)) if quoted else dumps(value).decode()
        return as_text(value)

    def __repr__(self) -> str:
        return f"Template({self.text!r}, {self.context!r})"


__all__ = ["Context", "Template", "as_text", "dumps", "json_default"]

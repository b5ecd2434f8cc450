"""Record shapes beyond a JSON list: compressed bodies, JSON lines, header rows, exploded lists.

``response.format`` picks the decoder (``json``, ``jsonl``, ``csv``, ``header_rows``),
``response.compression`` unpacks a ``gzip`` or ``zip`` body first (``Content-Encoding: gzip`` is
undone by httpx already), and ``response.explode`` turns every element of a nested list into a row.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from typing import Any

import orjson

from .jsonpath import MISSING, find

EXPLODE_PREFIX = "parent_"
"""Prefix of the parent record's fields on an exploded row (``id`` → ``parent_id``)."""


class DecodeError(ValueError):
    """A body that cannot be decompressed or decoded as its format says; the caller names the page."""


def decompress(content: bytes, compression: str | None) -> list[bytes]:
    """The files in ``content``: itself, gunzipped, or every file of a zip archive in order.
    ``auto`` goes by the magic bytes."""
    if compression == "auto":
        compression = "gzip" if content[:2] == b"\x1f\x8b" else "zip" if content[:4] == b"PK\x03\x04" else None
    try:
        if compression == "gzip":
            return [gzip.decompress(content)]
        if compression == "zip":
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return [archive.read(info) for info in archive.infolist() if not info.is_dir()]
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DecodeError(f"cannot decompress the body as {compression}: {exc}") from None
    return [content]


def parse_jsonl(content: bytes) -> list[Any]:
    """One JSON value per non-blank line."""
    out = []
    for number, line in enumerate(content.splitlines(), 1):
        if line.strip():
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise DecodeError(f"line {number} is not valid JSON: {exc.args[0] if exc.args else exc}") from None
    return out


def from_header_rows(rows: list[Any]) -> list[dict[str, Any]]:
    """``[[names...], [values...], ...]`` → one dict per row after the first."""
    if not rows:
        return []
    names = rows[0]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DecodeError(f"the first row must list the column names as strings, got {_short(names)}")
    out = []
    for index, row in enumerate(rows[1:], 1):
        if not isinstance(row, list) or len(row) != len(names):
            raise DecodeError(f"row {index} has {len(row) if isinstance(row, list) else _short(row)} values, "
                              f"expected {len(names)} ({', '.join(names)})")
        out.append(dict(zip(names, row)))
    return out


def explode(records: list[Any], path: str) -> list[Any]:
    """One row per element of the list at ``path`` in each record; the record's other top-level
    fields are kept with :data:`EXPLODE_PREFIX` (an element's own field of the same name wins). A
    scalar element becomes a column named after the path's last part; a record whose list is
    absent, null or empty gives no row."""
    top = path.split(".", 1)[0]
    leaf = path.rsplit(".", 1)[-1]
    rows: list[Any] = []
    for record in records:
        if not isinstance(record, dict):
            raise DecodeError(f"response.explode {path!r} needs object records, got {_short(record)}")
        items = find(record, path)
        if items is MISSING or items is None:
            continue
        owner = path if path in record else top
        parent = {EXPLODE_PREFIX + k: v for k, v in record.items() if k != owner}
        for item in items if isinstance(items, list) else [items]:
            rows.append({**parent, **item} if isinstance(item, dict) else {**parent, leaf: item})
    return rows


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

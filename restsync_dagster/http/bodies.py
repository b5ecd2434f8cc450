"""Body formats: encoding request bodies and turning response bodies into records.

Response parsing raises :class:`SoftFailure` for bodies that look like a transient upstream fault
(HTML error pages served with 200, truncated JSON, ``success: false``); the client retries those
like a 503. A body that parses but does not hold records where the table says is a
:class:`~restsync_dagster.errors.ResponseError` and is not retried.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import orjson

from .jsonpath import MISSING, find, keys_of

MediaType = Literal["json", "csv", "xml"]
RequestMediaType = Literal["json", "url_encoded", "form", "xml", "text"]

_CONTENT_TYPES = {
    "json": "application/json",
    "url_encoded": "application/x-www-form-urlencoded",
    "form": "application/x-www-form-urlencoded",
    "xml": "application/xml",
    "text": "text/plain",
}


class SoftFailure(Exception):
    """A 2xx response whose body says the request did not really work; retried like a 503."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def encode_body(body: Any, media_type: RequestMediaType = "json") -> tuple[bytes, str] | None:
    """``body`` as bytes plus its Content-Type, or None when there is no body."""
    if body is None:
        return None
    if media_type == "json":
        return orjson.dumps(body), _CONTENT_TYPES["json"]
    if media_type in ("url_encoded", "form"):
        if isinstance(body, dict):
            data = urlencode({k: "" if v is None else v for k, v in body.items()}, doseq=True)
        else:
            data = str(body)
        return data.encode(), _CONTENT_TYPES[media_type]
    if media_type in ("xml", "text"):
        return str(body).encode(), _CONTENT_TYPES[media_type]
    raise ValueError(f"unknown body media_type {media_type!r}; expected json, url_encoded, form, xml or text")


def parse_json(content: bytes, content_type: str = "") -> Any:
    """Parse a JSON body; HTML and truncated or malformed JSON are soft failures."""
    if not content.strip():
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        head = content.lstrip()[:1]
        if head == b"<" or "html" in content_type:
            reason = f"expected JSON, got HTML ({content_type or 'no content-type'}, {len(content)} bytes)"
        else:
            reason = f"body is not valid JSON ({len(content)} bytes, truncated?): {exc.args[0] if exc.args else exc}"
    raise SoftFailure(reason)


def parse_csv(text: str) -> list[dict[str, str]]:
    if text.lstrip()[:1] == "<":
        raise SoftFailure("expected CSV, got HTML")
    return list(csv.DictReader(io.StringIO(text)))


def _xml_value(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children:
        return element.text.strip() if element.text and element.text.strip() else element.text
    out: dict[str, Any] = {}
    for child in children:
        value = _xml_value(child)
        if child.tag in out:
            existing = out[child.tag]
            if isinstance(existing, _Repeated):
                existing.append(value)
            else:
                out[child.tag] = _Repeated([existing, value])
        else:
            out[child.tag] = value
    return out


class _Repeated(list):
    """A list built from repeated sibling tags (so a text value that is a list is not mistaken)."""


def parse_xml(content: bytes) -> Any:
    """A small XML → dict mapping: children become keys, repeated tags become lists, text stays text.

    The root element is the top-level object (``<response><data><record>`` → root_key
    ``data.record``); values stay strings, typing happens downstream.
    """
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise SoftFailure(f"body is not valid XML ({len(content)} bytes, truncated?): {exc}") from None
    return _xml_value(root)


def parse_response(response: httpx.Response, media_type: MediaType) -> Any:
    """The parsed body of ``response`` in the connection's media type."""
    content_type = response.headers.get("content-type", "")
    if media_type == "json":
        return parse_json(response.content, content_type)
    if media_type == "csv":
        return parse_csv(response.text)
    if media_type == "xml":
        if not response.content.strip():
            return None
        return parse_xml(response.content)
    raise ValueError(f"unknown media_type {media_type!r}; expected json, csv or xml")


def check_success(data: Any, field: str | None, values: list[Any] | None) -> None:
    """``success_field``: a page whose field is not one of ``values`` is a soft failure."""
    if not field:
        return
    value = find(data, field)
    if value is MISSING:
        raise SoftFailure(f"success field {field!r} is missing (body keys: {keys_of(data)})")
    if not any(same_value(value, allowed) for allowed in values or []):
        raise SoftFailure(f"success field {field!r} is {_short(value)}, expected one of {values!r}")


def check_errors(data: Any, path: str) -> None:
    """``response.error_path``: a 200 whose body holds a non-empty value there (GraphQL's ``errors``)
    is a failed request; a soft failure, so it is retried like a 503 and then fails naming the path."""
    value = find(data, path)
    if value is MISSING or value is None or value in ("", [], {}, False):
        return
    raise SoftFailure(f"the body has errors at {path!r}: {_short(value, 200)}")


def json_text(value: Any) -> str | None:
    """How a JSON scalar is written in a body (``true``, ``null``, ``3``, ``2.5``); None for strings
    and containers."""
    if value is None or isinstance(value, (bool, int, float)):
        return orjson.dumps(value).decode()
    return None


def same_value(value: Any, allowed: Any) -> bool:
    """Exact, case-sensitive match: ``True`` is not ``1``; ``1 == 1.0``. A configured string also
    matches a JSON scalar written that way (``"true"`` matches ``true``, ``"200"`` matches ``200``),
    since YAML users quote what the API answers."""
    if isinstance(allowed, str) and not isinstance(value, str):
        text = json_text(value)
        return text is not None and (text == allowed or (isinstance(value, float) and value.is_integer()
                                                          and str(int(value)) == allowed))
    if isinstance(value, bool) or isinstance(allowed, bool):
        return type(value) is type(allowed) and value == allowed
    if isinstance(value, (int, float)) and isinstance(allowed, (int, float)):
        return value == allowed
    return type(value) is type(allowed) and value == allowed


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RecordsNotFound(Exception):
    """``root_key`` found nothing; carries the keys the body has (the caller adds table and page)."""

    def __init__(self, path: str, keys: list[str]):
        self.path = path
        self.keys = keys
        super().__init__(path)


def extract_records(data: Any, root_key: str | None) -> list[Any]:
    """The records of a parsed body: the list at ``root_key`` (or the body), a dict is one record.

    The list is the parser's own object, not a copy.
    """
    if root_key:
        found = find(data, root_key)
        if found is MISSING:
            raise RecordsNotFound(root_key, keys_of(data))
    else:
        found = data
    if found is None:
        return []
    if isinstance(found, list):
        return found
    if isinstance(found, dict):
        return [found]
    raise RecordsNotFound(root_key or "", [f"<{type(found).__name__}: not an object or a list>"])

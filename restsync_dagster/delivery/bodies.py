"""Request bodies of a REST destination, per ``body_format``.

One record (``request_mode: single``) or a list of them (``batch``, ``one_request``):

==============  ==============================================  ==========================================
body_format     one record                                      several records
==============  ==============================================  ==========================================
``json``        ``{...fields}``                                 ``[{...}, {...}]``
                with ``nested_attribute: data``:                ``{"data": [{...}, {...}]}``
                ``{"data": {...fields}}``
``csv``         header line + one row (``text/csv``, CRLF)      header line + one row per record
``url_encoded`` ``name=Ada&age=36``                             ``data[0][name]=Ada&data[1][name]=…``
                (``data[name]=Ada`` when nested)                (needs ``nested_attribute``)
``form_data``   multipart, one part per field; bytes values     as ``url_encoded``, one part per value
                are file parts (``application/octet-stream``)
==============  ==============================================  ==========================================

**static_fields** are top-level keys of every body object: beside the wrapper with a
``nested_attribute``, merged into the record without one; when the body is a bare JSON list (several
records, no ``nested_attribute``) or CSV, they are added to every record (an extra CSV column). A
static field with the name of a record field is an error, not a silent overwrite.

**custom_payload** replaces the automatic body (``templates`` documents how values are inserted):
``json`` renders it per record (a list or the wrapper holds several); ``csv`` renders one line per
record, joined with CRLF; ``url_encoded`` is rendered as is (values ``quote_plus``-encoded) and
``form_data`` must render to a JSON object whose members become the parts — both one record per
request. Flat form and CSV values are text: ``true``/``false``, empty for null, objects as JSON,
bytes as base64.

No body is sent with ``GET``, nor with a single-record ``DELETE`` without a ``custom_payload`` (the
URL names the record). ``Content-Type`` follows the format unless the request's headers set one.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from ..config.destination import DestinationRequest
from ..errors import DeliveryError
from .records import Record
from .templates import Context, Template, as_text, dumps

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "url_encoded": "application/x-www-form-urlencoded",
}
_PAYLOAD_CONTEXT: dict[str, Context] = {"json": "json", "csv": "text", "url_encoded": "form", "form_data": "json"}


@dataclass(slots=True)
class Body:
    content: bytes | None
    content_type: str | None


NO_BODY = Body(None, None)


class BodyBuilder:
    """Builds the body of one request from its records, per one ``DestinationRequest``."""

    def __init__(self, request: DestinationRequest):
        self.request = request
        self.format = request.body_format
        self.nested = request.nested_attribute or None
        self.static: dict[str, Any] = dict(request.static_fields)
        self.many = request.request_mode != "single"
        self.payload = Template(request.custom_payload, _PAYLOAD_CONTEXT[self.format]) if request.custom_payload is not None else None
        self.sends_body = request.method != "GET" and not (
            request.method == "DELETE" and not self.many and self.payload is None
        )
        self._check()

    def _check(self) -> None:
        fmt, mode = self.format, self.request.request_mode
        if fmt == "csv" and self.nested:
            raise DeliveryError("nested_attribute wraps JSON, URL-encoded or form bodies; a CSV body cannot be nested")
        if fmt == "csv" and self.payload is not None and self.static:
            raise DeliveryError("static_fields cannot be added to a CSV custom_payload; put the constants in the template")
        if fmt in ("url_encoded", "form_data") and self.many:
            if self.payload is not None:
                raise DeliveryError(f"a custom_payload with body_format {fmt} sends one record per request; "
                                    f"use request_mode single (request_mode is {mode!r})")
            if not self.nested:
                raise DeliveryError(f"body_format {fmt} with request_mode {mode!r} needs a nested_attribute to name "
                                    "the list (nested_attribute: records → records[0][name]=…)")

    @property
    def payload_fields(self) -> tuple[str, ...]:
        return self.payload.fields if self.payload is not None else ()

    def build(self, records: Sequence[Record]) -> Body:
        if not self.sends_body:
            return NO_BODY
        if self.format == "json":
            return Body(self._json(records), CONTENT_TYPES["json"])
        if self.format == "csv":
            return Body(self._csv(records), CONTENT_TYPES["csv"])
        if self.format == "url_encoded":
            return Body(self._url_encoded(records), CONTENT_TYPES["url_encoded"])
        return self._multipart(records)

    # -- json ----------------------------------------------------------------------------------
    def _objects(self, records: Sequence[Record]) -> list[Any]:
        if self.payload is None:
            return [r.fields for r in records]
        out = []
        for r in records:
            try:
                out.append(orjson.loads(self.payload.render(r.row)))
            except orjson.JSONDecodeError as exc:
                raise DeliveryError(f"custom_payload rendered for record {r.key} is not valid JSON: {exc}") from None
        return out

    def _merge_static(self, obj: Any) -> Any:
        if not self.static:
            return obj
        if not isinstance(obj, dict):
            raise DeliveryError(f"static_fields need a JSON object to go into, but the payload is a {type(obj).__name__}")
        clash = self.static.keys() & obj.keys()
        if clash:
            raise DeliveryError(f"static field(s) {', '.join(sorted(map(repr, clash)))} would overwrite record "
                                "field(s) of the same name; rename one of them")
        return {**obj, **self.static}

    def _json(self, records: Sequence[Record]) -> bytes:
        if self.payload is not None and not self.static and not self.nested:
            rendered = [self.payload.render(r.row) for r in records]
            for text, r in zip(rendered, records):
                _check_json(text, r)
            return (("[" + ",".join(rendered) + "]") if self.many else rendered[0]).encode()
        objects = self._objects(records)
        if self.nested:
            inner = objects if self.many else objects[0]
            return dumps(self._merge_static({self.nested: inner}))
        if self.many:
            return dumps([self._merge_static(o) for o in objects])
        return dumps(self._merge_static(objects[0]))

    # -- csv -----------------------------------------------------------------------------------
    def _csv(self, records: Sequence[Record]) -> bytes:
        if self.payload is not None:
            return "\r\n".join(self.payload.render(r.row) for r in records).encode()
        rows = [self._merge_static(r.fields) for r in records]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        header = list(rows[0])
        writer.writerow(header)
        for row in rows:
            writer.writerow([as_text(row.get(name)) for name in header])
        return out.getvalue().encode()

    # -- form bodies ---------------------------------------------------------------------------
    def _pairs(self, records: Sequence[Record]) -> list[tuple[str, Any]]:
        if self.payload is not None:
            obj = self._objects(records)[0]
            if not isinstance(obj, dict):
                raise DeliveryError("a form_data custom_payload must render to a JSON object (its members become the parts)")
            return list(self._merge_static(obj).items())
        if not self.nested:
            return list(self._merge_static(records[0].fields).items())
        if self.many:
            pairs = [(f"{self.nested}[{i}][{k}]", v) for i, r in enumerate(records) for k, v in r.fields.items()]
        else:
            pairs = [(f"{self.nested}[{k}]", v) for k, v in records[0].fields.items()]
        return pairs + list(self.static.items())

    def _url_encoded(self, records: Sequence[Record]) -> bytes:
        if self.payload is not None:
            text = self.payload.render(records[0].row)
            if self.static:
                text = "&".join(p for p in (text, urlencode([(k, as_text(v)) for k, v in self.static.items()])) if p)
            return text.encode()
        return urlencode([(k, as_text(v)) for k, v in self._pairs(records)]).encode()

    def _multipart(self, records: Sequence[Record]) -> Body:
        content, boundary = encode_multipart(self._pairs(records))
        return Body(content, f"multipart/form-data; boundary={boundary}")


def _check_json(text: str, record: Record) -> None:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DeliveryError(f"custom_payload rendered for record {record.key} is not valid JSON: {exc}") from None


def _quote_name(name: str) -> str:
    """Field names in Content-Disposition, escaped the way browsers (and httpx) do."""
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_multipart(pairs: Sequence[tuple[str, Any]] | Mapping[str, Any], boundary: str | None = None) -> tuple[bytes, str]:
    """``multipart/form-data`` (RFC 7578): text parts, and a file part for each bytes value."""
    boundary = boundary or os.urandom(16).hex()
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    out = bytearray()
    for name, value in items:
        quoted = _quote_name(str(name))
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, (bytes, bytearray, memoryview)):
            out += (f'Content-Disposition: form-data; name="{quoted}"; filename="{quoted}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n").encode()
            out += bytes(value)
        else:
            out += f'Content-Disposition: form-data; name="{quoted}"\r\n\r\n'.encode()
            out += as_text(value).encode()
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), boundary


__all__ = ["CONTENT_TYPES", "Body", "BodyBuilder", "NO_BODY", "encode_multipart"]

"""JSON responses (orjson, for speed) and request-body decoding for every body format restsync sends.

Starlette's form parser needs python-multipart, which the project does not depend on, so
url-encoded and multipart bodies are decoded here with the standard library.
"""

from __future__ import annotations

import csv
import io
from email.parser import BytesParser
from email.policy import HTTP
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response


class BodyError(ValueError):
    """A request body that cannot be decoded; answered with 400."""


def json_response(content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code, headers, media_type="application/json")


def error(message: str, status_code: int, headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    return json_response({"error": message, **extra}, status_code, headers)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request) -> Any:
    """Decode by Content-Type: JSON value, CSV (list of row dicts), or form fields (one dict).

    A body without a Content-Type is tried as JSON, then as url-encoded fields.
    """
    raw = await request.body()
    kind = media_type(request)
    if not raw.strip():
        return None
    if kind == "text/csv":
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    if kind == "multipart/form-data":
        return _multipart(request.headers["content-type"], raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if kind in ("", "text/plain") and b"=" in raw:
            return dict(parse_qsl(raw.decode(), keep_blank_values=True))
        raise BodyError(f"body is not valid JSON (Content-Type {kind or 'missing'})") from None


def _multipart(content_type: str, raw: bytes) -> dict[str, str]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise BodyError("multipart body without parts")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            value = part.get_payload(decode=True)
            fields[str(name)] = value.decode("utf-8", "replace") if isinstance(value, bytes) else ""
    return fields

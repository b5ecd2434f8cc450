"""Every resource under every pagination style restsync supports.

`/{style}/{resource}` with style in offset, page, cursor, next, link, keyset. All styles share one
filtered view (`views.py`), so filters and faults behave identically everywhere; they differ only
in how the client names the next page and how the server says there is one. A POST to any of
these routes may carry the same parameters in a JSON object body (for `method: POST` tables).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .data import RESOURCES, make_items
from .faults import Handler, check_page, with_faults
from .payloads import BodyError, error, json_response, read_body
from .views import ParamError, View, build_view, parse_filters

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100

Style = Callable[[Request, Mapping[str, Any], View], Response]


def int_param(params: Mapping[str, Any], name: str, default: int, minimum: int,
              maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ParamError(f"{name}: expected an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ParamError(f"{name}: must be {bounds}, got {value}")
    return value


def _page_rows(request: Request, view: View, start: int, limit: int) -> list[dict]:
    check_page(request, start // limit)
    return view.slice(start, start + limit)


def _has_more(view: View, start: int, rows: list[dict]) -> bool:
    return bool(rows) and start + len(rows) < view.total()


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": last_id})).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        return int(orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"])
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ParamError(f"cursor: not a cursor this API issued: {cursor!r}") from None


def offset_style(request: Request, params: Mapping[str, Any], view: View) -> Response:
    limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = int_param(params, "offset", 0, 0)
    rows = _page_rows(request, view, offset, limit)
    headers = {"X-Total-Count": str(view.total())}
    fmt = params.get("format", "json")
    if fmt == "csv":
        return Response(_csv(rows), headers=headers, media_type="text/csv")
    if fmt == "xml":
        return Response(_xml(rows, view.total()), headers=headers, media_type="application/xml")
    if fmt != "json":
        raise ParamError(f"format: expected json, csv or xml, got {fmt!r}")
    return json_response({"success": True, "data": rows, "total": view.total()}, headers=headers)


def page_style(request: Request, params: Mapping[str, Any], view: View) -> Response:
    size = int_param(params, "page_size", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = int_param(params, "page", 1, 1)
    rows = _page_rows(request, view, (page - 1) * size, size)
    return json_response({"data": rows, "page": page, "total_pages": math.ceil(view.total() / size)})


def cursor_style(request: Request, params: Mapping[str, Any], view: View) -> Response:
    limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = params.get("cursor") or None
    start = view.position_after(decode_cursor(cursor)) if cursor else 0
    rows = _page_rows(request, view, start, limit)
    next_cursor = encode_cursor(rows[-1]["id"]) if _has_more(view, start, rows) else None
    if params.get("loop") == "1" and cursor:
        next_cursor = cursor
    return json_response({"data": rows, "meta": {"next_cursor": next_cursor}})


def next_style(request: Request, params: Mapping[str, Any], view: View) -> Response:
    limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    after = int_param(params, "after", 0, 0)
    start = view.position_after(after)
    rows = _page_rows(request, view, start, limit)
    next_url = None
    if params.get("loop") == "1" and "after" in params:
        next_url = str(request.url)
    elif _has_more(view, start, rows):
        next_url = str(request.url.include_query_params(after=rows[-1]["id"], limit=limit))
    return json_response({"count": view.total(), "next": next_url, "results": rows})


def link_style(request: Request, params: Mapping[str, Any], view: View) -> Response:
    size = int_param(params, "per_page", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = int_param(params, "page", 1, 1)
    rows = _page_rows(request, view, (page - 1) * size, size)
    last = max(1, math.ceil(view.total() / size))

    def link(number: int, rel: str) -> str:
        return f'<{request.url.include_query_params(page=number, per_page=size)}>; rel="{rel}"'

    links = []
    if params.get("loop") == "1" and page > 1:
        links.append(link(page, "next"))
    elif page < last:
        links.append(link(page + 1, "next"))
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    links += [link(1, "first"), link(last, "last")]
    headers = {"Link": ", ".join(links), "X-Total-Count": str(view.total())}
    return json_response(rows, headers=headers)


def keyset_style(request: Request, params: Mapping[str, Any], view: View) -> Response:
    limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    start = view.position_after(int_param(params, "starting_after", 0, 0))
    rows = _page_rows(request, view, start, limit)
    return json_response({"object": "list", "data": rows, "has_more": _has_more(view, start, rows)})


STYLES: dict[str, Style] = {
    "offset": offset_style,
    "page": page_style,
    "cursor": cursor_style,
    "next": next_style,
    "link": link_style,
    "keyset": keyset_style,
}


def _resource(request: Request) -> str | None:
    resource = request.path_params["resource"]
    return resource if resource in RESOURCES else None


def _unknown_resource(request: Request) -> Response:
    return error(f"unknown resource {request.path_params['resource']!r}; "
                 f"valid: {', '.join(RESOURCES)}", 404)


def _style_endpoint(style: Style) -> Handler:
    async def endpoint(request: Request) -> Response:
        resource = _resource(request)
        if resource is None:
            return _unknown_resource(request)
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            try:
                body = await read_body(request)
            except BodyError as exc:
                raise ParamError(str(exc)) from None
            if isinstance(body, dict):
                params.update({k: v for k, v in body.items() if v is not None})
        store = request.app.state.demo.store
        return style(request, params, build_view(store, resource, parse_filters(params)))

    endpoint.__name__ = f"{style.__name__}_endpoint"
    return with_faults(endpoint)


def _single_endpoint(resource: str) -> Handler:
    async def endpoint(request: Request) -> Response:
        record = request.app.state.demo.store.get(resource, request.path_params["id"])
        if record is None:
            return error(f"{resource[:-1]} {request.path_params['id']} not found", 404)
        return json_response(record)

    return with_faults(endpoint)


@with_faults
async def order_items(request: Request) -> Response:
    order_id = request.path_params["id"]
    if request.app.state.demo.store.get("orders", order_id) is None:
        return error(f"order {order_id} not found", 404)
    return json_response({"items": make_items(order_id)})


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    columns = [k for k, v in rows[0].items() if not isinstance(v, (dict, list))]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})
    return out.getvalue()


def _xml(rows: list[dict], total: int) -> bytes:
    def fill(parent: ElementTree.Element, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                fill(ElementTree.SubElement(parent, key), item)
        elif isinstance(value, list):
            for item in value:
                fill(ElementTree.SubElement(parent, "item"), item)
        else:
            parent.text = str(value).lower() if isinstance(value, bool) else str(value)

    root = ElementTree.Element("response")
    ElementTree.SubElement(root, "total").text = str(total)
    data = ElementTree.SubElement(root, "data")
    for row in rows:
        fill(ElementTree.SubElement(data, "record"), row)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def routes() -> list[Route]:
    found = [Route(f"/{name}/{{resource}}", _style_endpoint(style), methods=["GET", "POST"])
             for name, style in STYLES.items()]
    found += [Route(f"/{resource}/{{id:int}}", _single_endpoint(resource)) for resource in RESOURCES]
    found.append(Route("/orders/{id:int}/items", order_items))
    return found

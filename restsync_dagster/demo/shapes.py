"""Request and response shapes of SaaS APIs: pagination values in the JSON body or a header, a
GraphQL-like endpoint, JSON lines, header rows, compressed bodies and nested lists to explode."""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .data import make_items
from .faults import with_faults
from .paging import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor, int_param
from .payloads import BodyError, json_response, read_body
from .views import ParamError, View, build_view, parse_filters

_AFTER = re.compile(r'\bafter:\s*"([^"]*)"')
_FIRST = re.compile(r"\bfirst:\s*(\d+)")
_PAGE = re.compile(r"\bpage:\s*(\d+)")


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await read_body(request)
    except BodyError as exc:
        raise ParamError(str(exc)) from None
    if not isinstance(body, dict):
        raise ParamError("body: expected a JSON object")
    return body


def _view(request: Request, resource: str, params: Mapping[str, Any] | None = None) -> View:
    return build_view(request.app.state.demo.store, resource, parse_filters(params or request.query_params))


@with_faults
async def graphql(request: Request) -> Response:
    body = await _json_body(request)
    query = body.get("query")
    if not isinstance(query, str) or "orders" not in query:
        raise ParamError("query: expected a GraphQL query string selecting orders")
    raw_variables = body.get("variables")
    variables = raw_variables if isinstance(raw_variables, dict) else {}
    first_match, after_match, page_match = _FIRST.search(query), _AFTER.search(query), _PAGE.search(query)
    first = int_param({"first": variables.get("first", first_match and first_match.group(1))},
                      "first", DEFAULT_LIMIT, 1, MAX_LIMIT)
    after = variables.get("after") or (after_match.group(1) if after_match else None)
    page = int_param({"page": page_match and page_match.group(1)}, "page", 0, 1)
    view = _view(request, "orders")
    start = (page - 1) * first if page else (view.position_after(decode_cursor(after)) if after else 0)
    rows = view.slice(start, start + first)
    more = bool(rows) and start + len(rows) < view.total()
    info = {"hasNextPage": more, "endCursor": encode_cursor(rows[-1]["id"]) if rows else None}
    return json_response({"data": {"orders": {"nodes": rows, "pageInfo": info}}})


@with_faults
async def body_customers(request: Request) -> Response:
    paging = (await _json_body(request)).get("pagination") or {}
    if not isinstance(paging, dict):
        raise ParamError("pagination: expected an object")
    limit = int_param(paging, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    view = _view(request, "customers")
    start = view.position_after(int_param(paging, "starting_after", 0, 0))
    rows = view.slice(start, start + limit)
    return json_response({"data": rows, "has_more": bool(rows) and start + len(rows) < view.total()})


@with_faults
async def header_customers(request: Request) -> Response:
    size = int_param(request.headers, "x-page-size", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = int_param(request.headers, "x-page", 1, 1)
    view = _view(request, "customers")
    rows = view.slice((page - 1) * size, page * size)
    return json_response({"data": rows, "page": page})


def _rows(request: Request, resource: str) -> list[dict]:
    limit = int_param(request.query_params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = int_param(request.query_params, "offset", 0, 0)
    return _view(request, resource).slice(offset, offset + limit)


def _flat(row: dict) -> dict:
    return {k: v for k, v in row.items() if not isinstance(v, (dict, list))}


@with_faults
async def jsonl(request: Request) -> Response:
    lines = b"".join(orjson.dumps(row) + b"\n" for row in _rows(request, "customers"))
    return Response(lines, media_type="application/x-ndjson")


@with_faults
async def header_rows(request: Request) -> Response:
    rows = [_flat(row) for row in _rows(request, "customers")]
    columns = list(rows[0]) if rows else []
    table = [columns, *([row[c] for c in columns] for row in rows)]
    return json_response({"report": {"rows": table}})


@with_faults
async def compressed(request: Request) -> Response:
    body = orjson.dumps({"data": _rows(request, "customers")})
    how = request.query_params.get("compression", "gzip")
    if how == "encoding":
        return Response(gzip.compress(body), media_type="application/json", headers={"Content-Encoding": "gzip"})
    if how == "zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("customers.json", body)
        return Response(out.getvalue(), media_type="application/zip")
    if how != "gzip":
        raise ParamError(f"compression: expected gzip, zip or encoding, got {how!r}")
    return Response(gzip.compress(body), media_type="application/gzip")


@with_faults
async def orders_activity(request: Request) -> Response:
    rows = [{**_flat(order), "activity": [{"line": item["line"], "sku": item["sku"], "qty": item["qty"]}
                                           for item in make_items(order["id"])]}
            for order in _rows(request, "orders")]
    return json_response({"data": rows})


def routes() -> list[Route]:
    return [
        Route("/graphql", graphql, methods=["POST"]),
        Route("/body/customers", body_customers, methods=["POST"]),
        Route("/header/customers", header_customers),
        Route("/shapes/customers.jsonl", jsonl),
        Route("/shapes/header_rows", header_rows),
        Route("/shapes/compressed", compressed),
        Route("/shapes/orders_activity", orders_activity),
    ]

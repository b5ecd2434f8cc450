"""Endpoints that behave like reporting APIs: both ends of a date range, and per-site reports.

- ``GET /ranged/events?since=&until=``: events with ``ts`` in ``[since, until)``, unpaged; both
  bounds are required, as epoch seconds or ``YYYY-MM-DD`` (nothing else), and the range may not
  exceed 31 days. ``fail_since=<same form>`` makes every request whose ``since`` is at or after it
  answer 500, a server that fails for the later windows of a backfill.
- ``GET /search/analytics?site=&type=``: three rows ``{query, clicks, impressions}`` for one site
  and one search type (``web``, ``news`` or ``image``); the rows do not repeat the site or type.
"""

from __future__ import annotations

import re
import zlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .data import iso
from .payloads import error, json_response
from .views import EventView, Filters, ParamError, parse_instant

MAX_RANGE_S = 31 * 86400
SEARCH_TYPES = ("web", "news", "image")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bound(request: Request, name: str) -> float:
    value = request.query_params.get(name)
    if not value:
        raise ParamError(f"{name} is required")
    if not (value.isdigit() or _DAY.match(value)):
        raise ParamError(f"{name}: expected epoch seconds or YYYY-MM-DD, got {value!r}")
    return parse_instant(name, value)


async def ranged_events(request: Request) -> Response:
    since, until = _bound(request, "since"), _bound(request, "until")
    if until <= since:
        raise ParamError("until must be after since")
    if until - since > MAX_RANGE_S:
        raise ParamError("the range may not exceed 31 days")
    if "fail_since" in request.query_params and since >= _bound(request, "fail_since"):
        return error("report backend unavailable for this range", 500)
    view = EventView(request.app.state.demo.store, Filters(since, until, None))
    return json_response({"data": view.slice(0, view.total()), "since": iso(since), "until": iso(until)})


async def search_analytics(request: Request) -> Response:
    site, kind = request.query_params.get("site"), request.query_params.get("type")
    if not site:
        raise ParamError("site is required")
    if kind not in SEARCH_TYPES:
        raise ParamError(f"type: expected one of {', '.join(SEARCH_TYPES)}, got {kind!r}")
    seed = zlib.crc32(f"{site}|{kind}".encode())
    rows = [{"query": f"query {i}", "clicks": (seed >> i) % 100, "impressions": (seed >> i) % 1000 + 100}
            for i in range(1, 4)]
    return json_response({"rows": rows})


def routes() -> list[Route]:
    return [Route("/ranged/events", ranged_events), Route("/search/analytics", search_analytics)]

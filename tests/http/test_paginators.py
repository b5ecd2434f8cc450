"""Every registered paginator returns exactly the source records, and stops where SPEC §4.2 says."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from restsync_dagster.errors import PaginationError
from restsync_dagster.http import PAGINATORS, RequestStats, UnknownTypeError, build_paginator, iter_pages
from tests.http.helpers import table

N = 250
ROWS = [{"id": i, "name": f"row {i}"} for i in range(1, N + 1)]


def _json(body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), content_type="application/json", headers=headers)


def _after(rows: list[dict], after: int) -> list[dict]:
    return [r for r in rows if r["id"] > after]


def offset_api(req: Request) -> Response:
    offset, limit = int(req.args["offset"]), int(req.args["limit"])
    return _json({"data": ROWS[offset : offset + limit], "total": N})


def page_api(req: Request) -> Response:
    page, size = int(req.args["page"]), int(req.args["page_size"])
    return _json({"data": ROWS[(page - 1) * size : page * size], "total_pages": -(-N // size)})


def cursor_api(req: Request) -> Response:
    limit = int(req.args["limit"])
    start = int(req.args.get("cursor", "c0")[1:])
    rows = ROWS[start : start + limit]
    nxt = f"c{start + limit}" if start + limit < N else None
    return _json({"data": rows, "meta": {"next_cursor": nxt}})


def next_api(req: Request) -> Response:
    after = int(req.args.get("after", 0))
    rows = _after(ROWS, after)[:100]
    nxt = f"/items?after={rows[-1]['id']}&limit=100" if rows and rows[-1]["id"] < N else None
    return _json({"results": rows, "next": nxt})


def link_api(req: Request) -> Response:
    page = int(req.args.get("page", 1))
    rows = ROWS[(page - 1) * 100 : page * 100]
    links = [f'<{req.host_url}items?page=1>; rel="first"']
    if page * 100 < N:
        links.append(f'<{req.host_url}items?page={page + 1}>; rel="next"')
    return _json(rows, headers={"Link": ", ".join(links)})


def keyset_api(req: Request) -> Response:
    limit = int(req.args.get("limit", 100))
    rows = _after(ROWS, int(req.args.get("starting_after", 0)))[:limit]
    return _json({"object": "list", "data": rows, "has_more": bool(rows) and rows[-1]["id"] < N})


# type → (pagination block, table.response, handler)
SCENARIOS: dict[str, tuple[dict, dict, Callable[[Request], Response]]] = {
    "offset": ({"type": "offset", "page_size": 100}, {"root_key": "data"}, offset_api),
    "page_number": ({"type": "page_number", "page_size": 100, "total_pages_path": "total_pages"},
                    {"root_key": "data"}, page_api),
    "cursor": ({"type": "cursor", "cursor_field": "meta.next_cursor", "page_size": 100},
               {"root_key": "data"}, cursor_api),
    "next_link": ({"type": "next_link", "link_field": "next"}, {"root_key": "results"}, next_api),
    "link_header": ({"type": "link_header"}, {}, link_api),
    "keyset": ({"type": "keyset", "record_field": "id", "param": "starting_after", "page_size": 100},
               {"root_key": "data"}, keyset_api),
}


def test_every_registered_paginator_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(PAGINATORS)


@pytest.mark.parametrize("kind", sorted(PAGINATORS))
@pytest.mark.parametrize("prefetch", [True, False], ids=["prefetch", "sequential"])
def test_paginator_returns_exactly_the_source_records(kind: str, prefetch: bool, httpserver: HTTPServer,
                                                      make_client: Any) -> None:
    pagination, response, handler = SCENARIOS[kind]
    httpserver.expect_request("/items").respond_with_handler(handler)
    client = make_client(httpserver.url_for("/"))
    stats = RequestStats()
    pages = []
    for page in iter_pages(client, table(pagination=pagination, response=response), stats=stats, prefetch=prefetch):
        pages.append(page)
        time.sleep(0.002)  # a caller that works on each page, so the next one is prefetched
    ids = [r["id"] for p in pages for r in p.records]
    assert ids == list(range(1, N + 1))
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert stats.pages == len(pages) == len(httpserver.log)
    assert stats.records == N
    assert all(p.status == 200 and p.content and p.decision for p in pages)
    assert pages[-1].decision.endswith("stop")
    assert stats.bytes_received == sum(len(p.content) for p in pages)


def test_offset_decisions_read_like_the_brief(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_handler(offset_api)
    client = make_client(httpserver.url_for("/"))
    pages = list(iter_pages(client, table(pagination={"type": "offset", "page_size": 100},
                                          response={"root_key": "data"})))
    assert pages[0].decision == "offset=0 limit=100 → 100 records, next offset=100"
    assert pages[-1].decision == "offset=200 limit=100 → 50 records; short page (50 < 100): stop"
    assert "offset=200" in pages[-1].url and "limit=100" in pages[-1].url


def test_offset_stops_at_total_without_an_extra_request(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: _json({"data": ROWS[:200][int(r.args["offset"]):int(r.args["offset"]) + 100], "total": 200}))
    client = make_client(httpserver.url_for("/"))
    pages = list(iter_pages(client, table(pagination={"type": "offset", "page_size": 100, "total_path": "total"},
                                          response={"root_key": "data"})))
    assert len(pages) == 2 and len(httpserver.log) == 2
    assert "≥ total 200: stop" in pages[-1].decision


def test_page_number_without_page_size_stops_on_empty_page(httpserver: HTTPServer, make_client: Any) -> None:
    def api(req: Request) -> Response:
        page = int(req.args["page"])
        assert "page_size" not in req.args
        return _json(ROWS[(page - 1) * 100 : page * 100])

    httpserver.expect_request("/items").respond_with_handler(api)
    client = make_client(httpserver.url_for("/"))
    pages = list(iter_pages(client, table(pagination={"type": "page_number"})))
    assert [len(p.records) for p in pages] == [100, 100, 50, 0]
    assert pages[-1].decision.endswith("empty page: stop")


def test_page_number_start_page_zero_and_total_pages(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: _json({"data": ROWS[int(r.args["page"]) * 100 : (int(r.args["page"]) + 1) * 100],
                         "meta": {"pages": 3}}))
    client = make_client(httpserver.url_for("/"))
    pagination = {"type": "page_number", "start_page": 0, "total_pages_path": "meta.pages"}
    pages = list(iter_pages(client, table(pagination=pagination, response={"root_key": "data"})))
    assert sum(len(p.records) for p in pages) == N and len(httpserver.log) == 3


@pytest.mark.parametrize("empty", [None, "", "absent"])
def test_cursor_stops_on_absent_null_or_empty_cursor(empty: Any, httpserver: HTTPServer, make_client: Any) -> None:
    def api(req: Request) -> Response:
        if "cursor" in req.args:
            body: dict[str, Any] = {"items": [{"id": 2}]}
            if empty != "absent":
                body["next"] = empty
            return _json(body)
        return _json({"items": [{"id": 1}], "next": "abc"})

    httpserver.expect_request("/items").respond_with_handler(api)
    client = make_client(httpserver.url_for("/"))
    pages = list(iter_pages(client, table(pagination={"type": "cursor", "cursor_field": "next"},
                                          response={"root_key": "items"})))
    assert [r["id"] for p in pages for r in p.records] == [1, 2]
    assert httpserver.log[1][0].args["cursor"] == "abc"
    assert "limit" not in httpserver.log[0][0].args  # no page_size, no limit_param


def test_next_link_with_an_exact_dotted_key(httpserver: HTTPServer, make_client: Any) -> None:
    def api(req: Request) -> Response:
        if req.args.get("skip") == "1":
            return _json({"value": [{"id": 2}]})
        return _json({"value": [{"id": 1}], "@odata.nextLink": "items?skip=1"})

    httpserver.expect_request("/api/items").respond_with_handler(api)
    client = make_client(httpserver.url_for("/api"))
    pages = list(iter_pages(client, table(path="/items", pagination={"type": "next_link",
                                                                     "link_field": "@odata.nextLink"},
                                          params={"filter": "x"}, response={"root_key": "value"})))
    assert [r["id"] for p in pages for r in p.records] == [1, 2]
    # the relative link is resolved against the current URL and replaces the query
    assert httpserver.log[1][0].full_path == "/api/items?skip=1"


def test_keyset_stops_on_empty_page_without_has_more(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: _json(_after(ROWS, int(r.args.get("after", 0)))[:100]))
    client = make_client(httpserver.url_for("/"))
    pagination = {"type": "keyset", "param": "after", "has_more_field": None}
    pages = list(iter_pages(client, table(pagination=pagination)))
    assert sum(len(p.records) for p in pages) == N and len(pages) == 4


def test_keyset_without_the_record_field_names_it(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_json({"data": [{"uid": 1}], "has_more": True})
    client = make_client(httpserver.url_for("/"))
    with pytest.raises(PaginationError, match=r"table 'items', page 1: keyset pagination needs 'id'.*uid"):
        list(iter_pages(client, table(pagination={"type": "keyset"}, response={"root_key": "data"})))


def test_a_repeated_cursor_is_a_loop(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: _json({"data": [{"id": len(httpserver.log)}], "next": "same"}))
    client = make_client(httpserver.url_for("/"))
    with pytest.raises(PaginationError, match=r"table 'items', page 3: the next request would repeat page 2"):
        list(iter_pages(client, table(pagination={"type": "cursor", "cursor_field": "next"},
                                      response={"root_key": "data"})))
    assert len(httpserver.log) == 2


def test_a_page_repeating_records_is_a_loop(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: _json({"data": ROWS[:100], "page": r.args["offset"]}))  # ignores the offset
    client = make_client(httpserver.url_for("/"))
    with pytest.raises(PaginationError, match=r"table 'items', page 2: the page repeats the records of page 1"):
        list(iter_pages(client, table(pagination={"type": "offset"}, response={"root_key": "data"})))


def test_max_pages_stops_with_a_warning(httpserver: HTTPServer, make_client: Any,
                                        caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request("/items").respond_with_handler(offset_api)
    client = make_client(httpserver.url_for("/"))
    t = table(pagination={"type": "offset", "page_size": 10, "max_pages": 5}, response={"root_key": "data"},
              max_pages=3)
    with caplog.at_level(logging.WARNING, logger="restsync.http"):
        pages = list(iter_pages(client, t))
    assert len(pages) == 3 and len(httpserver.log) == 3  # no prefetch past the cap
    assert "max_pages=3" in caplog.text and "max_pages=3 reached: stop" in pages[-1].decision


def test_max_records_truncates_the_last_page(httpserver: HTTPServer, make_client: Any,
                                             caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request("/items").respond_with_handler(offset_api)
    client = make_client(httpserver.url_for("/"))
    stats = RequestStats()
    with caplog.at_level(logging.WARNING, logger="restsync.http"):
        pages = list(iter_pages(client, table(pagination={"type": "offset"}, response={"root_key": "data"}),
                                max_records=150, stats=stats))
    assert [len(p.records) for p in pages] == [100, 50]
    assert stats.records == 150 and len(httpserver.log) == 2
    assert "max_records=150" in caplog.text


def test_a_caller_that_stops_early_gets_no_phantom_pages(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_handler(offset_api)
    client = make_client(httpserver.url_for("/"))
    stats = RequestStats()
    walk = iter_pages(client, table(pagination={"type": "offset", "page_size": 10}, response={"root_key": "data"}),
                      stats=stats)
    for expected in (1, 2):
        assert next(walk).number == expected
        time.sleep(0.01)
    walk.close()
    time.sleep(0.05)
    assert stats.pages == 2 and stats.records == 20
    assert len(httpserver.log) == 3  # page 3 was prefetched for a caller that never asked for it


def test_prefetch_overlaps_the_callers_work_with_the_next_request(httpserver: HTTPServer, make_client: Any) -> None:
    def slow(req: Request) -> Response:
        time.sleep(0.05)
        return offset_api(req)

    httpserver.expect_request("/items").respond_with_handler(slow)
    client = make_client(httpserver.url_for("/"))
    t = table(pagination={"type": "offset", "page_size": 50}, response={"root_key": "data"})
    started = time.monotonic()
    ids = []
    for page in iter_pages(client, t):
        ids += [r["id"] for r in page.records]
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    assert ids == list(range(1, N + 1))  # 6 pages: ~0.6 s in sequence, ~0.35 s overlapped
    assert elapsed < 0.5, elapsed


def test_unknown_pagination_type_lists_the_valid_ones() -> None:
    class Fake:
        type = "scroll"

    with pytest.raises(UnknownTypeError, match=r"unknown pagination type 'scroll'. Valid values are: \['cursor'"):
        build_paginator(Fake())


@pytest.mark.parametrize("kind", sorted(PAGINATORS))
def test_paginator_str_shows_its_state(kind: str) -> None:
    from restsync_dagster.config.pagination import Pagination
    from pydantic import TypeAdapter

    model = TypeAdapter(Pagination).validate_python(SCENARIOS[kind][0])
    text = str(build_paginator(model))
    assert type(build_paginator(model)).__name__ in text and "has_next_page=True" in text


def test_set_value_writes_a_nested_body_path_without_changing_the_original():
    from restsync_dagster.http.paginators import PageRequest

    first = PageRequest("POST", "http://x/", json={"query": "q", "pagination": {"limit": 5}})
    second = first.copy()
    second.set_value("body", "pagination.starting_after", 7)
    second.set_value("header", "X-Cursor", 7)
    assert first.json == {"query": "q", "pagination": {"limit": 5}}
    assert second.json == {"query": "q", "pagination": {"limit": 5, "starting_after": 7}}
    assert second.headers == {"X-Cursor": "7"}
    assert first.signature() != second.signature()

"""Records extraction, request building and body formats of ``iter_pages``."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from restsync_dagster.errors import ResponseError
from restsync_dagster.http import iter_pages
from tests.http.helpers import table


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), content_type="application/json")


def test_root_key_that_finds_nothing_lists_the_keys(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_json({"items": [], "meta": {"count": 0}})
    client = make_client(httpserver.url_for("/"), name="shop")
    with pytest.raises(ResponseError) as caught:
        list(iter_pages(client, table(response={"root_key": "data.rows"})))
    assert str(caught.value) == ("connection 'shop', table 'items', page 1: response.root_key 'data.rows' found "
                                 "nothing; the page has keys ['items', 'meta']")


def test_an_empty_list_at_root_key_is_fine(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_json({"result": {"items": []}})
    client = make_client(httpserver.url_for("/"))
    pages = list(iter_pages(client, table(response={"root_key": "result.items"})))
    assert len(pages) == 1 and pages[0].records == []
    assert pages[0].decision == "0 records; no pagination: stop"


def test_a_dict_body_without_root_key_is_one_record(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/me").respond_with_json({"id": 1, "name": "a"})
    client = make_client(httpserver.url_for("/"))
    page = next(iter_pages(client, table(name="me")))  # default path: /<name>
    assert page.records == [{"id": 1, "name": "a"}] and page.number == 1 and page.status == 200
    assert orjson.loads(page.content) == page.records[0]


def test_post_sends_the_json_body_and_params(httpserver: HTTPServer, make_client: Any) -> None:
    seen: list[tuple[dict, Any, str]] = []

    def api(req: Request) -> Response:
        seen.append((dict(req.args), orjson.loads(req.get_data()), req.headers.get("X-Trace", "")))
        return _json({"data": [{"id": 1}]})

    httpserver.expect_request("/search", method="POST").respond_with_handler(api)
    client = make_client(httpserver.url_for("/"), headers={"X-Trace": "conn"})
    t = table(name="search", method="POST", body={"query": {"status": "open"}}, params={"a": 1},
              headers={"X-Trace": "table"}, response={"root_key": "data"})
    list(iter_pages(client, t, params_extra={"since": "2026-01-01"}))
    assert seen == [({"a": "1", "since": "2026-01-01"}, {"query": {"status": "open"}}, "table")]


def test_csv_media_type(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_data("id,name\n1,a\n2,b\n", content_type="text/csv")
    client = make_client(httpserver.url_for("/"), media_type="csv")
    assert next(iter_pages(client, table())).records == [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]


def test_xml_media_type(httpserver: HTTPServer, make_client: Any) -> None:
    body = (b"<?xml version='1.0'?><response><total>2</total><data><record><id>1</id><tags><item>x</item>"
            b"</tags></record><record><id>2</id></record></data></response>")
    httpserver.expect_request("/items").respond_with_data(body, content_type="application/xml")
    client = make_client(httpserver.url_for("/"), media_type="xml")
    page = next(iter_pages(client, table(response={"root_key": "data.record"})))
    assert page.records == [{"id": "1", "tags": {"item": "x"}}, {"id": "2"}]


def test_page_url_is_sanitized(httpserver: HTTPServer, make_client: Any, secrets: Any) -> None:
    httpserver.expect_request("/items").respond_with_json([])
    client = make_client(httpserver.url_for("/"), auth={"type": "api_key", "key": "K-123456", "param": "k"})
    page = next(iter_pages(client, table(params={"signature": "sig-1", "q": "x"})))
    assert "K-123456" not in page.url and "sig-1" not in page.url
    assert "q=x" in page.url and "signature=***" in page.url

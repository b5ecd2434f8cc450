"""The connection test (SPEC §3.1) and the preview of a table's first pages."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from restsync_dagster.http import ping, preview_table
from tests.http.helpers import table


def test_ping_without_a_block_gets_base_url(httpbin_url: str, make_client: Any) -> None:
    result = ping(make_client(httpbin_url + "/get"))
    assert result.ok and result.status == 200 and result.detail.startswith("GET http://127.0.0.1:")


@pytest.mark.parametrize(
    ("body", "values", "ok"),
    [
        ({"status": "ok"}, ["ok"], True),
        ({"status": "OK"}, ["ok"], False),  # case-sensitive
        ({"health": {"up": True}}, [True], True),
        ({"status": 1}, [True], False),  # exact: 1 is not True
        ({"status": "ok"}, None, True),
        ({"other": "ok"}, ["ok"], False),
        ({"health": {"up": True}}, ["true"], True),  # a quoted value matches the JSON value written so
        ({"health": {"up": False}}, ["true"], False),
        ({"health": {"up": True}}, ["True"], False),  # still case-sensitive
        ({"status": 200}, ["200"], True),
        ({"status": None}, ["null"], True),
        ({"status": "true"}, [True], False),  # a JSON string is not a boolean
    ],
)
def test_ping_success_path(body: dict, values: Any, ok: bool, httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/health").respond_with_json(body)
    path = "health.up" if "health" in body else "status"
    check = {"path": "/health", "success_path": path}
    if values is not None:
        check["success_values"] = values
    result = ping(make_client(httpserver.url_for("/"), ping=check))
    assert result.ok is ok, result.detail
    assert result.status == 200


def test_ping_reports_status_and_auth_failures(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/health").respond_with_json({"error": "down"}, status=503)
    result = ping(make_client(httpserver.url_for("/"), ping={"path": "/health"}))
    assert not result.ok and result.status == 503 and "503" in result.detail
    assert len(httpserver.log) == 1  # no retries for a ping

    httpserver.clear()
    httpserver.expect_request("/health").respond_with_json({"error": "who?"}, status=401)
    result = ping(make_client(httpserver.url_for("/"), ping={"method": "POST", "path": "/health"},
                              auth={"type": "bearer", "token": "tok-secret-1"}))
    assert not result.ok and result.status == 401 and "tok-secret-1" not in result.detail


def test_preview_shows_decisions_and_first_records(httpserver: HTTPServer, make_client: Any) -> None:
    rows = [{"id": i} for i in range(1, 26)]
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: Response(orjson.dumps({"data": rows[int(r.args["offset"]) : int(r.args["offset"]) + 10]}),
                           content_type="application/json"))
    client = make_client(httpserver.url_for("/"))
    t = table(pagination={"type": "offset", "page_size": 10}, response={"root_key": "data"})
    result = preview_table(client, t, pages=2)
    assert [p.decision for p in result.pages] == [
        "offset=0 limit=10 → 10 records, next offset=10",
        "offset=10 limit=10 → 10 records, next offset=20; max_pages=2 reached: stop",
    ]
    assert result.decisions[0].startswith("page 1: offset=0 limit=10")
    assert [r["id"] for r in result.records] == list(range(1, 21))
    assert len(httpserver.log) == 2 and result.stats.pages == 2

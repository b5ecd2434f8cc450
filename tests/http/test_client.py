"""Retries, backoff, server-requested waits, the shared request budget and soft failures."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate
from typing import Any

import httpx
import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from restsync_dagster.errors import HttpError
from restsync_dagster.http import RequestStats, RestClient, iter_pages
from restsync_dagster.http.ratelimit import server_delay
from tests.http.helpers import ScriptedServer, connection, table

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, content_type="application/json", headers=headers)


class Script:
    """A handler that plays the given responses in order, then repeats the last one."""

    def __init__(self, *responses: Any):
        self.responses = list(responses)
        self.calls = 0

    def __call__(self, req: Request) -> Response:
        item = self.responses[min(self.calls, len(self.responses) - 1)]
        self.calls += 1
        return item if isinstance(item, Response) else item(req)


def test_429_with_retry_after_waits_then_succeeds(httpserver: HTTPServer, make_client: Any) -> None:
    script = Script(_json({"error": "slow down"}, 429, {"Retry-After": "1"}), _json({"ok": True}))
    httpserver.expect_request("/data").respond_with_handler(script)
    client = make_client(httpserver.url_for("/"))
    stats = RequestStats()
    started = time.monotonic()
    reply = client.request("GET", "/data", stats=stats)
    elapsed = time.monotonic() - started
    assert reply.response.status_code == 200 and script.calls == 2
    assert 1.0 <= elapsed < 2.0
    assert stats.retries == 1 and stats.requests == 2 and stats.backoff_wait_s == pytest.approx(1.0)


def test_retry_after_is_capped_at_max_backoff(httpserver: HTTPServer, make_client: Any) -> None:
    script = Script(_json({}, 503, {"Retry-After": "120"}), _json({"ok": True}))
    httpserver.expect_request("/data").respond_with_handler(script)
    client = make_client(httpserver.url_for("/"), rate_limit={"max_backoff_s": 0.2})
    started = time.monotonic()
    client.request("GET", "/data")
    assert 0.2 <= time.monotonic() - started < 1.0


def test_exhausted_retries_name_connection_table_url_and_status(httpserver: HTTPServer, make_client: Any,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request("/orders").respond_with_json({"error": "maintenance"}, status=503)
    client = make_client(httpserver.url_for("/api"), name="shop", rate_limit={"max_retries": 2, **FAST})
    client = make_client(httpserver.url_for("/"), name="shop", rate_limit={"max_retries": 2, **FAST})
    with pytest.raises(HttpError) as caught:
        list(iter_pages(client, table(name="orders", params={"token": "abc-secret"})))
    message = str(caught.value)
    assert caught.value.status == 503
    assert message.startswith("connection 'shop', table 'orders': GET http://localhost:")
    assert "/orders?token=***" in message and "abc-secret" not in message
    assert "failed after 3 attempt(s) (2 retries); last status 503" in message
    assert "maintenance" in message
    assert len(httpserver.log) == 3
    assert caplog.text.count("retry ") == 2


def test_a_non_retryable_4xx_fails_at_once_with_an_excerpt(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/data").respond_with_json({"error": "no such thing " + "x" * 500}, status=404)
    client = make_client(httpserver.url_for("/"))
    with pytest.raises(HttpError, match=r'returned 404 NOT FOUND: \{ ?"error": ?"no such thing x+…$') as caught:
        client.request("GET", "/data", table_name="t")
    assert caught.value.status == 404 and len(httpserver.log) == 1
    assert len(str(caught.value)) < 400


def test_ten_rps_keeps_fifty_requests_near_five_seconds_across_tables(make_client: Any) -> None:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/data").respond_with_json({"ok": True})
    server.start()
    try:
        conn = connection(server.url_for("/"), rate_limit={"requests_per_second": 10})
        shared = RestClient(conn)
        clients = [shared, shared]  # two tables' worth of traffic on the connection's client, one budget
        stats = [RequestStats(), RequestStats()]

        def run(i: int) -> None:
            for _ in range(25):
                clients[i].request("GET", "/data", stats=stats[i])

        started = time.monotonic()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        for c in clients:
            c.close()
    finally:
        server.stop()
    assert 4.5 <= elapsed <= 5.5, elapsed
    assert sum(s.requests for s in stats) == 50
    assert sum(s.rate_limit_wait_s for s in stats) > 3


def test_table_rate_limit_overrides_and_null_disables(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_json([{"id": 1}])
    client = make_client(httpserver.url_for("/"), rate_limit={"requests_per_second": 0.5})
    assert client.policy_for(table()).requests_per_second == 0.5
    assert client.policy_for(table(rate_limit={"requests_per_second": 100})).requests_per_second == 100
    unlimited = table(rate_limit=None)
    assert client.policy_for(unlimited) is None
    started = time.monotonic()
    for _ in range(3):
        list(iter_pages(client, unlimited))
    assert time.monotonic() - started < 1.0


def test_max_concurrency_caps_requests_in_flight(make_client: Any) -> None:
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def slow(req: Request) -> Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return _json({"ok": True})

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/data").respond_with_handler(slow)
    server.start()
    try:
        client = make_client(server.url_for("/"), rate_limit={"max_concurrency": 2})
        threads = [threading.Thread(target=client.request, args=("GET", "/data")) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert state["peak"] == 2


def test_success_field_failure_is_retried(httpserver: HTTPServer, make_client: Any) -> None:
    script = Script(_json({"success": False, "error": "backend busy"}), _json({"success": True, "data": [{"id": 1}]}))
    httpserver.expect_request("/items").respond_with_handler(script)
    client = make_client(httpserver.url_for("/"), rate_limit=FAST)
    t = table(response={"root_key": "data", "success_field": "success", "success_values": [True]})
    stats = RequestStats()
    pages = list(iter_pages(client, t, stats=stats))
    assert pages[0].records == [{"id": 1}] and stats.retries == 1


def test_success_field_failure_that_persists_is_a_clear_error(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_json({"status": "ERROR"})
    client = make_client(httpserver.url_for("/"), rate_limit={"max_retries": 1, **FAST})
    t = table(response={"success_field": "status", "success_values": ["ok"]})
    with pytest.raises(HttpError, match=r"last status 200; last error: success field 'status' is 'ERROR', "
                                        r"expected one of \['ok'\]"):
        list(iter_pages(client, t))


def test_html_with_200_is_retried(httpserver: HTTPServer, make_client: Any) -> None:
    html = Response("<html><body>Bad gateway</body></html>", content_type="text/html")
    httpserver.expect_request("/items").respond_with_handler(Script(html, _json([{"id": 1}])))
    client = make_client(httpserver.url_for("/"), rate_limit=FAST)
    assert next(iter_pages(client, table())).records == [{"id": 1}]


def test_html_with_200_that_persists_is_a_clear_error(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/items").respond_with_data("<!doctype html><p>Login</p>", content_type="text/html")
    client = make_client(httpserver.url_for("/"), rate_limit={"max_retries": 2, **FAST})
    with pytest.raises(HttpError, match=r"table 'items'.*failed after 3 attempt.*expected JSON, got HTML \(text/html"):
        list(iter_pages(client, table()))
    assert len(httpserver.log) == 3


def test_truncated_json_is_retried_then_a_clear_error(httpserver: HTTPServer, make_client: Any) -> None:
    cut = Response(b'{"data": [{"id": 1}, {"id"', content_type="application/json")
    httpserver.expect_request("/items").respond_with_handler(Script(cut, _json({"data": [{"id": 1}]})))
    client = make_client(httpserver.url_for("/"), rate_limit=FAST)
    assert next(iter_pages(client, table(response={"root_key": "data"}))).records == [{"id": 1}]

    httpserver.clear()
    httpserver.expect_request("/items").respond_with_handler(Script(cut))
    with pytest.raises(HttpError, match=r"last error: body is not valid JSON \(26 bytes, truncated\?\)"):
        list(iter_pages(client, table(response={"root_key": "data"})))


def test_a_dropped_connection_and_a_short_body_are_retried(make_client: Any) -> None:
    body = orjson.dumps({"data": [{"id": 7}]})
    with ScriptedServer(["drop", "truncate", (200, body)]) as server:
        client = make_client(server.url, rate_limit=FAST)
        stats = RequestStats()
        pages = list(iter_pages(client, table(response={"root_key": "data"}), stats=stats))
    assert pages[0].records == [{"id": 7}]
    assert stats.retries == 2 and stats.requests == 3 and server.connections == 3


def test_connection_refused_exhausts_retries_with_the_error(make_client: Any) -> None:
    with ScriptedServer(["drop"]) as server:
        url = server.url
    client = make_client(url, rate_limit={"max_retries": 1, **FAST})
    with pytest.raises(HttpError, match=r"failed after 2 attempt\(s\).*no response; last error: ConnectError"):
        client.request("GET", "/x", table_name="t")


def test_a_timeout_is_retried(httpserver: HTTPServer, make_client: Any) -> None:
    def slow(req: Request) -> Response:
        time.sleep(0.4)
        return _json([{"id": 0}])

    httpserver.expect_request("/items").respond_with_handler(Script(slow, _json([{"id": 1}])))
    client = make_client(httpserver.url_for("/"), timeout_s=0.15, rate_limit=FAST)
    stats = RequestStats()
    assert next(iter_pages(client, table(), stats=stats)).records == [{"id": 1}]
    assert stats.retries >= 1  # the single-threaded server may time out the first retry too


def _response(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_server_delay_reads_every_header_form() -> None:
    now = time.time()
    assert server_delay(_response({"Retry-After": "3"})) == 3
    assert server_delay(_response({"Retry-After": formatdate(now + 10, usegmt=True)}), now) == pytest.approx(10, abs=1)
    assert server_delay(_response({"RateLimit-Reset": "7"})) == 7
    assert server_delay(_response({"X-RateLimit-Reset": str(int(now) + 20)}), now) == pytest.approx(20, abs=1)
    assert server_delay(_response({"X-RateLimit-Reset": str(int(now * 1000) + 5000)}), now) == pytest.approx(5, abs=1)
    assert server_delay(_response({"X-RateLimit-Reset": str(int(now) - 50)}), now) == 0
    assert server_delay(_response({})) is None


def test_ratelimit_reset_header_is_honoured(httpserver: HTTPServer, make_client: Any) -> None:
    script = Script(_json({}, 429, {"X-RateLimit-Reset": str(int(time.time()) + 1)}), _json({"ok": 1}))
    httpserver.expect_request("/data").respond_with_handler(script)
    client = make_client(httpserver.url_for("/"))
    started = time.monotonic()
    client.request("GET", "/data")
    assert 0.0 < time.monotonic() - started < 2.5 and script.calls == 2


def test_table_url_with_query_keeps_it(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/v2/items").respond_with_handler(lambda r: _json([dict(r.args)]))
    client = make_client("http://unused.invalid")
    page = next(iter_pages(client, table(url=httpserver.url_for("/v2/items?fixed=1"), params={"extra": "2"})))
    assert page.records == [{"fixed": "1", "extra": "2"}]

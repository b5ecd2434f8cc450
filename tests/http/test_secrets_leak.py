"""No secret reaches an exception or a log record, whatever the flow does (STYLE: "a test that greps").

Secrets travel through succeeding and failing flows of every kind while every logger — ours,
httpx's and httpcore's — records at DEBUG; then the exceptions (``str``, ``repr`` and every chained
cause/context) and all log records are searched for each secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from restsync_dagster.config.common import RateLimit
from restsync_dagster.errors import RestSyncError
from restsync_dagster.http import RestClient, iter_pages, ping
from restsync_dagster.secrets import Secrets
from tests.http.helpers import ScriptedServer, connection, table

PASSWORD = "Pa55-word-LEAK"
BEARER = "bearer-LEAK-1"
API_KEY = "apikey-LEAK-2"
COOKIE = "cookie-LEAK-3"
REFRESHED = "refreshed-LEAK-4"
INITIAL = "initial-LEAK-5"
CLIENT_SECRET = "client-LEAK-6"
ISSUED = "issued-LEAK-7"
REFRESH_TOKEN = "refresh-tok-LEAK-8"
LOGIN_PASSWORD = "login-pw-LEAK-9"
SECRETS = [PASSWORD, BEARER, API_KEY, COOKIE, REFRESHED, INITIAL, CLIENT_SECRET, ISSUED, REFRESH_TOKEN,
           LOGIN_PASSWORD]
FAST = {"max_retries": 2, "backoff_s": 0.0, "max_backoff_s": 0.01}


def _echo(req: Request, status: int) -> Response:
    """An unhelpful API that echoes everything it got — headers, query and body — in its errors."""
    body = {"error": "denied", "headers": dict(req.headers), "args": dict(req.args),
            "body": req.get_data(as_text=True), "url": req.url}
    return Response(orjson.dumps(body), status=status, content_type="application/json")


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


@pytest.fixture
def run(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "restsync.http"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors: list[BaseException] = []

    def attempt(fn: Any) -> Any:
        try:
            return fn()
        except RestSyncError as exc:
            errors.append(exc)
            return None

    yield attempt

    # The fixture's teardown has its own, empty, capture. The test servers' own access logs
    # (werkzeug) are the far side of the wire, not restsync's output.
    records = [r for r in caplog.get_records("call") if not r.name.startswith("werkzeug")]
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts = []
    for record in records:
        texts += [formatter.format(record), record.getMessage(), repr(record.args)]
    for error in errors:
        for exc in _chain(error):
            texts += [str(exc), repr(exc)]
    blob = "\n".join(texts)
    assert errors, "the scenario was meant to fail at least once"
    assert "HTTP Request" in blob and "receive_response_headers" in blob  # we did capture httpx and httpcore
    leaked = [s for s in SECRETS if s in blob]
    if leaked:
        print("\n".join(line[:300] for line in blob.splitlines() if any(s in line for s in leaked)))
    assert not leaked, f"leaked {leaked}"


def _client(base: str, secrets: Secrets, **fields: Any) -> RestClient:
    return RestClient(connection(base, **fields), secrets=secrets)


def test_basic_bearer_and_api_key_flows(run: Any, httpbin_url: str, httpserver: HTTPServer) -> None:
    secrets = Secrets()
    httpserver.expect_request("/deny").respond_with_handler(lambda r: _echo(r, 401))
    httpserver.expect_request("/boom").respond_with_handler(lambda r: _echo(r, 503))
    httpserver.expect_request("/gone").respond_with_handler(lambda r: _echo(r, 404))
    httpserver.expect_request("/html").respond_with_data(f"<html>{API_KEY} {BEARER}</html>", content_type="text/html")

    basic = _client(httpbin_url, secrets, auth={"type": "basic", "username": "u", "password": PASSWORD})
    run(lambda: basic.request("GET", f"/basic-auth/u/{PASSWORD}"))
    run(lambda: basic.request("GET", "/basic-auth/u/other", table_name="t"))
    bearer = _client(httpserver.url_for("/"), secrets, auth={"type": "bearer", "token": BEARER}, rate_limit=FAST)
    run(lambda: bearer.request("GET", "/deny"))
    run(lambda: bearer.request("GET", "/boom"))
    run(lambda: list(iter_pages(bearer, table(path="/html"))))
    for param in ("api_key", "x"):
        keyed = _client(httpserver.url_for("/"), secrets, auth={"type": "api_key", "key": API_KEY, "param": param},
                        rate_limit=FAST)
        run(lambda: list(iter_pages(keyed, table(path="/boom"))))
        run(lambda: keyed.request("GET", "/gone"))
        run(lambda: keyed.request("GET", "/deny"))
        run(lambda: ping(keyed))
        with ScriptedServer(["drop"]) as dead:
            gone = _client(dead.url, secrets, auth={"type": "api_key", "key": API_KEY, "param": param},
                           rate_limit=FAST)
            run(lambda: gone.request("GET", "/items"))
    for client in (basic, bearer, keyed, gone):
        client.close()


def test_cookie_token_refresh_and_oauth_flows(run: Any, httpserver: HTTPServer) -> None:
    secrets = Secrets()
    state = {"logins": 0}

    def login(req: Request) -> Response:
        state["logins"] += 1
        return Response("ok", headers={"Set-Cookie": f"sid={COOKIE}; Path=/"})

    def refresh(req: Request) -> Response:
        return Response(orjson.dumps({"access_token": REFRESHED}), content_type="application/json")

    def token(req: Request) -> Response:
        return Response(orjson.dumps({"access_token": ISSUED, "expires_in": 60}), content_type="application/json")

    httpserver.expect_request("/login").respond_with_handler(login)
    httpserver.expect_request("/refresh").respond_with_handler(refresh)
    httpserver.expect_request("/token").respond_with_handler(token)
    httpserver.expect_request("/deny").respond_with_handler(lambda r: _echo(r, 401))
    httpserver.expect_request("/forbid").respond_with_handler(lambda r: _echo(r, 403))
    httpserver.expect_request("/bad-refresh").respond_with_handler(lambda r: _echo(r, 500))
    httpserver.expect_request("/ok").respond_with_handler(lambda r: _echo(r, 200))
    httpserver.expect_request("/boom").respond_with_handler(lambda r: _echo(r, 503))

    def oauth_then_boom() -> Any:
        client = _client(httpserver.url_for("/"), secrets, rate_limit=FAST, auth={
            "type": "oauth2_client_credentials", "token_url": "/token", "client_id": "cid",
            "client_secret": CLIENT_SECRET})
        try:
            return list(iter_pages(client, table(path="/boom")))
        finally:
            client.close()

    cookie = _client(httpserver.url_for("/"), secrets, auth={
        "type": "cookie", "login": {"path": "/login", "body": {"user": "u", "password": LOGIN_PASSWORD}}})
    run(lambda: list(iter_pages(cookie, table(path="/ok"))))
    run(lambda: cookie.request("GET", "/forbid", table_name="t"))
    assert state["logins"] == 2

    refreshing = _client(httpserver.url_for("/"), secrets, auth={
        "type": "token", "token": INITIAL, "scheme": "Bearer",
        "refresh": {"path": "/refresh", "body": {"refresh_token": REFRESH_TOKEN}, "token_path": "access_token"}})
    run(lambda: refreshing.request("GET", "/deny"))
    run(lambda: refreshing.request("GET", "/boom", rate_limit=RateLimit(**FAST), table_name="t"))  # echoes the new token
    run(lambda: oauth_then_boom())
    run(lambda: list(iter_pages(refreshing, table(path="/ok"))))
    broken = _client(httpserver.url_for("/"), secrets, auth={
        "type": "token", "token": INITIAL, "send_via": "param", "param_name": "t",
        "refresh": {"path": "/bad-refresh", "body": REFRESH_TOKEN, "media_type": "text", "token_path": "x"}})
    run(lambda: broken.request("GET", "/deny"))

    oauth = _client(httpserver.url_for("/"), secrets, auth={
        "type": "oauth2_client_credentials", "token_url": "/token", "client_id": "cid",
        "client_secret": CLIENT_SECRET})
    run(lambda: oauth.request("GET", "/ok"))
    run(lambda: oauth.request("GET", "/deny"))
    failing = _client(httpserver.url_for("/"), secrets, auth={
        "type": "oauth2_client_credentials", "token_url": "/deny", "client_id": "cid",
        "client_secret": CLIENT_SECRET})
    run(lambda: failing.request("GET", "/ok"))
    for client in (cookie, refreshing, broken, oauth, failing):
        client.close()

"""The bundled demo API, exercised over real HTTP on 127.0.0.1 (no mocked transports)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime

import httpx
import orjson
import pytest

from restsync_dagster.demo import DemoServer
from restsync_dagster.demo.data import BASE_EPOCH, Store, iso
from restsync_dagster.demo.views import EventView, Filters

N_CUSTOMERS = 10_000


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(port=0) as srv:
        yield srv


@pytest.fixture
def client(server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        yield c


@pytest.fixture
def fresh(client: httpx.Client) -> Iterator[httpx.Client]:
    """For tests that mutate the data: start and leave the server in its initial state."""
    client.post("/_admin/reset").raise_for_status()
    yield client
    client.post("/_admin/reset").raise_for_status()


# -- walkers: one per pagination style, each as a client following that style's contract ---------

def walk_offset(c: httpx.Client, path: str, params: dict, size: int, prefix: str = "") -> list[dict]:
    rows, offset = [], 0
    while True:
        body = c.get(f"{prefix}/offset{path}", params={**params, "offset": offset, "limit": size}).json()
        rows += body["data"]
        offset += size
        if len(body["data"]) < size or offset >= body["total"]:
            return rows


def walk_page(c: httpx.Client, path: str, params: dict, size: int, prefix: str = "") -> list[dict]:
    rows, page = [], 1
    while True:
        body = c.get(f"{prefix}/page{path}", params={**params, "page": page, "page_size": size}).json()
        rows += body["data"]
        if page >= body["total_pages"]:
            return rows
        page += 1


def walk_cursor(c: httpx.Client, path: str, params: dict, size: int, prefix: str = "") -> list[dict]:
    rows, cursor = [], None
    while True:
        query = {**params, "limit": size, **({"cursor": cursor} if cursor else {})}
        body = c.get(f"{prefix}/cursor{path}", params=query).json()
        rows += body["data"]
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            return rows


def walk_next(c: httpx.Client, path: str, params: dict, size: int, prefix: str = "") -> list[dict]:
    rows, body = [], c.get(f"{prefix}/next{path}", params={**params, "limit": size}).json()
    while True:
        rows += body["results"]
        if body["next"] is None:
            return rows
        assert body["next"].startswith("http://127.0.0.1:")
        body = c.get(body["next"]).json()


def walk_link(c: httpx.Client, path: str, params: dict, size: int, prefix: str = "") -> list[dict]:
    rows, response = [], c.get(f"{prefix}/link{path}", params={**params, "per_page": size})
    while True:
        rows += response.json()
        if "next" not in response.links:
            return rows
        response = c.get(response.links["next"]["url"])


def walk_keyset(c: httpx.Client, path: str, params: dict, size: int, prefix: str = "") -> list[dict]:
    rows, after = [], 0
    while True:
        body = c.get(f"{prefix}/keyset{path}", params={**params, "limit": size, "starting_after": after}).json()
        rows += body["data"]
        if not body["has_more"]:
            return rows
        after = body["data"][-1]["id"]


WALKERS: dict[str, Callable[..., list[dict]]] = {
    "offset": walk_offset, "page": walk_page, "cursor": walk_cursor,
    "next": walk_next, "link": walk_link, "keyset": walk_keyset,
}


def ids(rows: list[dict]) -> list[int]:
    return [row["id"] for row in rows]


# -- data and pagination -------------------------------------------------------------------------

def test_health(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok", "version": "1"}


@pytest.mark.parametrize("style", WALKERS)
def test_every_style_walks_all_customers_once(client: httpx.Client, style: str) -> None:
    rows = WALKERS[style](client, "/customers", {}, 1000 if style != "cursor" else 333)
    assert ids(rows) == list(range(1, N_CUSTOMERS + 1))


def test_walk_with_default_page_size(client: httpx.Client) -> None:
    body = client.get("/offset/customers").json()
    assert len(body["data"]) == 100 and body["total"] == N_CUSTOMERS and body["success"] is True
    assert ids(walk_keyset(client, "/orders", {}, 100)) == list(range(1, 2001))


def test_customer_shape_is_deterministic(client: httpx.Client) -> None:
    first = client.get("/customers/1").json()
    assert set(first) == {"id", "name", "email", "country", "created_at", "updated_at", "score",
                          "active", "address", "tags"}
    assert len(first["country"]) == 2 and set(first["address"]) == {"city", "zip"}
    assert first["created_at"].startswith("2026-01-") and first["updated_at"].endswith("Z")
    assert client.get("/offset/customers", params={"limit": 1}).json()["data"][0] == first
    assert client.get("/customers/10001").status_code == 404


def test_order_items(client: httpx.Client) -> None:
    counts = set()
    for order_id in range(1, 11):
        items = client.get(f"/orders/{order_id}/items").json()["items"]
        counts.add(len(items))
        assert [i["line"] for i in items] == list(range(1, len(items) + 1))
        order = client.get(f"/orders/{order_id}").json()
        assert order["total_cents"] == sum(i["qty"] * i["price_cents"] for i in items)
    assert counts <= {1, 2, 3, 4, 5} and len(counts) > 1
    assert client.get("/orders/2001/items").status_code == 404


def test_events_default_to_first_week(client: httpx.Client) -> None:
    rows = walk_offset(client, "/events", {}, 1000)
    assert len(rows) == 1008
    assert rows[0]["ts"] == "2026-01-01T00:00:00Z" and rows[-1]["ts"] == "2026-01-07T23:50:00Z"


@pytest.mark.parametrize("style", WALKERS)
def test_event_range_filters_in_every_style(client: httpx.Client, style: str) -> None:
    params = {"from": "2026-03-01T12:00:00Z", "to": "2026-03-02"}
    rows = WALKERS[style](client, "/events", params, 50)
    assert len(rows) == 72
    assert rows[0]["ts"] == "2026-03-01T12:00:00Z" and rows[-1]["ts"] == "2026-03-01T23:50:00Z"
    assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)


def test_event_filters_edges(client: httpx.Client) -> None:
    tail = client.get("/offset/events", params={"from": "2026-12-31T23:00:00+00:00"}).json()
    assert tail["total"] == 6 and tail["data"][-1]["ts"] == "2026-12-31T23:50:00Z"
    year = client.get("/offset/events", params={"from": "2026-01-01", "limit": 1}).json()
    assert year["total"] == 52_560
    since = client.get("/offset/events", params={"updated_since": "2026-12-31T23:30:00Z"}).json()
    assert [r["ts"] for r in since["data"]] == ["2026-12-31T23:40:00Z", "2026-12-31T23:50:00Z"]
    bad = client.get("/offset/events", params={"from": "yesterday"})
    assert bad.status_code == 400 and "from" in bad.json()["error"]


@pytest.mark.parametrize("style", WALKERS)
def test_updated_since_in_every_style(client: httpx.Client, style: str) -> None:
    everyone = walk_offset(client, "/customers", {}, 1000)
    since = "2026-01-20T00:00:00Z"
    expected = [r["id"] for r in everyone if r["updated_at"] > since]
    assert 0 < len(expected) < N_CUSTOMERS
    assert ids(WALKERS[style](client, "/customers", {"updated_since": since}, 500)) == expected


def test_created_range_on_customers(client: httpx.Client) -> None:
    body = client.get("/offset/customers", params={"from": "2026-01-02", "to": "2026-01-03"}).json()
    assert body["total"] == 360
    assert all(r["created_at"].startswith("2026-01-02") for r in body["data"])


def test_bad_params_are_400(client: httpx.Client) -> None:
    assert client.get("/offset/customers", params={"limit": 1001}).status_code == 400
    assert client.get("/cursor/customers", params={"cursor": "garbage!"}).status_code == 400
    assert client.get("/offset/widgets").status_code == 404


def test_post_with_json_body_params(client: httpx.Client) -> None:
    body = client.post("/offset/customers", json={"offset": 10, "limit": 5}).json()
    assert ids(body["data"]) == [11, 12, 13, 14, 15]


def test_csv_and_xml_formats(client: httpx.Client) -> None:
    response = client.get("/offset/customers", params={"limit": 3, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "id,name,email,country,created_at,updated_at,score,active"
    assert len(lines) == 4 and lines[1].startswith("1,")
    xml = client.get("/offset/orders", params={"limit": 1, "format": "xml"})
    assert xml.headers["content-type"].startswith("application/xml") and b"<total>2000</total>" in xml.content


def test_next_link_keeps_other_params(client: httpx.Client) -> None:
    body = client.get("/next/customers", params={"limit": 10, "updated_since": "2026-01-02",
                                                 "fault_key": "x"}).json()
    url = httpx.URL(body["next"])
    assert url.params["updated_since"] == "2026-01-02" and url.params["fault_key"] == "x"
    assert url.params["after"] == str(body["results"][-1]["id"]) and url.params["limit"] == "10"


def test_link_header_rels(client: httpx.Client) -> None:
    first = client.get("/link/orders", params={"per_page": 500})
    assert set(first.links) == {"next", "first", "last"}
    assert httpx.URL(first.links["last"]["url"]).params["page"] == "4"
    last = client.get(first.links["last"]["url"])
    assert "next" not in last.links and "prev" in last.links and len(last.json()) == 500


def test_cursor_is_opaque_base64(client: httpx.Client) -> None:
    cursor = client.get("/cursor/customers", params={"limit": 7}).json()["meta"]["next_cursor"]
    assert isinstance(cursor, str)
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert orjson.loads(decoded) == {"after": 7}


# -- auth ----------------------------------------------------------------------------------------

def _token(c: httpx.Client, ttl: float | None = None) -> str:
    params = {"ttl": ttl} if ttl is not None else {}
    r = c.post("/token/refresh", params=params, json={"refresh_token": "demo-refresh"})
    assert r.status_code == 200
    return r.json()["access"]["token"]


def _oauth(c: httpx.Client, ttl: float | None = None) -> str:
    params = {"ttl": ttl} if ttl is not None else {}
    r = c.post("/oauth/token", params=params, data={
        "grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret"})
    assert r.status_code == 200
    return r.json()["access_token"]


def _login(c: httpx.Client, ttl: float | None = None) -> httpx.Cookies:
    params = {"ttl": ttl} if ttl is not None else {}
    r = c.post("/login", params=params, json={"username": "demo", "password": "demo-pass"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    return httpx.Cookies({"demo_session": r.cookies["demo_session"]})


GOOD: dict[str, Callable[[httpx.Client], dict]] = {
    "basic": lambda c: {"auth": ("demo", "demo-pass")},
    "bearer": lambda c: {"headers": {"Authorization": "Bearer demo-token"}},
    "api_key": lambda c: {"headers": {"X-API-Key": "demo-key"}},
    "token": lambda c: {"headers": {"Authorization": f"Token {_token(c)}"}},
    "oauth2": lambda c: {"headers": {"Authorization": f"Bearer {_oauth(c)}"}},
    "cookie": lambda c: {"cookies": _login(c)},
}
BAD: dict[str, list[dict]] = {
    "basic": [{}, {"auth": ("demo", "wrong")}, {"headers": {"Authorization": "Basic !!"}}],
    "bearer": [{}, {"headers": {"Authorization": "Bearer nope"}}],
    "api_key": [{}, {"headers": {"X-API-Key": "nope"}}, {"params": {"api_key": "nope"}}],
    "token": [{}, {"headers": {"Authorization": "Token nope"}}, {"params": {"access_token": "x"}}],
    "oauth2": [{}, {"headers": {"Authorization": "Bearer demo-token"}}],
    "cookie": [{}, {"cookies": {"demo_session": "forged"}}],
}


@pytest.mark.parametrize("kind", GOOD)
def test_auth_kind_accepts_good_and_rejects_bad(server: DemoServer, kind: str) -> None:
    with httpx.Client(base_url=server.base_url) as c:
        good = GOOD[kind](c)
        cookies = good.pop("cookies", None)
        c.cookies = cookies or httpx.Cookies()
        r = c.get(f"/auth/{kind}/offset/customers", params={"limit": 2}, **good)
        assert r.status_code == 200 and ids(r.json()["data"]) == [1, 2]
        c.cookies = httpx.Cookies()
        for bad in BAD[kind]:
            bad = dict(bad)
            c.cookies = httpx.Cookies(bad.pop("cookies", {}))
            r = c.get(f"/auth/{kind}/offset/customers", **bad)
            assert r.status_code == 401, (kind, bad)
            assert "error" in r.json()


def test_unprefixed_routes_need_no_auth_and_unknown_kind_is_404(client: httpx.Client) -> None:
    assert client.get("/offset/customers", params={"limit": 1}).status_code == 200
    assert client.get("/auth/kerberos/offset/customers").status_code == 404


def test_basic_challenge_and_alt_credentials(client: httpx.Client) -> None:
    r = client.get("/auth/basic/health")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert client.get("/auth/api_key/health", params={"api_key": "demo-key"}).status_code == 200
    assert client.get("/auth/token/health", params={"access_token": "demo-static-token"}).status_code == 200
    assert client.get("/auth/token/customers/3", headers={"Authorization": "Token demo-static-token"}
                      ).json()["id"] == 3


def test_api_key_param_is_kept_in_next_links(client: httpx.Client) -> None:
    rows = walk_next(client, "/orders", {"api_key": "demo-key"}, 1000, prefix="/auth/api_key")
    assert ids(rows) == list(range(1, 2001))


def test_token_refresh_and_expiry(fresh: httpx.Client) -> None:
    assert fresh.post("/token/refresh", json={"refresh_token": "bad"}).status_code == 400
    r = fresh.post("/token/refresh", params={"ttl": 0.3}, json={"refresh_token": "demo-refresh"})
    assert r.json()["access"]["expires_in"] == 0.3
    token = r.json()["access"]["token"]
    assert fresh.get("/auth/token/health", headers={"Authorization": f"Token {token}"}).status_code == 200
    time.sleep(0.4)
    expired = fresh.get("/auth/token/health", headers={"Authorization": f"Token {token}"})
    assert expired.status_code == 401 and expired.json() == {"error": "invalid_token"}
    fresh_token = _token(fresh)
    assert fresh.get("/auth/token/health", params={"access_token": fresh_token}).status_code == 200
    assert fresh.post("/_admin/expire_tokens").json()["expired"] == 2
    assert fresh.get("/auth/token/health", params={"access_token": fresh_token}).status_code == 401
    assert fresh.get("/_admin/stats").json()["token_refreshes"] == 2


def test_oauth2_client_credentials(fresh: httpx.Client) -> None:
    r = fresh.post("/oauth/token", auth=("demo-client", "demo-secret"), data={
        "grant_type": "client_credentials", "scope": "read:all", "audience": "demo-api"})
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["scope"] == "read:all"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert fresh.get("/auth/oauth2/customers/1", headers=bearer).status_code == 200
    wrong = fresh.post("/oauth/token", data={"grant_type": "client_credentials",
                                             "client_id": "demo-client", "client_secret": "x"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    assert fresh.post("/oauth/token", data={"grant_type": "password"}).status_code == 400
    stats = fresh.get("/_admin/stats").json()
    assert stats["oauth_tokens"] == 1
    assert stats["last_oauth_request"]["audience"] == "demo-api"
    assert "demo-secret" not in str(stats)
    short = _oauth(fresh, ttl=0.3)
    time.sleep(0.4)
    assert fresh.get("/auth/oauth2/health", headers={"Authorization": f"Bearer {short}"}).status_code == 401
    assert fresh.get("/_admin/stats").json()["oauth_tokens"] == 2


def test_cookie_login_expiry_and_relogin(fresh: httpx.Client, server: DemoServer) -> None:
    with httpx.Client(base_url=server.base_url) as c:
        assert c.get("/auth/cookie/health").status_code == 401
        assert c.post("/login", json={"username": "demo", "password": "nope"}).status_code == 401
        r = c.post("/login", data={"username": "demo", "password": "demo-pass"})
        set_cookie = r.headers["set-cookie"]
        assert "demo_session=" in set_cookie and "HttpOnly" in set_cookie and "Path=/" in set_cookie
        assert c.get("/auth/cookie/offset/orders", params={"limit": 1}).status_code == 200
        c.post("/_admin/expire_sessions").raise_for_status()
        assert c.get("/auth/cookie/health").status_code == 401
        assert c.post("/login", params={"ttl": 0.3},
                      json={"username": "demo", "password": "demo-pass"}).status_code == 200
        assert c.get("/auth/cookie/health").status_code == 200
        time.sleep(0.4)
        assert c.get("/auth/cookie/health").status_code == 401
        assert c.get("/login", params={"username": "demo", "password": "demo-pass"}).status_code == 200
        assert c.get("/auth/cookie/health").status_code == 200
    assert fresh.get("/_admin/stats").json()["logins"] == 3


# -- faults --------------------------------------------------------------------------------------

def test_fail_status_with_fail_times_and_retry_headers(client: httpx.Client) -> None:
    params = {"fail_status": 503, "fail_times": 2, "fault_key": "status-1", "retry_after": 1}
    first = client.get("/offset/customers", params=params)
    assert first.status_code == 503 and first.headers["retry-after"] == "1"
    assert client.get("/offset/customers", params=params).status_code == 503
    assert client.get("/offset/customers", params=params).status_code == 200
    other_key = client.get("/offset/customers", params={**params, "fault_key": "status-2"})
    assert other_key.status_code == 503


def test_retry_after_date_and_ratelimit_reset(client: httpx.Client) -> None:
    r = client.get("/page/orders", params={"fail_status": 429, "retry_after_date": 1})
    assert r.status_code == 429
    assert abs(parsedate_to_datetime(r.headers["retry-after"]).timestamp() - time.time() - 1) < 2
    r = client.get("/page/orders", params={"fail_status": 429, "ratelimit_reset": 2})
    assert 0 < int(r.headers["x-ratelimit-reset"]) - time.time() <= 3


def test_permanent_failure_and_401(client: httpx.Client) -> None:
    for _ in range(3):
        assert client.get("/keyset/events", params={"fail_status": 500}).status_code == 500
    assert client.get("/keyset/events", params={"fail_status": 401}).status_code == 401
    assert client.get("/health", params={"fail_status": 503}).status_code == 503


def test_delay(client: httpx.Client) -> None:
    start = time.monotonic()
    assert client.get("/customers/1", params={"delay": 0.3}).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_html_truncate_and_error_body(client: httpx.Client) -> None:
    html = client.get("/offset/customers", params={"html": 1})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    truncated = client.get("/offset/customers", params={"truncate": 1, "limit": 10})
    assert truncated.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(truncated.content)
    err = client.get("/offset/customers", params={"error_body": 1})
    assert err.status_code == 200 and err.json() == {"success": False, "error": "upstream failure"}


def test_drop_is_a_transport_error(client: httpx.Client) -> None:
    params = {"drop": 1, "fail_times": 1, "fault_key": "drop-1"}
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get("/cursor/customers", params=params)
    assert client.get("/cursor/customers", params=params).status_code == 200
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/receiver/contacts", params={"drop": 1}, json={"email": "x@example.com"})


def test_loop_repeats_next_pointer(client: httpx.Client) -> None:
    body = client.get("/cursor/orders", params={"loop": 1, "limit": 10}).json()
    second = client.get("/cursor/orders", params={"loop": 1, "limit": 10,
                                                  "cursor": body["meta"]["next_cursor"]}).json()
    assert second["meta"]["next_cursor"] == body["meta"]["next_cursor"]
    first = client.get("/next/orders", params={"loop": 1, "limit": 10}).json()
    again = client.get(first["next"]).json()
    assert again["next"] == first["next"]
    page2 = client.get(client.get("/link/orders", params={"loop": 1}).links["next"]["url"])
    assert page2.links["next"]["url"] == str(page2.url)


def test_fail_after_pages(client: httpx.Client) -> None:
    ok = client.get("/offset/customers", params={"fail_after_pages": 2, "offset": 100})
    assert ok.status_code == 200
    assert client.get("/offset/customers", params={"fail_after_pages": 2, "offset": 200}).status_code == 500
    assert client.get("/page/customers", params={"fail_after_pages": 2, "page": 3}).status_code == 500
    with pytest.raises(httpx.HTTPStatusError):
        walk_cursor_checked(client, {"fail_after_pages": 3})
    limited = {"fail_after_pages": 1, "fail_status": 503, "fail_times": 1, "fault_key": "fap"}
    assert client.get("/keyset/orders", params={**limited, "starting_after": 500}).status_code == 503
    assert client.get("/keyset/orders", params={**limited, "starting_after": 500}).status_code == 200


def walk_cursor_checked(c: httpx.Client, params: dict) -> int:
    pages, cursor = 0, None
    while True:
        r = c.get("/cursor/customers", params={**params, **({"cursor": cursor} if cursor else {})})
        r.raise_for_status()
        pages += 1
        cursor = r.json()["meta"]["next_cursor"]
        if not cursor:
            return pages


# -- mutations and stats -------------------------------------------------------------------------

def test_touch_add_reset(fresh: httpx.Client) -> None:
    before = fresh.get("/customers/3").json()
    touched = fresh.post("/_admin/touch", json={"resource": "customers", "ids": [1, 2, 3]}).json()
    stamp = touched["updated_at"]
    assert stamp > "2026-02-01"
    after = fresh.get("/customers/3").json()
    assert after["updated_at"] == stamp and (after["name"], after["score"]) != (before["name"], before["score"])
    changed = walk_keyset(fresh, "/customers", {"updated_since": "2026-01-31T00:00:00Z"}, 100)
    assert ids(changed) == [1, 2, 3]
    second = fresh.post("/_admin/touch", json={"resource": "customers", "ids": [2]}).json()["updated_at"]
    assert second > stamp
    assert ids(walk_offset(fresh, "/customers", {"updated_since": stamp}, 100)) == [2]

    added = fresh.post("/_admin/add", json={"resource": "customers", "count": 5}).json()
    assert added["ids"] == [10_001, 10_002, 10_003, 10_004, 10_005] and added["updated_at"] > second
    assert fresh.get("/offset/customers", params={"limit": 1}).json()["total"] == 10_005
    assert ids(walk_cursor(fresh, "/customers", {"updated_since": second}, 100)) == added["ids"]

    assert fresh.post("/_admin/touch", json={"resource": "customers", "ids": [99_999]}).status_code == 404
    fresh.post("/_admin/reset").raise_for_status()
    assert fresh.get("/customers/3").json() == before
    assert fresh.get("/offset/customers", params={"limit": 1}).json()["total"] == N_CUSTOMERS


def test_touch_and_add_events_and_orders(fresh: httpx.Client) -> None:
    before = fresh.get("/events/5").json()
    fresh.post("/_admin/touch", json={"resource": "events", "ids": [5, 30_000]}).raise_for_status()
    after = fresh.get("/events/5").json()
    assert after["value"] != before["value"] and after["ts"] == before["ts"]
    assert after["updated_at"] > "2026-02-01"
    window = {"from": "2026-01-01", "to": "2026-02-02", "updated_since": "2026-01-31T00:00:00Z"}
    body = fresh.get("/offset/events", params={**window, "limit": 1000}).json()
    # the touched event, older than `updated_since` by ts, comes first; 30000 is outside `to`
    assert body["total"] == 1 + 287 and ids(body["data"])[:2] == [5, 4322]
    keyset = walk_keyset(fresh, "/events", window, 50)
    assert ids(keyset) == ids(body["data"])
    added = fresh.post("/_admin/add", json={"resource": "events", "count": 2}).json()
    assert added["ids"] == [52_561, 52_562]
    tail = fresh.get("/offset/events", params={"from": "2027-01-01"}).json()["data"]
    assert [r["ts"] for r in tail] == ["2027-01-01T00:00:00Z", "2027-01-01T00:10:00Z"]
    assert all(r["updated_at"] == added["updated_at"] for r in tail)
    fresh.post("/_admin/touch", json={"resource": "orders", "ids": [7]}).raise_for_status()
    assert ids(walk_page(fresh, "/orders", {"updated_since": "2026-02-01"}, 100)) == [7]


@pytest.mark.parametrize("window", [
    {},
    {"from": BASE_EPOCH, "to": BASE_EPOCH + 86400 * 3},
    {"from": BASE_EPOCH + 86400, "to": BASE_EPOCH + 86400 * 3, "since": BASE_EPOCH + 86400 * 2},
    {"since": BASE_EPOCH + 86400 * 360},
    {"from": BASE_EPOCH + 86400 * 400},
])
def test_event_view_matches_brute_force(window: dict) -> None:
    """Touched events may enter or leave an `updated_since` window; the arithmetic must agree."""
    store = Store()
    early, late = "2026-01-01T00:05:00Z", "2026-12-31T12:00:00Z"
    for event_id, stamp in {3: late, 200: late, 300: early, 400: early, 52_000: early}.items():
        store.event_overrides[event_id] = {"updated_at": stamp}
    filters = Filters(window.get("from"), window.get("to"), window.get("since"))
    view = EventView(store, filters)
    lo, hi = (filters.start, filters.end) if filters != (None, None, None) else (BASE_EPOCH, BASE_EPOCH + 7 * 86400)
    since = iso(filters.since) if filters.since is not None else None
    expected = [
        e["id"] for e in map(store.event, range(1, store.event_count + 1))
        if (lo is None or e["ts"] >= iso(lo)) and (hi is None or e["ts"] < iso(hi))
        and (since is None or e["updated_at"] > since)
    ]
    assert view.total() == len(expected)
    assert ids(view.slice(0, view.total() + 5)) == expected
    for probe in (0, 3, 199, 300, 5000, 51_999, 60_000):
        assert view.position_after(probe) == sum(1 for i in expected if i <= probe)


def test_stats(fresh: httpx.Client) -> None:
    fresh.get("/offset/orders", params={"limit": 3})
    fresh.get("/offset/orders", params={"limit": 4, "offset": 4})
    fresh.get("/health")
    stats = fresh.get("/_admin/stats").json()
    assert stats["requests"] == 3
    assert stats["by_path"] == {"/offset/orders": 2, "/health": 1}
    assert stats["last_params"]["/offset/orders"] == {"limit": "4", "offset": "4"}


# -- receiver ------------------------------------------------------------------------------------

def test_receiver_accepts_every_body_shape(fresh: httpx.Client) -> None:
    one = fresh.post("/receiver/contacts", json={"id": 1, "email": "a@example.com", "name": "A"})
    assert one.status_code == 201 and one.json()["email"] == "a@example.com"
    assert fresh.post("/receiver/contacts", json={"id": 1, "email": "a2@example.com"}).status_code == 200
    batch = fresh.post("/receiver/contacts", json=[{"id": 2, "email": "b@x.io"}, {"id": 3, "email": "c@x.io"}])
    assert batch.json() == {"received": 2, "created": 2, "updated": 0}
    nested = fresh.post("/receiver/contacts", json={"payload": {"records": [{"id": 4, "email": "d@x.io"}]},
                                                    "source": "restsync"})
    assert nested.json()["created"] == 1
    csv_body = "id,email,name\n5,e@x.io,E\n6,f@x.io,F\n"
    r = fresh.post("/receiver/contacts", content=csv_body, headers={"Content-Type": "text/csv"})
    assert r.json()["created"] == 2
    assert fresh.post("/receiver/contacts", data={"id": "7", "email": "g@x.io"}).status_code == 201
    multipart = fresh.post("/receiver/contacts", data={"id": "8", "email": "h@x.io"},
                           files={"note": ("note.txt", b"hello")})
    assert multipart.status_code == 201 and multipart.json()["note"] == "hello"
    listing = fresh.get("/receiver/contacts").json()
    assert listing["total"] == 8
    assert {str(r["id"]) for r in listing["data"]} == {str(i) for i in range(1, 9)}
    assert fresh.get("/receiver/contacts/1").json()["email"] == "a2@example.com"


def test_receiver_validation_and_item_verbs(fresh: httpx.Client) -> None:
    missing = fresh.post("/receiver/contacts", json=[{"id": 1, "email": "a@x.io"}, {"id": 2}])
    assert missing.status_code == 422 and missing.json()["error"] == "email is required"
    assert fresh.get("/receiver/contacts").json()["total"] == 0  # whole batch rejected
    assert fresh.put("/receiver/contacts/9", json={"email": "i@x.io"}).status_code == 201
    patched = fresh.patch("/receiver/contacts/9", json={"name": "Ines"}).json()
    assert patched == {"id": 9, "email": "i@x.io", "name": "Ines"}
    assert fresh.patch("/receiver/contacts/10", json={"name": "x"}).status_code == 404
    assert fresh.put("/receiver/contacts/9", json={"name": "no email"}).status_code == 422
    assert fresh.delete("/receiver/contacts/9").status_code == 204
    assert fresh.delete("/receiver/contacts/9").status_code == 404


def test_receiver_log_faults_and_auth(fresh: httpx.Client) -> None:
    params = {"fail_status": 503, "fail_times": 1, "fault_key": "recv"}
    record = {"id": 1, "email": "a@x.io"}
    assert fresh.post("/receiver/contacts", params=params, json=record).status_code == 503
    assert fresh.post("/receiver/contacts", params=params, json=record).status_code == 201
    assert fresh.post("/auth/bearer/receiver/contacts", json=record).status_code == 401
    ok = fresh.post("/auth/bearer/receiver/contacts", json=record,
                    headers={"Authorization": "Bearer demo-token"})
    assert ok.status_code == 200
    log = fresh.get("/receiver/requests").json()["requests"]
    assert [e["status"] for e in log] == [503, 201, 200]  # the guard answered the 401 itself
    assert log[0]["method"] == "POST" and orjson.loads(log[0]["body"]) == record
    assert log[0]["headers"]["content-type"] == "application/json"
    assert log[2]["path"] == "/auth/bearer/receiver/contacts"
    fresh.post("/_admin/reset").raise_for_status()
    assert fresh.get("/receiver/requests").json() == {"requests": []}

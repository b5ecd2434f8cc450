"""Every pagination style (and auth kind) of the bundled demo API, walked end to end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from restsync_dagster.errors import PaginationError
from restsync_dagster.http import AUTH_FLOWS, PAGINATORS, RequestStats, iter_pages
from tests.http.helpers import rsa_pem_pair, table

DemoServer = pytest.importorskip("restsync_dagster.demo.server").DemoServer


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    with DemoServer(port=0) as server:
        yield server.base_url


# type → table fields (page size 1000: ten pages of the 10,000 customers)
STYLES: dict[str, dict[str, Any]] = {
    "offset": {"path": "/offset/customers", "response": {"root_key": "data"},
               "pagination": {"type": "offset", "page_size": 1000, "total_path": "total"}},
    "page_number": {"path": "/page/customers", "response": {"root_key": "data"},
                    "pagination": {"type": "page_number", "page_size": 1000, "total_pages_path": "total_pages"}},
    "cursor": {"path": "/cursor/customers", "response": {"root_key": "data"},
               "pagination": {"type": "cursor", "cursor_field": "meta.next_cursor", "page_size": 1000}},
    "next_link": {"path": "/next/customers", "params": {"limit": 1000}, "response": {"root_key": "results"},
                  "pagination": {"type": "next_link", "link_field": "next"}},
    "link_header": {"path": "/link/customers", "params": {"per_page": 1000},
                    "pagination": {"type": "link_header", "rel": "next"}},
    "keyset": {"path": "/keyset/customers", "response": {"root_key": "data"},
               "pagination": {"type": "keyset", "record_field": "id", "param": "starting_after",
                              "has_more_field": "has_more", "page_size": 1000}},
}


def test_every_paginator_has_a_demo_style() -> None:
    assert set(STYLES) == set(PAGINATORS)


@pytest.mark.parametrize("kind", sorted(PAGINATORS))
def test_demo_style_yields_every_customer_once(kind: str, demo: str, make_client: Any) -> None:
    client = make_client(demo)
    stats = RequestStats()
    ids = [r["id"] for page in iter_pages(client, table(name="customers", **STYLES[kind]), stats=stats)
           for r in page.records]
    assert ids == list(range(1, 10_001))
    assert stats.requests == stats.pages <= 11 and stats.retries == 0


@pytest.mark.parametrize("kind", ["cursor", "next_link", "link_header"])
def test_demo_loop_knob_is_caught(kind: str, demo: str, make_client: Any) -> None:
    fields = dict(STYLES[kind])
    fields["params"] = {**fields.get("params", {}), "loop": "1"}
    with pytest.raises(PaginationError, match=r"table 'customers', page 3: the next request would repeat page 2"):
        list(iter_pages(make_client(demo), table(name="customers", **fields)))


def test_demo_faults_are_retried(demo: str, make_client: Any) -> None:
    client = make_client(demo, rate_limit={"backoff_s": 0.01, "max_backoff_s": 0.05})
    for knob in ({"drop": "1"}, {"html": "1"}, {"truncate": "1"}, {"error_body": "1"}, {"fail_status": "503"}):
        t = table(name="customers", path="/offset/customers", params={**knob, "fail_times": 1,
                                                                      "fault_key": str(knob)},
                  response={"root_key": "data", "success_field": "success", "success_values": [True]},
                  pagination={"type": "offset", "page_size": 1000}, max_pages=2)
        stats = RequestStats()
        assert sum(len(p.records) for p in iter_pages(client, t, stats=stats)) == 2000, knob
        assert stats.retries == 1, knob


_PRIVATE, _PUBLIC = rsa_pem_pair()

AUTH = {
    "none": ("", {"type": "none"}),
    "basic": ("basic", {"type": "basic", "username": "demo", "password": "demo-pass"}),
    "bearer": ("bearer", {"type": "bearer", "token": "demo-token"}),
    "api_key": ("api_key", {"type": "api_key", "key": "demo-key", "param": "api_key"}),
    "token": ("token", {"type": "token", "token": "stale", "scheme": "Token",
                        "refresh": {"path": "/token/refresh", "body": {"refresh_token": "demo-refresh"},
                                    "token_path": "access.token"}}),
    "oauth2_client_credentials": ("oauth2", {"type": "oauth2_client_credentials", "token_url": "/oauth/token",
                                             "client_id": "demo-client", "client_secret": "demo-secret"}),
    "cookie": ("cookie", {"type": "cookie", "login": {"path": "/login",
                                                      "body": {"username": "demo", "password": "demo-pass"}}}),
    "oauth2_refresh_token": ("oauth2", {"type": "oauth2_refresh_token", "token_url": "/oauth/token?rotate=0",
                                        "client_id": "demo-client", "client_secret": "demo-secret",
                                        "refresh_token": "demo-oauth-refresh", "client_auth": "basic"}),
    "jwt_bearer": ("oauth2", {"type": "jwt_bearer", "private_key": _PRIVATE, "issuer": "etl@demo",
                              "token_url": "/oauth/token"}),
}


@pytest.mark.parametrize("kind", sorted(AUTH_FLOWS))
def test_demo_auth_kinds(kind: str, demo: str, make_client: Any) -> None:
    prefix, auth = AUTH[kind]
    httpx.post(f"{demo}/_admin/jwt_keys", json={"issuer": "etl@demo", "public_key": _PUBLIC}).raise_for_status()
    client = make_client(demo, auth=auth)
    path = f"/auth/{prefix}/offset/orders" if prefix else "/offset/orders"
    t = table(name="orders", path=path, response={"root_key": "data"},
              pagination={"type": "offset", "page_size": 1000})
    assert sum(len(p.records) for p in iter_pages(client, t)) == 2000
    if kind in ("cookie", "token", "oauth2_client_credentials", "oauth2_refresh_token", "jwt_bearer"):
        httpx.post(f"{demo}/_admin/expire_sessions")
        httpx.post(f"{demo}/_admin/expire_tokens")
        assert sum(len(p.records) for p in iter_pages(client, t)) == 2000
        assert client.auth.refreshes == 2

"""Every auth kind of SPEC §3.2 against real servers: success, a wrong secret, refresh and re-login."""

from __future__ import annotations

import functools
import re
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qs

import jwt
import orjson
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from restsync_dagster.errors import AuthError
from restsync_dagster.http import AUTH_FLOWS, RestClient, UnknownTypeError, build_auth
from restsync_dagster.secrets import Secrets
from tests.http.helpers import connection, rsa_pem_pair
from tests.support import errors_in_threads


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, content_type="application/json", headers=headers)


def _get(client: RestClient, path: str) -> Any:
    return orjson.loads(client.request("GET", path).response.content)


# ----------------------------------------------------------------------------- success per kind
def ok_none(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    return httpbin, {"type": "none"}, "/get", lambda body: "Authorization" not in body["headers"]


def ok_basic(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    auth = {"type": "basic", "username": "u", "password": "p4ssw0rd"}
    return httpbin, auth, "/basic-auth/u/p4ssw0rd", lambda body: body == {"authenticated": True, "user": "u"}


def ok_bearer(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    auth = {"type": "bearer", "token": "tok-123"}
    return httpbin, auth, "/bearer", lambda body: body["token"] == "tok-123"


def ok_api_key(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    auth = {"type": "api_key", "key": "k-456", "header": "X-Api-Key"}
    return httpbin, auth, "/anything", lambda body: body["headers"]["X-Api-Key"] == "k-456"


def ok_token(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    auth = {"type": "token", "token": "t-789", "header_name": "X-Auth", "scheme": "Token"}
    return httpbin, auth, "/anything", lambda body: body["headers"]["X-Auth"] == "Token t-789"


def ok_oauth2_client_credentials(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    server.expect_request("/oauth/token", method="POST").respond_with_json(
        {"access_token": "issued-1", "token_type": "bearer", "expires_in": 3600})
    auth = {"type": "oauth2_client_credentials", "token_url": "/oauth/token", "client_id": "cid",
            "client_secret": "csecret"}
    return echo_api(server), auth, "/anything", lambda body: body["headers"]["Authorization"] == "Bearer issued-1"


def ok_oauth2_refresh_token(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    server.expect_request("/oauth/token", method="POST", data="grant_type=refresh_token&refresh_token=rt-1&client_id=cid&client_secret=csecret").respond_with_json(
        {"access_token": "issued-2", "token_type": "bearer", "expires_in": 3600})
    auth = {"type": "oauth2_refresh_token", "token_url": "/oauth/token", "client_id": "cid",
            "client_secret": "csecret", "refresh_token": "rt-1"}
    return echo_api(server), auth, "/anything", lambda body: body["headers"]["Authorization"] == "Bearer issued-2"


def ok_jwt_bearer(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    private, public = _rsa_pair()

    def token(request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        claims = jwt.decode(form["assertion"][0], public, algorithms=["RS256"], audience=server.url_for("/oauth/token"))
        return _json({"access_token": f"jwt-for-{claims['iss']}", "expires_in": 3600})

    server.expect_request("/oauth/token", method="POST").respond_with_handler(token)
    auth = {"type": "jwt_bearer", "private_key": private, "issuer": "svc", "token_url": "/oauth/token"}
    return echo_api(server), auth, "/anything", lambda body: body["headers"]["Authorization"] == "Bearer jwt-for-svc"


@functools.cache
def _rsa_pair() -> tuple[str, str]:
    return rsa_pem_pair()


def ok_cookie(httpbin: str, server: HTTPServer) -> tuple[str, dict, str, Callable[[Any], bool]]:
    server.expect_request("/login", method="POST").respond_with_response(
        Response("ok", headers={"Set-Cookie": "sid=sess-1; Path=/; HttpOnly"}))
    server.expect_request("/me").respond_with_handler(
        lambda r: _json({"cookie": r.cookies.get("sid")}) if r.cookies.get("sid") == "sess-1" else _json({}, 401))
    auth = {"type": "cookie", "login": {"path": "/login", "body": {"user": "u", "password": "pw"}}}
    return server.url_for("/"), auth, "/me", lambda body: body == {"cookie": "sess-1"}


def echo_api(server: HTTPServer) -> str:
    """OAuth2 needs our token endpoint, so its API is an echo on the same server."""
    server.expect_request("/anything").respond_with_handler(lambda r: _json({"headers": dict(r.headers)}))
    return server.url_for("/")


SUCCESS = {name.removeprefix("ok_"): fn for name, fn in globals().items() if name.startswith("ok_")}


def test_every_auth_kind_has_a_success_scenario() -> None:
    assert set(SUCCESS) == set(AUTH_FLOWS)


@pytest.mark.parametrize("kind", sorted(AUTH_FLOWS))
def test_every_auth_kind_succeeds(kind: str, httpbin_url: str, httpserver: HTTPServer, make_client: Any) -> None:
    base, auth, path, check = SUCCESS[kind](httpbin_url, httpserver)
    client = make_client(base, auth=auth)
    assert check(_get(client, path))
    assert check(_get(client, path))  # and again, with the cached credential


def test_api_key_as_query_param(httpbin_url: str, make_client: Any) -> None:
    client = make_client(httpbin_url, auth={"type": "api_key", "key": "qk-1", "param": "api_key"})
    body = orjson.loads(client.request("GET", "/anything", params={"q": "x"}).response.content)
    assert body["args"] == {"api_key": "qk-1", "q": "x"}


def test_token_as_query_param(httpbin_url: str, make_client: Any) -> None:
    client = make_client(httpbin_url, auth={"type": "token", "token": "pt-1", "send_via": "param",
                                            "param_name": "access_token"})
    assert _get(client, "/anything")["args"] == {"access_token": "pt-1"}


# ----------------------------------------------------------------------------- wrong secrets
def _guarded(server: HTTPServer, check: Callable[[Request], bool]) -> None:
    server.expect_request("/data").respond_with_handler(
        lambda r: _json({"ok": True}) if check(r) else _json({"error": "denied"}, 401))


def bad_basic(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    return httpbin, {"type": "basic", "username": "u", "password": "wrong-pass"}, "/basic-auth/u/p"


def bad_bearer(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    _guarded(server, lambda r: r.headers.get("Authorization") == "Bearer right")
    return server.url_for("/"), {"type": "bearer", "token": "wrong-token"}, "/data"


def bad_api_key(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    _guarded(server, lambda r: r.args.get("key") == "right")
    return server.url_for("/"), {"type": "api_key", "key": "wrong-key", "param": "key"}, "/data"


def bad_token(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    _guarded(server, lambda r: r.headers.get("X-Token") == "right")
    server.expect_request("/refresh").respond_with_json({"error": "bad refresh token"}, status=401)
    auth = {"type": "token", "token": "wrong-tok", "header_name": "X-Token",
            "refresh": {"path": "/refresh", "body": {"refresh_token": "wrong-refresh"}, "token_path": "token"}}
    return server.url_for("/"), auth, "/data"


def bad_oauth2_client_credentials(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    server.expect_request("/token").respond_with_json({"error": "invalid_client"}, status=401)
    auth = {"type": "oauth2_client_credentials", "token_url": server.url_for("/token"), "client_id": "c",
            "client_secret": "wrong-secret"}
    return server.url_for("/"), auth, "/data"


def bad_oauth2_refresh_token(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    server.expect_request("/token").respond_with_json({"error": "invalid_grant"}, status=400)
    auth = {"type": "oauth2_refresh_token", "token_url": server.url_for("/token"), "client_id": "c",
            "client_secret": "wrong-secret", "refresh_token": "wrong-refresh"}
    return server.url_for("/"), auth, "/data"


def bad_jwt_bearer(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    server.expect_request("/token").respond_with_json({"error": "invalid_grant"}, status=400)
    auth = {"type": "jwt_bearer", "private_key": _rsa_pair()[0], "issuer": "svc", "token_url": "/token"}
    return server.url_for("/"), auth, "/data"


def bad_cookie(server: HTTPServer, httpbin: str) -> tuple[str, dict, str]:
    server.expect_request("/login").respond_with_json({"error": "bad password"}, status=401)
    auth = {"type": "cookie", "login": {"path": "/login", "body": {"password": "wrong-pw"}}}
    return server.url_for("/"), auth, "/data"


FAILURE = {name.removeprefix("bad_"): fn for name, fn in globals().items() if name.startswith("bad_")}
EXPECTED = {
    "basic": r"GET http://127\.0\.0\.1:\d+/basic-auth/u/p was rejected with status 401",
    "bearer": r"rejected with status 401 .*check the credentials of connection",
    "api_key": r"GET http://localhost:\d+/data\?key=\*\*\* was rejected with status 401",
    "token": r"token refresh failed with status 401",
    "oauth2_client_credentials": r"OAuth2 token request failed \(invalid_client\) with status 401",
    "cookie": r"login failed with status 401",
    "oauth2_refresh_token": r"OAuth2 refresh failed \(invalid_grant\); the refresh token was rejected .* with status 400",
    "jwt_bearer": r"JWT bearer token request failed \(invalid_grant\) with status 400",
}


def test_every_auth_kind_with_a_secret_has_a_failure_scenario() -> None:
    assert set(FAILURE) == set(AUTH_FLOWS) - {"none"} == set(EXPECTED)


@pytest.mark.parametrize("kind", sorted(FAILURE))
def test_a_wrong_secret_fails_clearly(kind: str, httpbin_url: str, httpserver: HTTPServer, secrets: Secrets) -> None:
    base, auth, path = FAILURE[kind](httpserver, httpbin_url)
    conn = connection(base, auth=auth, name="crm")
    with RestClient(conn, secrets=secrets) as client, pytest.raises(AuthError) as caught:
        client.request("GET", path, table_name="contacts")
    message = str(caught.value)
    assert message.startswith("connection 'crm', table 'contacts': ")
    assert caught.value.status == (400 if kind in ("oauth2_refresh_token", "jwt_bearer") else 401)
    assert re.search(EXPECTED[kind], message), message
    for secret in ("wrong-pass", "wrong-token", "wrong-key", "wrong-tok", "wrong-refresh", "wrong-secret", "wrong-pw"):
        assert secret not in message and secret not in repr(caught.value)


def test_unknown_auth_type_lists_the_valid_ones(secrets: Secrets) -> None:
    class Fake:
        type = "kerberos"

    with pytest.raises(UnknownTypeError, match=r"unknown auth type 'kerberos'. Valid values are: \['api_key'"):
        build_auth(Fake(), base_url="http://x", secrets=secrets, connection_name="c")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- token refresh
class RefreshingApi:
    """/data wants ``Bearer <current>``; /refresh issues the next token (and counts)."""

    def __init__(self, server: HTTPServer, *, token_path: str = "data.access_token"):
        self.current = "fresh-1"
        self.refreshes = 0
        self.data_calls = 0
        self.refresh_bodies: list[bytes] = []
        self.lock = threading.Lock()
        server.expect_request("/data").respond_with_handler(self.data)
        server.expect_request("/auth/refresh", method="POST").respond_with_handler(self.refresh)
        self.token_path = token_path

    def data(self, req: Request) -> Response:
        with self.lock:
            self.data_calls += 1
        if req.headers.get("Authorization") == f"Bearer {self.current}":
            return _json({"rows": [1, 2]})
        return _json({"error": "token expired"}, 401)

    def refresh(self, req: Request) -> Response:
        with self.lock:
            self.refreshes += 1
            self.refresh_bodies.append(req.get_data())
        return _json({"data": {"access_token": self.current}})


def _token_auth(token: str = "stale", **refresh: Any) -> dict:
    block = {"path": "/auth/refresh", "token_path": "data.access_token",
             "body": {"refresh_token": "rt-1"}, **refresh}
    return {"type": "token", "token": token, "scheme": "Bearer", "refresh": block}


def test_token_refresh_happens_once_on_401_and_the_request_succeeds(httpserver: HTTPServer,
                                                                    make_client: Any) -> None:
    api = RefreshingApi(httpserver)
    client = make_client(httpserver.url_for("/"), auth=_token_auth())
    assert _get(client, "/data") == {"rows": [1, 2]}
    assert _get(client, "/data") == {"rows": [1, 2]}
    assert api.refreshes == 1 and client.auth.refreshes == 1
    assert api.data_calls == 3  # 401, retry, then straight through
    assert orjson.loads(api.refresh_bodies[0]) == {"refresh_token": "rt-1"}


def test_concurrent_401s_refresh_once(make_client: Any) -> None:
    from pytest_httpserver import HTTPServer as Server

    server = Server(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        api = RefreshingApi(server)
        client = make_client(server.url_for("/"), auth=_token_auth())

        def call() -> None:
            assert _get(client, "/data") == {"rows": [1, 2]}

        errors = errors_in_threads([call] * 8)
        assert not errors and api.refreshes == 1
    finally:
        server.stop()


def test_an_empty_initial_token_is_refreshed_first(httpserver: HTTPServer, make_client: Any) -> None:
    api = RefreshingApi(httpserver)
    client = make_client(httpserver.url_for("/"), auth=_token_auth(token="", media_type="url_encoded"))
    assert _get(client, "/data") == {"rows": [1, 2]}
    assert api.refreshes == 1 and api.data_calls == 1
    assert parse_qs(api.refresh_bodies[0].decode()) == {"refresh_token": ["rt-1"]}


def test_still_401_after_one_refresh_fails(httpserver: HTTPServer, make_client: Any) -> None:
    api = RefreshingApi(httpserver)
    api.current = "never-accepted"
    httpserver.clear()
    httpserver.expect_request("/data").respond_with_json({"error": "nope"}, status=401)
    httpserver.expect_request("/auth/refresh", method="POST").respond_with_handler(api.refresh)
    client = make_client(httpserver.url_for("/"), auth=_token_auth(), name="crm")
    with pytest.raises(AuthError, match=r"connection 'crm': request to GET /data was still rejected after "
                                        r"refreshing the token once with status 401"):
        client.request("GET", "/data")
    assert api.refreshes == 1


def test_refresh_response_without_the_token_path_fails(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/data").respond_with_json({}, status=401)
    httpserver.expect_request("/auth/refresh").respond_with_json({"data": {"other": "x"}})
    client = make_client(httpserver.url_for("/"), auth=_token_auth())
    with pytest.raises(AuthError, match=r"token refresh failed: no token at 'data.access_token'"):
        client.request("GET", "/data")


def test_refresh_on_other_statuses(httpserver: HTTPServer, make_client: Any) -> None:
    calls = {"refresh": 0}

    def data(req: Request) -> Response:
        return _json({"ok": 1}) if req.headers.get("Authorization") == "new" else _json({}, 419)

    def refresh(req: Request) -> Response:
        calls["refresh"] += 1
        return _json({"token": "new"})

    httpserver.expect_request("/data").respond_with_handler(data)
    httpserver.expect_request("/r", method="GET").respond_with_handler(refresh)
    auth = {"type": "token", "token": "old", "refresh": {"method": "GET", "path": "/r", "token_path": "token",
                                                         "refresh_on": [419]}}
    client = make_client(httpserver.url_for("/"), auth=auth)
    assert _get(client, "/data") == {"ok": 1} and calls["refresh"] == 1


# ----------------------------------------------------------------------------- OAuth2
class OAuthApi:
    def __init__(self, server: HTTPServer, *, expires_in: float = 3600):
        self.issued = 0
        self.forms: list[dict] = []
        self.valid: set[str] = set()
        self.expires_in = expires_in
        server.expect_request("/oauth/token", method="POST").respond_with_handler(self.token)
        server.expect_request("/data").respond_with_handler(self.data)

    def token(self, req: Request) -> Response:
        self.issued += 1
        self.forms.append(dict(req.form))
        token = f"issued-{self.issued}"
        self.valid = {token}
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in})

    def data(self, req: Request) -> Response:
        token = req.headers.get("Authorization", "").removeprefix("Bearer ")
        return _json({"token": token}) if token in self.valid else _json({"error": "invalid_token"}, 401)


OAUTH = {"type": "oauth2_client_credentials", "token_url": "/oauth/token", "client_id": "cid",
         "client_secret": "cs-secret", "scope": "read write", "audience": "https://api"}


def test_oauth2_token_is_requested_with_the_form_and_cached(httpserver: HTTPServer, make_client: Any) -> None:
    api = OAuthApi(httpserver)
    client = make_client(httpserver.url_for("/"), auth=OAUTH)
    for _ in range(3):
        assert _get(client, "/data") == {"token": "issued-1"}
    assert api.issued == 1
    assert api.forms[0] == {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "cs-secret",
                            "scope": "read write", "audience": "https://api"}


def test_oauth2_token_is_renewed_before_it_expires(httpserver: HTTPServer, make_client: Any) -> None:
    api = OAuthApi(httpserver, expires_in=0.3)
    client = make_client(httpserver.url_for("/"), auth=OAUTH)
    assert _get(client, "/data") == {"token": "issued-1"}
    time.sleep(0.3)
    assert _get(client, "/data") == {"token": "issued-2"}
    assert api.issued == 2


def test_oauth2_refreshes_once_on_401(httpserver: HTTPServer, make_client: Any) -> None:
    api = OAuthApi(httpserver)
    client = make_client(httpserver.url_for("/"), auth=OAUTH)
    assert _get(client, "/data") == {"token": "issued-1"}
    api.valid = set()  # the server revokes the token
    assert _get(client, "/data") == {"token": "issued-2"}
    assert api.issued == 2


# ----------------------------------------------------------------------------- cookies
class SessionApi:
    """Login issues ``sid=s<n>``; a session is good for ``uses`` requests, then 401 (or 403)."""

    def __init__(self, server: HTTPServer, *, uses: int = 2, expired_status: int = 401, max_age: int | None = None):
        self.logins = 0
        self.session: str | None = None
        self.left = 0
        self.uses = uses
        self.expired_status = expired_status
        self.max_age = max_age
        server.expect_request("/session", method="POST").respond_with_handler(self.login)
        server.expect_request("/data").respond_with_handler(self.data)

    def login(self, req: Request) -> Response:
        if orjson.loads(req.get_data()) != {"user": "u", "password": "pw-1"}:
            return _json({"error": "bad login"}, 401)
        self.logins += 1
        self.session, self.left = f"s{self.logins}-cookie", self.uses
        attrs = f"; Max-Age={self.max_age}" if self.max_age is not None else ""
        return Response(status=302, headers={"Location": "/home", "Set-Cookie": f"sid={self.session}; Path=/{attrs}"})

    def data(self, req: Request) -> Response:
        if req.cookies.get("sid") != self.session or self.left <= 0:
            return _json({"error": "session expired"}, self.expired_status)
        self.left -= 1
        return _json({"session": self.session})


COOKIE = {"type": "cookie", "login": {"path": "/session", "body": {"user": "u", "password": "pw-1"}},
          "success_status": [302]}


@pytest.mark.parametrize("expired_status", [401, 403])
def test_cookie_relogin_on_expiry(expired_status: int, httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/home").respond_with_data("home")
    api = SessionApi(httpserver, expired_status=expired_status)
    client = make_client(httpserver.url_for("/"), auth=COOKIE)
    seen = [_get(client, "/data")["session"] for _ in range(4)]
    assert seen == ["s1-cookie", "s1-cookie", "s2-cookie", "s2-cookie"]
    assert api.logins == 2


def test_cookie_max_age_logs_in_again_before_the_server_says_so(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/home").respond_with_data("home")
    api = SessionApi(httpserver, uses=100, max_age=1)
    client = make_client(httpserver.url_for("/"), auth=COOKIE)
    assert _get(client, "/data")["session"] == "s1-cookie"
    time.sleep(1.05)
    assert _get(client, "/data")["session"] == "s2-cookie"
    assert api.logins == 2 and len([e for e in httpserver.log if e[0].path == "/data"]) == 2


def test_cookie_still_rejected_after_relogin_fails(httpserver: HTTPServer, make_client: Any) -> None:
    httpserver.expect_request("/home").respond_with_data("home")
    api = SessionApi(httpserver, uses=0)
    client = make_client(httpserver.url_for("/"), auth=COOKIE, name="portal")
    with pytest.raises(AuthError, match=r"connection 'portal': .*still rejected after logging in again once "
                                        r"with status 401"):
        client.request("GET", "/data")
    assert api.logins == 2


def test_table_auth_overrides_the_connection(httpbin_url: str, make_client: Any) -> None:
    from restsync_dagster.http import iter_pages
    from tests.http.helpers import table

    client = make_client(httpbin_url, auth={"type": "bearer", "token": "conn-token"})
    t = table(path="/anything", auth={"type": "api_key", "key": "table-key", "header": "X-Key"})
    page = next(iter_pages(client, t))
    headers = page.records[0]["headers"]
    assert headers["X-Key"] == "table-key" and "Authorization" not in headers

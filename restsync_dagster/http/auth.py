"""Auth kinds as ``httpx.Auth`` generator flows.

Each kind is one class registered under its ``type`` name in :data:`AUTH_FLOWS`. Token fetches,
refreshes and cookie logins are extra requests *yielded* from the flow (``response = yield
request``), so they go through the same ``httpx.Client`` and a test drives them against a real
server.

Flows are shared by every thread that uses a client: the current token or session lives on the
flow object, and refreshing it happens under a lock held across the refresh request, so threads
that hit a 401 together cause one refresh, not one each (a thread that waited finds a token newer
than the one that failed and just uses it).

Every credential is added to the ``Secrets`` registry the moment it is known (configured values at
build time, issued tokens and session cookies when they arrive), and no message here ever
contains one: errors name the connection, the step and the HTTP status.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Generator
from http.cookies import CookieError, SimpleCookie
from typing import Any, ClassVar

import httpx
import orjson
from pydantic import BaseModel

from ..errors import AuthError
from ..secrets import Secrets
from .bodies import encode_body
from .jsonpath import MISSING, find
from .redact import SECRET_NAME
from .registry import Registry
from .urls import join_url

AUTH_FLOWS: Registry[type["AuthFlow"]] = Registry("auth")
"""Auth ``type`` name → flow class."""

Flow = Generator[httpx.Request, httpx.Response, None]


class AuthFlow(httpx.Auth):
    """Base of every auth kind: built from its config model and the connection it serves."""

    type: ClassVar[str]

    def __init__(self, model: BaseModel, *, base_url: str, secrets: Secrets, connection_name: str):
        self.model = model
        self.base_url = base_url
        self.secrets = secrets
        self.connection_name = connection_name

    def sync_auth_flow(self, request: httpx.Request) -> Flow:
        """Like httpx's, but closes the inner flow on every exit so a lock it holds is released."""
        if self.requires_request_body:
            request.read()
        flow = self.auth_flow(request)
        try:
            request = next(flow)
            while True:
                response = yield request
                if self.requires_response_body:
                    response.read()
                try:
                    request = flow.send(response)
                except StopIteration:
                    break
        finally:
            flow.close()

    def _fail(self, what: str, status: int | None = None) -> AuthError:
        where = f" with status {status}" if status is not None else ""
        return AuthError(self.secrets.redact(f"connection {self.connection_name!r}: {what}{where}"), status=status)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} connection={self.connection_name!r}>"


@AUTH_FLOWS.register
class NoAuthFlow(AuthFlow):
    type = "none"

    def auth_flow(self, request: httpx.Request) -> Flow:
        yield request


@AUTH_FLOWS.register
class BasicAuthFlow(AuthFlow):
    type = "basic"

    def __init__(self, model: Any, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.password)
        self.secrets.add_basic(model.username, model.password)
        token = base64.b64encode(f"{model.username}:{model.password}".encode()).decode()
        self._header = f"Basic {token}"

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["Authorization"] = self._header
        yield request


@AUTH_FLOWS.register
class BearerAuthFlow(AuthFlow):
    type = "bearer"

    def __init__(self, model: Any, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.token)
        self._header = f"Bearer {model.token}"

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["Authorization"] = self._header
        yield request


@AUTH_FLOWS.register
class ApiKeyAuthFlow(AuthFlow):
    type = "api_key"

    def __init__(self, model: Any, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.key)

    def auth_flow(self, request: httpx.Request) -> Flow:
        if self.model.header:
            request.headers[self.model.header] = self.model.key
        else:
            request.url = request.url.copy_set_param(self.model.param, self.model.key)
        yield request


def register_credentials(secrets: Secrets, values: Any) -> None:
    """Add the values of secret-looking keys (``password``, ``refresh_token``, ``Authorization`` …)
    of a login/refresh body or header mapping to ``secrets``; a bare string body is one secret."""
    if isinstance(values, str):
        secrets.add(values)
    elif isinstance(values, dict):
        for key, value in values.items():
            if isinstance(value, (dict, list)):
                register_credentials(secrets, value)
            elif value is not None and SECRET_NAME.search(str(key)):
                secrets.add(value)
    elif isinstance(values, list):
        for value in values:
            if isinstance(value, (dict, list)):
                register_credentials(secrets, value)


def _status_ok(status: int) -> bool:
    return 200 <= status < 300


class _RefreshingFlow(AuthFlow):
    """A credential that can be (re)obtained with an extra request and is retried once on rejection."""

    requires_request_body = True
    requires_response_body = True
    retry_statuses: frozenset[int] = frozenset({401})
    _renewed = "renewing the credential"

    def __init__(self, model: Any, **kwargs: Any):
        super().__init__(model, **kwargs)
        self._lock = threading.Lock()
        self._credential: Any = None
        self._expires_at: float | None = None
        self.refreshes = 0
        """How many times the credential was (re)obtained; tests and metadata read it."""

    # -- per kind --------------------------------------------------------------------------
    def _obtain_request(self) -> httpx.Request:
        raise NotImplementedError

    def _read_credential(self, response: httpx.Response) -> Any:
        raise NotImplementedError

    def _apply(self, request: httpx.Request, credential: Any) -> None:
        raise NotImplementedError

    def _can_obtain(self) -> bool:
        return True

    # -- shared ----------------------------------------------------------------------------
    def _valid(self) -> Any:
        credential = self._credential
        if not credential:
            return None
        if self._expires_at is not None and time.monotonic() >= self._expires_at:
            return None
        return credential

    def _obtain(self, stale: Any) -> Generator[httpx.Request, httpx.Response, Any]:
        with self._lock:
            current = self._valid()
            if current is not None and current != stale:
                return current  # another thread already refreshed it
            response = yield self._obtain_request()
            credential = self._read_credential(response)
            self._credential = credential
            self.refreshes += 1
            return credential

    def auth_flow(self, request: httpx.Request) -> Flow:
        credential = self._valid()
        if credential is None and self._can_obtain():
            credential = yield from self._obtain(stale=self._credential)
        self._apply(request, credential)
        response = yield request
        if response.status_code not in self.retry_statuses or not self._can_obtain():
            return
        credential = yield from self._obtain(stale=credential)
        self._apply(request, credential)
        response = yield request
        if response.status_code in self.retry_statuses:
            raise self._fail(f"request to {request.method} {request.url.path} was still rejected "
                             f"after {self._renewed}", response.status_code)


@AUTH_FLOWS.register
class TokenAuthFlow(_RefreshingFlow):
    """``type: token``: a token in a header (optionally ``Scheme token``) or a query parameter,
    with an optional refresh request whose response holds the new token at ``token_path``."""

    type = "token"
    _renewed = "refreshing the token once"

    def __init__(self, model: Any, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.token)
        self._credential = model.token or None
        if model.refresh is not None:
            self.retry_statuses = frozenset(model.refresh.refresh_on)
            register_credentials(self.secrets, model.refresh.body)
            register_credentials(self.secrets, model.refresh.headers)

    def _can_obtain(self) -> bool:
        return self.model.refresh is not None

    def _obtain_request(self) -> httpx.Request:
        refresh = self.model.refresh
        url = join_url(self.base_url, refresh.path)
        headers = dict(refresh.headers)
        if refresh.method == "GET":
            params = refresh.body if isinstance(refresh.body, dict) else None
            return httpx.Request("GET", url, headers=headers, params=params)
        encoded = encode_body(refresh.body, refresh.media_type)
        if encoded is not None:
            headers.setdefault("Content-Type", encoded[1])
        return httpx.Request(refresh.method, url, headers=headers, content=encoded[0] if encoded else None)

    def _read_credential(self, response: httpx.Response) -> Any:
        if not _status_ok(response.status_code):
            raise self._fail("token refresh failed", response.status_code)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        token = find(data, self.model.refresh.token_path) if data is not None else MISSING
        if token is MISSING or token is None or token == "" or isinstance(token, (dict, list, bool)):
            raise self._fail(f"token refresh failed: no token at {self.model.refresh.token_path!r} in the "
                             f"refresh response", response.status_code)
        token = str(token)
        self.secrets.add(token)
        return token

    def _apply(self, request: httpx.Request, credential: Any) -> None:
        if credential is None:
            return
        if self.model.send_via == "param":
            request.url = request.url.copy_set_param(self.model.param_name, credential)
        else:
            scheme = self.model.scheme
            request.headers[self.model.header_name] = f"{scheme} {credential}" if scheme else credential


@AUTH_FLOWS.register
class OAuth2ClientCredentialsFlow(_RefreshingFlow):
    """``type: oauth2_client_credentials``: a bearer token from ``token_url``, cached until
    ``expires_in`` minus a margin (10 %, at most 30 s), fetched again on a 401."""

    type = "oauth2_client_credentials"
    _renewed = "fetching a new token once"
    MAX_MARGIN_S = 30.0

    def __init__(self, model: Any, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.client_secret)

    def _obtain_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials", "client_id": self.model.client_id,
                "client_secret": self.model.client_secret}
        if self.model.scope:
            form["scope"] = self.model.scope
        if self.model.audience:
            form["audience"] = self.model.audience
        content, content_type = encode_body(form, "url_encoded")  # type: ignore[misc]
        return httpx.Request("POST", join_url(self.base_url, self.model.token_url), content=content,
                             headers={"Content-Type": content_type, "Accept": "application/json"})

    def _read_credential(self, response: httpx.Response) -> Any:
        if not _status_ok(response.status_code):
            raise self._fail("OAuth2 token request failed", response.status_code)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            raise self._fail("OAuth2 token response has no 'access_token'", response.status_code)
        self.secrets.add(token)
        expires_in = data.get("expires_in")
        try:
            lifetime = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            lifetime = None
        if lifetime is not None:
            margin = min(self.MAX_MARGIN_S, lifetime * 0.1)
            self._expires_at = time.monotonic() + max(0.0, lifetime - margin)
        else:
            self._expires_at = None
        return token

    def _apply(self, request: httpx.Request, credential: Any) -> None:
        request.headers["Authorization"] = f"Bearer {credential}"


@AUTH_FLOWS.register
class CookieAuthFlow(_RefreshingFlow):
    """``type: cookie``: a login request whose ``Set-Cookie`` session is sent on every request;
    on 401/403 (or when the cookie's own expiry passes) it logs in again once."""

    type = "cookie"
    _renewed = "logging in again once"
    retry_statuses = frozenset({401, 403})

    def __init__(self, model: Any, **kwargs: Any):
        super().__init__(model, **kwargs)
        register_credentials(self.secrets, model.login.body)
        register_credentials(self.secrets, model.login.headers)

    def _obtain_request(self) -> httpx.Request:
        login = self.model.login
        url = join_url(self.base_url, login.path)
        headers = dict(login.headers)
        if login.method == "GET":
            params = login.body if isinstance(login.body, dict) else None
            return httpx.Request("GET", url, headers=headers, params=params)
        encoded = encode_body(login.body, login.media_type)
        if encoded is not None:
            headers.setdefault("Content-Type", encoded[1])
        return httpx.Request("POST", url, headers=headers, content=encoded[0] if encoded else None)

    def _login_status(self, response: httpx.Response) -> tuple[bool, int]:
        """Whether the login worked, judged on the login response itself (the first hop when the
        client followed a redirect), and the status to report."""
        hops = _redirect_chain(response)
        allowed = self.model.success_status
        if allowed:
            for hop in hops:
                if hop.status_code in allowed:
                    return True, hop.status_code
            return False, hops[0].status_code
        first = hops[0].status_code
        return 200 <= first < 400 and response.status_code < 400, (first if first >= 400 else response.status_code)

    def _read_credential(self, response: httpx.Response) -> Any:
        ok, status = self._login_status(response)
        if not ok:
            raise self._fail("login failed", status)
        cookies: dict[str, str] = {}
        expires: list[float] = []
        for hop in _redirect_chain(response):
            for header in hop.headers.get_list("set-cookie"):
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(header)
                except CookieError:
                    continue
                for name, morsel in jar.items():
                    self.secrets.add(morsel.value)
                    cookies[name] = morsel.value
                    lifetime = _cookie_lifetime(morsel)
                    if lifetime is not None:
                        expires.append(lifetime)
        if not cookies:
            raise self._fail("login answered but set no session cookie", response.status_code)
        self._expires_at = time.monotonic() + min(expires) if expires else None
        return tuple(sorted(cookies.items()))

    def _apply(self, request: httpx.Request, credential: Any) -> None:
        pairs: dict[str, str] = {}
        existing = request.headers.get("Cookie")
        if existing:
            for part in existing.split(";"):
                name, sep, value = part.strip().partition("=")
                if sep:
                    pairs[name] = value
        pairs.update(credential or ())
        request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in pairs.items())


def _redirect_chain(response: httpx.Response) -> list[httpx.Response]:
    """The redirects that led to ``response``, then ``response``. httpx's ``history`` also holds the
    earlier responses of the same auth flow (the 401 that triggered a re-login), which are not."""
    chain = [response]
    for hop in reversed(response.history):
        if not hop.has_redirect_location:
            break
        chain.insert(0, hop)
    return chain


def _cookie_lifetime(morsel: Any) -> float | None:
    """Seconds the cookie stays valid (``Max-Age`` wins over ``Expires``), or None for a session cookie."""
    max_age = morsel.get("max-age")
    if max_age:
        try:
            return float(max_age)
        except ValueError:
            pass
    expires = morsel.get("expires")
    if expires:
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(expires).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return None


def build_auth(model: BaseModel | None, *, base_url: str, secrets: Secrets, connection_name: str,
               registry: Registry[type[AuthFlow]] = AUTH_FLOWS) -> AuthFlow:
    """The ``httpx.Auth`` flow for an auth config model (``None`` means no auth)."""
    kind = getattr(model, "type", "none") if model is not None else "none"
    cls = registry.lookup(kind)
    return cls(model, base_url=base_url, secrets=secrets, connection_name=connection_name)

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
import json
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie
from typing import Any, ClassVar, Generic, TypeVar

from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel

from ..config.auth import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    CookieAuth,
    JwtBearer,
    NoAuth,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    TokenAuth,
    TokenRefresh,
)
from ..errors import AuthError
from ..secrets import Secrets
from .bodies import encode_body
from .jsonpath import MISSING, find
from .redact import SECRET_NAME
from .registry import Registry
from .token_store import Lease, TokenStore
from .urls import join_url

ModelT = TypeVar("ModelT", bound=BaseModel)
OAuth2ModelT = TypeVar("OAuth2ModelT", OAuth2ClientCredentials, OAuth2RefreshToken, JwtBearer)

AUTH_FLOWS: Registry[type["AuthFlow[Any]"]] = Registry("auth")
"""Auth ``type`` name → flow class."""

Flow = Generator[httpx.Request, httpx.Response, None]


class AuthFlow(httpx.Auth, Generic[ModelT]):
    """Base of every auth kind: built from its config model and the connection it serves."""

    type: ClassVar[str]

    def __init__(self, model: ModelT, *, base_url: str, secrets: Secrets, connection_name: str):
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
class NoAuthFlow(AuthFlow[NoAuth]):
    type = "none"

    def auth_flow(self, request: httpx.Request) -> Flow:
        yield request


@AUTH_FLOWS.register
class BasicAuthFlow(AuthFlow[BasicAuth]):
    type = "basic"

    def __init__(self, model: BasicAuth, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.password)
        self.secrets.add_basic(model.username, model.password)
        token = base64.b64encode(f"{model.username}:{model.password}".encode()).decode()
        self._header = f"Basic {token}"

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["Authorization"] = self._header
        yield request


@AUTH_FLOWS.register
class BearerAuthFlow(AuthFlow[BearerAuth]):
    type = "bearer"

    def __init__(self, model: BearerAuth, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.token)
        self._header = f"Bearer {model.token}"

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["Authorization"] = self._header
        yield request


@AUTH_FLOWS.register
class ApiKeyAuthFlow(AuthFlow[ApiKeyAuth]):
    type = "api_key"

    def __init__(self, model: ApiKeyAuth, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.key)

    def auth_flow(self, request: httpx.Request) -> Flow:
        model = self.model
        if model.header is not None:
            request.headers[model.header] = model.key
        elif model.param is not None:
            request.url = request.url.copy_set_param(model.param, model.key)
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


class _RefreshingFlow(AuthFlow[ModelT]):
    """A credential that can be (re)obtained with an extra request and is retried once on rejection."""

    requires_request_body = True
    requires_response_body = True
    retry_statuses: frozenset[int] = frozenset({401})
    _renewed = "renewing the credential"

    def __init__(self, model: ModelT, **kwargs: Any):
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

    @contextmanager
    def _exchange(self) -> Iterator[None]:
        """Held around obtaining a credential; kinds that persist what they obtain extend it."""
        yield

    def _obtain(self, stale: Any) -> Generator[httpx.Request, httpx.Response, Any]:
        with self._lock, self._exchange():
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
class TokenAuthFlow(_RefreshingFlow[TokenAuth]):
    """``type: token``: a token in a header (optionally ``Scheme token``) or a query parameter,
    with an optional refresh request whose response holds the new token at ``token_path``."""

    type = "token"
    _renewed = "refreshing the token once"

    def __init__(self, model: TokenAuth, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.token)
        self._credential = model.token or None
        if model.refresh is not None:
            self.retry_statuses = frozenset(model.refresh.refresh_on)
            register_credentials(self.secrets, model.refresh.body)
            register_credentials(self.secrets, model.refresh.headers)

    def _can_obtain(self) -> bool:
        return self.model.refresh is not None

    def _refresh(self) -> TokenRefresh:
        refresh = self.model.refresh
        assert refresh is not None, "called only when _can_obtain()"
        return refresh

    def _obtain_request(self) -> httpx.Request:
        refresh = self._refresh()
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
        token_path = self._refresh().token_path
        token = find(data, token_path) if data is not None else MISSING
        if token is MISSING or token is None or token == "" or isinstance(token, (dict, list, bool)):
            raise self._fail(f"token refresh failed: no token at {token_path!r} in the "
                             f"refresh response", response.status_code)
        token = str(token)
        self.secrets.add(token)
        return token

    def _apply(self, request: httpx.Request, credential: Any) -> None:
        if credential is None:
            return
        param_name = self.model.param_name
        if self.model.send_via == "param" and param_name is not None:
            request.url = request.url.copy_set_param(param_name, credential)
        else:
            scheme = self.model.scheme
            request.headers[self.model.header_name] = f"{scheme} {credential}" if scheme else credential


class _OAuth2Flow(_RefreshingFlow[OAuth2ModelT]):
    """An OAuth2 token endpoint grant: a bearer token cached until ``expires_in`` minus a margin
    (10 %, at most 30 s), fetched again on a 401. Kinds differ only in the form they post."""

    _renewed = "fetching a new token once"
    _what = "OAuth2 token request"
    MAX_MARGIN_S = 30.0

    def _token_url(self) -> str:
        return join_url(self.base_url, self.model.token_url)

    def _form(self) -> dict[str, str]:
        raise NotImplementedError

    def _token_headers(self) -> dict[str, str]:
        return {}

    def _obtain_request(self) -> httpx.Request:
        encoded = encode_body(self._form(), "url_encoded")
        assert encoded is not None, "a form always has a body"
        content, content_type = encoded
        headers = {"Content-Type": content_type, "Accept": "application/json", **self._token_headers()}
        return httpx.Request("POST", self._token_url(), content=content, headers=headers)

    def _read_credential(self, response: httpx.Response) -> Any:
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        if not _status_ok(response.status_code):
            code = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), str) else None
            raise self._fail(f"{self._what} failed" + (f" ({code[:60]})" if code else "") + self._hint(code),
                             response.status_code)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            raise self._fail(f"{self._what}: the response has no 'access_token'", response.status_code)
        self.secrets.add(token)
        self._on_token_response(data)
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

    def _hint(self, code: str | None) -> str:
        return ""

    def _on_token_response(self, data: dict) -> None:
        """Read anything besides the access token (a rotated refresh token)."""

    def _apply(self, request: httpx.Request, credential: Any) -> None:
        request.headers["Authorization"] = f"Bearer {credential}"


@AUTH_FLOWS.register
class OAuth2ClientCredentialsFlow(_OAuth2Flow[OAuth2ClientCredentials]):
    """``type: oauth2_client_credentials``: the client's own token from ``token_url``."""

    type = "oauth2_client_credentials"

    def __init__(self, model: OAuth2ClientCredentials, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.client_secret)

    def _form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": self.model.client_id,
                "client_secret": self.model.client_secret}
        if self.model.scope:
            form["scope"] = self.model.scope
        if self.model.audience:
            form["audience"] = self.model.audience
        return form


@AUTH_FLOWS.register
class OAuth2RefreshTokenFlow(_OAuth2Flow[OAuth2RefreshToken]):
    """``type: oauth2_refresh_token``: an access token from the ``refresh_token`` grant, as SaaS APIs
    that connect a user account issue it. A rotated refresh token (a new one in each answer) is kept
    in the token store and used by the next refresh and the next run; refreshes hold the store's lock
    so two processes never spend the same token."""

    type = "oauth2_refresh_token"
    _what = "OAuth2 refresh"

    def __init__(self, model: OAuth2RefreshToken, *, token_store: TokenStore | None = None, store_key: str | None = None,
                 **kwargs: Any):
        super().__init__(model, **kwargs)
        self.store = token_store if token_store is not None else TokenStore()
        self.store_key = store_key or self.connection_name
        self.secrets.add(model.client_secret)
        self.secrets.add(model.refresh_token)
        self._refresh_token = model.refresh_token
        self._lease: Lease | None = None
        self.rotations = 0

    @contextmanager
    def _exchange(self) -> Iterator[None]:
        with self.store.lease(self.store_key, self.model.refresh_token) as lease:
            self._lease = lease
            if lease.token:
                self.secrets.add(lease.token)
                self._refresh_token = lease.token
            try:
                yield
            finally:
                self._lease = None

    def _form(self) -> dict[str, str]:
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        if self.model.client_auth == "body":
            form["client_id"] = self.model.client_id
            if self.model.client_secret:
                form["client_secret"] = self.model.client_secret
        if self.model.scopes:
            form["scope"] = " ".join(self.model.scopes)
        form.update({str(k): str(v) for k, v in self.model.extra_body.items()})
        return form

    def _token_headers(self) -> dict[str, str]:
        if self.model.client_auth != "basic":
            return {}
        pair = f"{quote(self.model.client_id, safe='')}:{quote(self.model.client_secret, safe='')}"
        encoded = base64.b64encode(pair.encode()).decode()
        self.secrets.add(encoded)
        return {"Authorization": f"Basic {encoded}"}

    def _hint(self, code: str | None) -> str:
        if code == "invalid_grant":
            return ("; the refresh token was rejected (revoked, expired, or already used): connect the "
                    "account again and put the new refresh token in the connection")
        return ""

    def _on_token_response(self, data: dict) -> None:
        rotated = data.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
            self.secrets.add(rotated)
            self._refresh_token = rotated
            self.rotations += 1
            if self._lease is not None:
                self._lease.save(rotated)


JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@AUTH_FLOWS.register
class JwtBearerFlow(_OAuth2Flow[JwtBearer]):
    """``type: jwt_bearer``: a service account signs a short-lived JWT (RS256) and exchanges it at
    the token URL for an access token, as Google APIs require (RFC 7523)."""

    type = "jwt_bearer"
    _what = "JWT bearer token request"

    def __init__(self, model: JwtBearer, **kwargs: Any):
        super().__init__(model, **kwargs)
        self.secrets.add(model.private_key)
        self._key: dict[str, Any] | None = None

    def _service_account(self) -> dict[str, Any]:
        """The signing key and its defaults (``client_email``, ``token_uri``, ``private_key_id``)."""
        if self._key is not None:
            return self._key
        key_file = self.model.key_file
        if key_file is None:
            account: dict[str, Any] = {"private_key": self.model.private_key}
        else:
            try:
                text = open(key_file, encoding="utf-8").read()
            except OSError as exc:
                raise self._fail(f"cannot read jwt_bearer key_file {key_file!r}: {exc.strerror}") from None
            if text.lstrip().startswith("{"):
                try:
                    account = json.loads(text)
                except ValueError:
                    raise self._fail(f"jwt_bearer key_file {key_file!r} is not valid JSON") from None
                if not isinstance(account, dict) or not isinstance(account.get("private_key"), str):
                    raise self._fail(f"jwt_bearer key_file {key_file!r} has no 'private_key'")
            else:
                account = {"private_key": text}
        key = account["private_key"]
        self.secrets.add(key)
        for line in key.splitlines():
            if len(line) >= 16 and "PRIVATE KEY" not in line:
                self.secrets.add(line.strip())
        self._key = account
        return account

    def _token_url(self) -> str:
        url = self.model.token_url or self._service_account().get("token_uri")
        if not url:
            raise self._fail("jwt_bearer needs 'token_url' (the key file names no token_uri)")
        return join_url(self.base_url, url)

    def _form(self) -> dict[str, str]:
        account = self._service_account()
        issuer = self.model.issuer or account.get("client_email")
        if not issuer:
            raise self._fail("jwt_bearer needs 'issuer' (the key file names no client_email)")
        now = int(time.time())
        claims: dict[str, Any] = {"iss": issuer, "aud": self.model.audience or self._token_url(),
                                  "iat": now, "exp": now + self.model.lifetime_s}
        if self.model.subject:
            claims["sub"] = self.model.subject
        if self.model.scopes:
            claims["scope"] = " ".join(self.model.scopes)
        headers = {"kid": account["private_key_id"]} if account.get("private_key_id") else None
        import jwt  # PyJWT and cryptography load only for the connections that sign assertions
        try:
            assertion = jwt.encode(claims, account["private_key"], algorithm="RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise self._fail(f"the jwt_bearer private key cannot sign an RS256 assertion ({type(exc).__name__})") from None
        self.secrets.add(assertion)
        return {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}


@AUTH_FLOWS.register
class CookieAuthFlow(_RefreshingFlow[CookieAuth]):
    """``type: cookie``: a login request whose ``Set-Cookie`` session is sent on every request;
    on 401/403 (or when the cookie's own expiry passes) it logs in again once."""

    type = "cookie"
    _renewed = "logging in again once"
    retry_statuses = frozenset({401, 403})

    def __init__(self, model: CookieAuth, **kwargs: Any):
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
               registry: Registry[type[AuthFlow]] = AUTH_FLOWS, token_store: TokenStore | None = None,
               store_key: str | None = None) -> AuthFlow:
    """The ``httpx.Auth`` flow for an auth config model (``None`` means no auth). ``token_store``
    keeps rotated refresh tokens (default: under ``$DAGSTER_HOME/restsync/tokens``)."""
    kind = getattr(model, "type", "none") if model is not None else "none"
    cls = registry.lookup(kind)
    extra = {"token_store": token_store, "store_key": store_key} if cls is OAuth2RefreshTokenFlow else {}
    return cls(model if model is not None else NoAuth(), base_url=base_url, secrets=secrets,
               connection_name=connection_name, **extra)

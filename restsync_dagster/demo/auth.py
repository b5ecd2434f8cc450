"""Auth kinds, enforced on everything mounted under `/auth/{kind}`.

Credentials are fixed and public (it is a demo). The stateful kinds issue random tokens or
sessions with a `ttl` query knob, so tests can watch a client refresh or log in again;
`/_admin/expire_tokens` and `/_admin/expire_sessions` force that without sleeping.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .faults import number, with_faults
from .payloads import BodyError, error, json_response, read_body

USERNAME, PASSWORD = "demo", "demo-pass"
BEARER_TOKEN = "demo-token"
API_KEY = "demo-key"
STATIC_TOKEN = "demo-static-token"
REFRESH_TOKEN = "demo-refresh"
CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
OAUTH_REFRESH_TOKEN = "demo-oauth-refresh"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SESSION_COOKIE = "demo_session"
DEFAULT_TTL_S = 300
OAUTH_TTL_S = 3600


class AuthState:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.tokens: dict[str, float] = {}  # issued by /token/refresh -> expiry
        self.oauth_tokens: dict[str, float] = {}
        self.sessions: dict[str, float] = {}
        self.logins = self.token_refreshes = self.oauth_issued = 0
        self.last_oauth_request: dict[str, str] = {}
        self.refresh_chain = {OAUTH_REFRESH_TOKEN}  # refresh tokens still valid (one: each use rotates it)
        self.refresh_grants = self.rotations = self.jwt_grants = 0
        self.last_client_auth: str | None = None
        self.last_jwt_claims: dict[str, object] = {}
        self.jwt_keys: dict[str, str] = {}  # issuer -> PEM public key

    @staticmethod
    def issue(store: dict[str, float], ttl: float) -> str:
        token = secrets.token_urlsafe(24)
        store[token] = time.monotonic() + ttl
        return token

    @staticmethod
    def valid(store: dict[str, float], token: str | None) -> bool:
        return token is not None and store.get(token, 0.0) > time.monotonic()

    def stats(self) -> dict[str, object]:
        return {"logins": self.logins, "token_refreshes": self.token_refreshes,
                "oauth_tokens": self.oauth_issued, "last_oauth_request": self.last_oauth_request,
                "refresh_grants": self.refresh_grants, "rotations": self.rotations,
                "last_client_auth": self.last_client_auth, "jwt_grants": self.jwt_grants,
                "last_jwt_claims": self.last_jwt_claims}


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _scheme(request: Request, scheme: str) -> str | None:
    """The credential after `Authorization: <scheme> `, or None."""
    name, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if name.lower() == scheme.lower() and value.strip() else None


def _basic_pair(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _unauthorized(message: str, challenge: str) -> Response:
    return error(message, 401, {"WWW-Authenticate": challenge})


def check_basic(request: Request, state: AuthState) -> Response | None:
    pair = _basic_pair(_scheme(request, "Basic"))
    if pair and _same(pair[0], USERNAME) and _same(pair[1], PASSWORD):
        return None
    return _unauthorized("unauthorized", 'Basic realm="demo"')


def check_bearer(request: Request, state: AuthState) -> Response | None:
    if _same(_scheme(request, "Bearer"), BEARER_TOKEN):
        return None
    return _unauthorized("unauthorized", 'Bearer realm="demo"')


def check_api_key(request: Request, state: AuthState) -> Response | None:
    given = request.headers.get("x-api-key") or request.query_params.get("api_key")
    return None if _same(given, API_KEY) else error("invalid api key", 401)


def check_token(request: Request, state: AuthState) -> Response | None:
    given = _scheme(request, "Token") or request.query_params.get("access_token")
    if _same(given, STATIC_TOKEN) or state.valid(state.tokens, given):
        return None
    return _unauthorized("invalid_token", 'Token realm="demo"')


def check_oauth2(request: Request, state: AuthState) -> Response | None:
    if state.valid(state.oauth_tokens, _scheme(request, "Bearer")):
        return None
    return _unauthorized("invalid_token", 'Bearer error="invalid_token"')


def check_cookie(request: Request, state: AuthState) -> Response | None:
    if state.valid(state.sessions, request.cookies.get(SESSION_COOKIE)):
        return None
    return error("not_authenticated", 401)


CHECKS: dict[str, Callable[[Request, AuthState], Response | None]] = {
    "basic": check_basic,
    "bearer": check_bearer,
    "api_key": check_api_key,
    "token": check_token,
    "oauth2": check_oauth2,
    "cookie": check_cookie,
}


class AuthGuard:
    """ASGI wrapper for `Mount("/auth/{kind}")`: checks the kind's credentials, then delegates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["path_params"]["kind"]
        check = CHECKS.get(kind)
        if check is None:
            response: Response | None = error(
                f"unknown auth kind {kind!r}; valid: {', '.join(CHECKS)}", 404)
        else:
            request = Request(scope, receive)
            response = check(request, request.app.state.demo.auth)
        if response is not None:
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def _fields(request: Request) -> dict[str, str]:
    try:
        body = await read_body(request)
    except BodyError:
        body = None
    fields = {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return {**request.query_params, **fields} if request.method == "GET" else fields


def _state(request: Request) -> AuthState:
    return request.app.state.demo.auth


def _ttl(request: Request, default: int) -> float | int:
    ttl = number(request.query_params, "ttl", default)
    return int(ttl) if ttl.is_integer() else ttl


@with_faults
async def refresh_token(request: Request) -> Response:
    """`token` kind: trade the refresh token for a short-lived access token."""
    if not _same((await _fields(request)).get("refresh_token"), REFRESH_TOKEN):
        return error("invalid_grant", 400)
    ttl = _ttl(request, DEFAULT_TTL_S)
    state = _state(request)
    state.token_refreshes += 1
    return json_response({"access": {"token": state.issue(state.tokens, ttl), "expires_in": ttl}})


@with_faults
async def oauth_token(request: Request) -> Response:
    """The OAuth 2 token endpoint: client-credentials, refresh-token and JWT-bearer grants."""
    fields = await _fields(request)
    grant = fields.get("grant_type")
    if grant == JWT_BEARER_GRANT:
        return _jwt_grant(request, fields)
    if grant not in ("client_credentials", "refresh_token"):
        return error("unsupported_grant_type", 400)
    client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
    pair = _basic_pair(_scheme(request, "Basic"))
    if pair:
        client_id, client_secret = pair
    if not (_same(client_id, CLIENT_ID) and _same(client_secret, CLIENT_SECRET)):
        return _unauthorized("invalid_client", 'Basic realm="oauth"')
    state = _state(request)
    body: dict[str, object] = {}
    if grant == "refresh_token":
        given = fields.get("refresh_token")
        if given not in state.refresh_chain:
            return error("invalid_grant", 400)
        state.refresh_grants += 1
        state.last_client_auth = "basic" if pair else "body"
        if request.query_params.get("rotate", "1") != "0":
            state.refresh_chain = {secrets.token_urlsafe(24)}
            state.rotations += 1
            body["refresh_token"] = next(iter(state.refresh_chain))
    ttl = _ttl(request, OAUTH_TTL_S)
    state.oauth_issued += 1
    state.last_oauth_request = {k: v for k, v in fields.items() if k not in ("client_secret", "refresh_token")}
    body = {"access_token": state.issue(state.oauth_tokens, ttl), "token_type": "bearer",
            "expires_in": ttl, **body}
    if "scope" in fields:
        body["scope"] = fields["scope"]
    return json_response(body)


def _jwt_grant(request: Request, fields: dict[str, str]) -> Response:
    """RFC 7523: verify the RS256 assertion with the issuer's registered public key."""
    import jwt

    state = _state(request)
    assertion = fields.get("assertion") or ""
    try:
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        key = state.jwt_keys.get(str(issuer))
        if key is None:
            return error("invalid_grant: unknown issuer", 400)
        audience = str(request.url.replace(query=""))
        claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=audience,
                            options={"require": ["iss", "aud", "iat", "exp"]})
    except jwt.PyJWTError as exc:
        return error(f"invalid_grant: {type(exc).__name__}", 400)
    if claims["exp"] - claims["iat"] > 3600:
        return error("invalid_grant: assertion lifetime over one hour", 400)
    state.jwt_grants += 1
    state.last_jwt_claims = {k: claims[k] for k in ("iss", "sub", "aud", "scope") if k in claims}
    state.oauth_issued += 1
    ttl = _ttl(request, OAUTH_TTL_S)
    return json_response({"access_token": state.issue(state.oauth_tokens, ttl), "token_type": "Bearer",
                          "expires_in": ttl})


async def register_jwt_key(request: Request) -> Response:
    """Admin: ``{"issuer": ..., "public_key": PEM}`` lets that service account sign assertions."""
    body = await request.json()
    _state(request).jwt_keys[str(body["issuer"])] = str(body["public_key"])
    return json_response({"issuers": sorted(_state(request).jwt_keys)})


@with_faults
async def login(request: Request) -> Response:
    """`cookie` kind: JSON or form credentials (GET: query parameters) open a session."""
    fields = await _fields(request)
    if not (_same(fields.get("username"), USERNAME) and _same(fields.get("password"), PASSWORD)):
        return error("invalid_credentials", 401)
    state = _state(request)
    state.logins += 1
    session = state.issue(state.sessions, _ttl(request, DEFAULT_TTL_S))
    response = json_response({"ok": True})
    response.set_cookie(SESSION_COOKIE, session, path="/", httponly=True, samesite=None)
    return response


def routes() -> list[Route]:
    return [
        Route("/token/refresh", refresh_token, methods=["POST"]),
        Route("/oauth/token", oauth_token, methods=["POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/_admin/jwt_keys", register_jwt_key, methods=["POST"]),
    ]

"""The retrying, rate-limited HTTP client of one REST connection.

One :class:`RestClient` wraps one ``httpx.Client`` (HTTP/1.1, keep-alive pool) built from a
``RestConnection``. :meth:`RestClient.request` retries

* statuses in ``retry_on`` (429 and 5xx by default), honouring ``Retry-After`` and
  ``RateLimit-Reset``/``X-RateLimit-Reset`` capped at ``max_backoff_s``;
* connection errors, timeouts, dropped and truncated responses, like a 503;
* "soft" failures: a 2xx whose body the caller's ``parse`` rejects with
  :class:`~restsync_dagster.http.bodies.SoftFailure` (HTML instead of JSON, truncated JSON,
  ``success: false``);

with exponential backoff and full jitter, and fails with an :class:`HttpError` naming the
connection, the table, the (sanitized) URL and the last status or error. A 401/403 that the auth
flow could not cure is an :class:`AuthError`; any other 4xx fails at once with a short body excerpt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from pydantic import BaseModel

from ..config.common import RateLimit
from ..config.connection import RestConnection
from ..errors import AuthError, HttpError
from ..secrets import GLOBAL, Secrets
from .auth import AuthFlow, build_auth, register_credentials
from .token_store import TokenStore
from .bodies import MediaType, SoftFailure
from .ratelimit import DEFAULT_POLICY, Limiter, limiter_key, retry_delay
from .redact import excerpt, install_log_scrubber, remove_log_scrubber, sanitize_url, scrub
from .urls import join_url

logger = logging.getLogger("restsync.http")

_ACCEPT = {"json": "application/json", "csv": "text/csv", "xml": "application/xml"}
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError,
                     httpx.ProxyError, httpx.DecodingError)


class _Inherit:
    def __repr__(self) -> str:
        return "INHERIT"


INHERIT: Any = _Inherit()
"""Sentinel for "use the connection's setting" (``None`` means "none", e.g. no rate limit)."""


@dataclass
class RequestStats:
    """What one sync (or preview) cost; the Dagster layer reports it as metadata."""

    requests: int = 0
    retries: int = 0
    backoff_wait_s: float = 0.0
    """Seconds slept between retries (backoff and server-requested waits)."""
    rate_limit_wait_s: float = 0.0
    """Seconds spent waiting for the connection's request budget."""
    bytes_received: int = 0
    pages: int = 0
    records: int = 0
    requests_skipped: int = 0
    """Answers with a status in ``skip_statuses`` (no records, not a failure)."""

    @property
    def waited_s(self) -> float:
        return self.backoff_wait_s + self.rate_limit_wait_s

    def add(self, other: "RequestStats") -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Reply:
    """A successful response and what ``parse`` made of its body (None without ``parse``)."""

    response: httpx.Response
    data: Any
    elapsed_s: float
    skipped: bool = False
    """The status is one of the caller's ``skip_statuses``: no body to read, no records."""


class RestClient:
    """HTTP access to one REST connection: auth, retries, request budget, redaction."""

    def __init__(self, connection: RestConnection, *, secrets: Secrets | None = None,
                 name: str | None = None, limits: httpx.Limits | None = None,
                 token_store: TokenStore | None = None):
        self.connection = connection
        self.token_store = token_store
        self.secrets = secrets if secrets is not None else GLOBAL
        self.name = name or connection.display_name
        self._log_scrubber = install_log_scrubber(self.secrets)
        register_credentials(self.secrets, dict(connection.headers))
        headers = {"User-Agent": "restsync (httpx)", "Accept": _ACCEPT.get(connection.media_type, "*/*")}
        headers.update(connection.headers)
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(connection.timeout_s),
            verify=connection.verify_tls,
            proxy=connection.proxy,
            follow_redirects=True,
            http1=True,
            http2=False,
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=32),
        )
        self.auth = self._build_auth(connection.auth)
        self._auth_overrides: dict[str, AuthFlow] = {}
        self._limiters: dict[tuple[float | None, int | None], Limiter] = {}
        self._limiters_lock = threading.Lock()

    # -- configuration ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.connection.base_url

    @property
    def media_type(self) -> MediaType:
        return self.connection.media_type

    def url_for(self, endpoint: str | None) -> str:
        return join_url(self.base_url, endpoint)

    def _build_auth(self, model: BaseModel | None) -> AuthFlow:
        return build_auth(model, base_url=self.base_url, secrets=self.secrets, connection_name=self.name,
                          token_store=self.token_store, store_key=str(self.connection.id))

    def auth_for(self, model: BaseModel | None) -> AuthFlow:
        """The auth flow for a table: its own ``auth`` override (built once, then shared) or the connection's."""
        if model is None:
            return self.auth
        key = model.model_dump_json()
        flow = self._auth_overrides.get(key)
        if flow is None:
            flow = self._auth_overrides.setdefault(key, self._build_auth(model))
        return flow

    def policy_for(self, table: Any = None) -> RateLimit | None:
        """The effective ``rate_limit`` of a table (or of the connection when ``table`` is None)."""
        if table is None:
            return self.connection.rate_limit
        return table.effective_rate_limit(self.connection.rate_limit)

    def limiter_for(self, policy: RateLimit | None) -> Limiter | None:
        """This client's budget for ``policy`` (shared by every table with that policy), or None."""
        key = limiter_key(policy)
        if key is None:
            return None
        with self._limiters_lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = Limiter(*key)
            return limiter

    # -- requests --------------------------------------------------------------------------
    def describe_url(self, url: object) -> str:
        """A URL safe to print: secret-named params and secret values masked."""
        return sanitize_url(url, self.secrets)

    def _prefix(self, table_name: str | None) -> str:
        where = f"connection {self.name!r}"
        return f"{where}, table {table_name!r}" if table_name else where

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        auth: httpx.Auth | None = None,
        rate_limit: RateLimit | None = INHERIT,
        max_retries: int | None = None,
        parse: Callable[[httpx.Response], Any] | None = None,
        table_name: str | None = None,
        stats: RequestStats | None = None,
        skip_statuses: frozenset[int] = frozenset(),
        send_lock: threading.Lock | None = None,
    ) -> Reply:
        """Send one logical request, retrying per the effective ``rate_limit`` policy.

        ``send_lock`` is held while a request is on the wire (not while ``parse`` runs), so callers
        sharing it never have two requests in flight but may parse one answer while the next is sent.

        A status in ``skip_statuses`` is an answer, not a failure: the reply comes back with
        ``skipped`` set and is counted in ``stats.requests_skipped``.

        ``url`` may be relative to ``base_url``. ``parse`` runs inside the retry loop so a
        :class:`SoftFailure` it raises is retried. ``rate_limit=None`` disables the request
        budget (retries then follow the defaults); ``max_retries`` overrides the policy's.
        """
        stats = stats if stats is not None else RequestStats()
        policy = self.connection.rate_limit if rate_limit is INHERIT else rate_limit
        limiter = self.limiter_for(policy)
        policy = policy or DEFAULT_POLICY
        retries = policy.max_retries if max_retries is None else max_retries
        retry_on = frozenset(policy.retry_on)
        auth = auth if auth is not None else self.auth
        url = self.url_for(url)
        target: httpx.URL | str = url
        if params:
            # httpx replaces a URL's query with ``params``; merge instead, so a table ``url`` with
            # its own query string (or a next link) keeps it.
            try:
                target = httpx.URL(url).copy_merge_params(params)
            except (httpx.InvalidURL, TypeError, ValueError):
                target = url
        prefix = self._prefix(table_name)
        last_status: int | None = None
        last_error = "no attempt made"
        last_url: object = url  # the URL as sent (auth may add parameters); sanitized only when shown

        for attempt in range(retries + 1):
            reason = None
            try:
                request = self._http.build_request(method, target, headers=headers, json=json, content=content)
            except (httpx.InvalidURL, TypeError, ValueError) as exc:
                reason = scrub(exc, self.secrets)
            if reason is not None:
                raise HttpError(f"{prefix}: cannot build {method} {self.describe_url(url)}: {reason}")
            if limiter is not None:
                waited = limiter.acquire()
                stats.rate_limit_wait_s += waited
                if waited >= 1.0:
                    logger.info(f"{prefix}: waited {waited:.2f} s for the request budget ({limiter})")
            started = time.perf_counter()
            response: httpx.Response | None = None
            failure: str | None = None
            fatal: HttpError | None = None
            # Errors are turned into messages inside ``except`` and raised outside it, so no
            # third-party exception (whose text we do not control) ends up chained to ours.
            try:
                if send_lock is None:
                    response = self._http.send(request, auth=auth)
                else:
                    with send_lock:
                        response = self._http.send(request, auth=auth)
            except AuthError as exc:
                detail = str(exc).removeprefix(f"connection {self.name!r}: ")
                fatal = AuthError(f"{prefix}: {detail}", status=exc.status)
            except _RETRYABLE_ERRORS as exc:
                failure = self._describe_error(exc)
            except httpx.HTTPError as exc:
                fatal = HttpError(f"{prefix}: {method} {self.describe_url(request.url)} failed: "
                                  f"{self._describe_error(exc)}")
            finally:
                if limiter is not None:
                    limiter.release()
            if fatal is not None:
                raise fatal
            elapsed = time.perf_counter() - started
            last_url = request.url
            stats.requests += 1 if response is None else 1 + len(response.history)

            if response is not None:
                status = response.status_code
                stats.bytes_received += len(response.content)
                if status in skip_statuses:
                    stats.requests_skipped += 1
                    return Reply(response, None, elapsed, skipped=True)
                if status in retry_on:
                    last_status, last_error = status, self._status_text(response)
                elif status in (401, 403):
                    raise AuthError(
                        f"{prefix}: {method} {self.describe_url(last_url)} was rejected with status {status} "
                        f"{response.reason_phrase} (check the credentials of connection {self.name!r}): "
                        f"{excerpt(response.text, self.secrets)}",
                        status=status,
                    )
                elif status >= 400:
                    raise HttpError(f"{prefix}: {method} {self.describe_url(last_url)} returned {self._status_text(response)}",
                                    status=status)
                else:
                    if parse is None:
                        return Reply(response, None, elapsed)
                    try:
                        return Reply(response, parse(response), elapsed)
                    except SoftFailure as exc:
                        last_status, last_error = status, scrub(exc.reason, self.secrets)
            else:
                last_status, last_error = None, failure or "unknown error"

            if attempt >= retries:
                break
            delay, why = retry_delay(policy, attempt, response)
            stats.retries += 1
            stats.backoff_wait_s += delay
            logger.warning(scrub(
                f"{prefix}: {method} {self.describe_url(last_url)} → "
                f"{last_status if last_status is not None else 'no response'} ({last_error}); "
                f"retry {attempt + 1}/{retries} in {delay:.2f} s ({why})",
                self.secrets,
            ))
            if delay > 0:
                time.sleep(delay)

        status_text = f"last status {last_status}" if last_status is not None else "no response"
        raise HttpError(
            f"{prefix}: {method} {self.describe_url(last_url)} failed after {retries + 1} attempt(s) "
            f"({retries} retries); {status_text}; last error: {last_error}",
            status=last_status,
        )

    def _status_text(self, response: httpx.Response) -> str:
        text = f"{response.status_code} {response.reason_phrase}".strip()
        body = excerpt(response.text, self.secrets) if response.content else ""
        return f"{text}: {body}" if body else text

    def _describe_error(self, exc: BaseException) -> str:
        detail = str(exc) or "no detail"
        return scrub(f"{type(exc).__name__}: {detail}", self.secrets)

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()
        remove_log_scrubber(self._log_scrubber)

    def __enter__(self) -> "RestClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RestClient connection={self.name!r} base_url={self.describe_url(self.base_url)!r}>"


__all__ = ["INHERIT", "Reply", "RequestStats", "RestClient"]

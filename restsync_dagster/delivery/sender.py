"""Sending prepared delivery requests and classifying what came back.

=========================================  ==========  ==============================================
what happened                              outcome     next run
=========================================  ==========  ==============================================
2xx (or 3xx the client did not follow)     delivered   skipped while unchanged
4xx not in ``retry_on``, not 401/403       rejected    skipped until the record changes
statuses in ``retry_on``, timeouts,        pending     sent again
connection errors, after the retries
401/403 the auth flow could not cure       fatal       the run stops (credentials, not records)
=========================================  ==========  ==============================================

``RestClient.request`` raises on a 4xx and its ``HttpError`` carries only a redacted excerpt of the
body, and it has no option to hand back an unsuccessful response. To keep the full body of a
rejection, each request's auth flow is wrapped in :class:`CapturingAuth`, which sees every response
the client receives (a public ``auth=`` argument, no private API); the body is redacted here.

Requests run on up to ``workers`` threads; outcomes are handed back to the caller's thread in
completion order, so the caller alone writes the log and it stays exact. ``drain`` waits for every
request in flight (or cancels those not started yet) before the log is written.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..config.common import RateLimit
from ..errors import AuthError, HttpError
from ..http.client import RequestStats, RestClient
from ..http.redact import scrub
from ..secrets import Secrets
from .log import Status
from .records import Record


class CapturingAuth(httpx.Auth):
    """Delegates to another auth flow and remembers the last response it saw."""

    def __init__(self, inner: httpx.Auth):
        self.inner = inner
        self.response: httpx.Response | None = None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self.inner.sync_auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                response = yield outgoing
                self.response = response
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    break
        finally:
            flow.close()


@dataclass(slots=True)
class Prepared:
    """One HTTP request ready to go, with the records it carries."""

    records: list[Record]
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


@dataclass(slots=True)
class Outcome:
    prepared: Prepared
    status: Status | None
    """``None``: a fatal error (``exc``) that must stop the run."""
    http_status: int | None = None
    error: str | None = None
    body: str | None = None
    """The response body of a rejection, redacted (the caller truncates it)."""
    exc: BaseException | None = None
    stats: RequestStats = field(default_factory=RequestStats)


class Sender:
    def __init__(self, client: RestClient, *, auth: httpx.Auth, policy: RateLimit | None, retry_on: frozenset[int],
                 secrets: Secrets, table_name: str, workers: int, on_outcome: Callable[[Outcome], None]):
        self.client = client
        self.auth = auth
        self.policy = policy
        self.retry_on = retry_on
        self.secrets = secrets
        self.table_name = table_name
        self.workers = max(1, workers)
        self.on_outcome = on_outcome
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="restsync-deliver") if self.workers > 1 else None
        self._inflight: set[Future[Outcome]] = set()

    def submit(self, prepared: Prepared) -> None:
        if self._pool is None:
            self.on_outcome(self.send(prepared))
            return
        while len(self._inflight) >= 2 * self.workers:
            self._collect(FIRST_COMPLETED)
        self._inflight.add(self._pool.submit(self.send, prepared))

    def _collect(self, when: str) -> None:
        done, self._inflight = wait(self._inflight, return_when=when)
        for future in done:
            if not future.cancelled():
                self.on_outcome(future.result())

    def drain(self, *, cancel: bool = False) -> None:
        """Wait for the requests in flight and hand over their outcomes; ``cancel`` drops those
        that have not started (their records were never sent)."""
        if self._pool is None:
            return
        if cancel:
            for future in list(self._inflight):
                future.cancel()
        if self._inflight:
            self._collect("ALL_COMPLETED")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def send(self, prepared: Prepared) -> Outcome:
        """Send one request; never raises (an unexpected error comes back as a fatal outcome)."""
        capture = CapturingAuth(self.auth)
        stats = RequestStats()
        try:
            reply = self.client.request(
                prepared.method, prepared.url, headers=prepared.headers, content=prepared.content, auth=capture,
                rate_limit=self.policy, table_name=self.table_name, stats=stats,
            )
        except AuthError as exc:
            return Outcome(prepared, None, exc.status, str(exc), exc=exc, stats=stats)
        except HttpError as exc:
            status = exc.status
            body = None
            last = capture.response
            if last is not None and last.status_code == status:
                body = self._body(last)
            if status is not None and 400 <= status < 500 and status not in self.retry_on:
                return Outcome(prepared, "rejected", status, str(exc), body, stats=stats)
            return Outcome(prepared, "pending", status, str(exc), body, stats=stats)
        except Exception as exc:  # noqa: BLE001 - handed to the caller's thread and raised there
            return Outcome(prepared, None, None, scrub(f"{type(exc).__name__}: {exc}", self.secrets), exc=exc, stats=stats)
        return Outcome(prepared, "delivered", reply.response.status_code, stats=stats)

    def _body(self, response: httpx.Response) -> str | None:
        try:
            text = response.text
        except Exception:  # noqa: BLE001 - a body we cannot decode is reported as absent
            return None
        return scrub(text, self.secrets)


def header_has(headers: Mapping[str, Any], name: str) -> bool:
    name = name.lower()
    return any(k.lower() == name for k in headers)


__all__ = ["CapturingAuth", "Outcome", "Prepared", "Sender", "header_has"]

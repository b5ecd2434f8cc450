"""Request budgets and retry delays.

A :class:`Limiter` combines a pacing token bucket (``requests_per_second``, no burst: requests are
spaced evenly) with a semaphore (``max_concurrency``). A :class:`~restsync_dagster.http.RestClient`
keeps one limiter per effective policy, so every table using that client — on any thread — draws
from the same budget; a table whose ``rate_limit`` overrides the connection's gets its own.
"""

from __future__ import annotations

import random
import threading
import time
from email.utils import parsedate_to_datetime

import httpx

from ..config.common import RateLimit

DEFAULT_POLICY = RateLimit()
"""Retry policy when neither the connection nor the table sets ``rate_limit``: the documented
defaults (retry 429/5xx five times with backoff), and no request budget."""

_EPOCH_MS = 10**12
_EPOCH_S = 10**9


class Limiter:
    """Thread-safe pacing at ``rps`` requests per second plus at most ``max_concurrency`` in flight."""

    def __init__(self, rps: float | None, max_concurrency: int | None):
        self.rps = rps
        self.max_concurrency = max_concurrency
        self._interval = 1.0 / rps if rps else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds spent waiting."""
        waited = 0.0
        if self._slots is not None:
            start = time.monotonic()
            self._slots.acquire()
            waited += time.monotonic() - start
        if self._interval:
            with self._lock:
                now = time.monotonic()
                slot = max(now, self._next)
                self._next = slot + self._interval
            delay = slot - now
            if delay > 0:
                time.sleep(delay)
                waited += delay
        return waited

    def release(self) -> None:
        if self._slots is not None:
            self._slots.release()

    def __repr__(self) -> str:
        return f"Limiter(rps={self.rps}, max_concurrency={self.max_concurrency})"


def limiter_key(policy: RateLimit | None) -> tuple[float | None, int | None] | None:
    """What identifies a request budget, or None when ``policy`` limits nothing."""
    if policy is None or (policy.requests_per_second is None and policy.max_concurrency is None):
        return None
    return policy.requests_per_second, policy.max_concurrency


def backoff_delay(policy: RateLimit, attempt: int) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base · 2^attempt)]."""
    ceiling = min(policy.max_backoff_s, policy.backoff_s * (2**attempt))
    return random.uniform(0, ceiling)


def server_delay(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``, ``RateLimit-Reset``, ``X-RateLimit-Reset``).

    ``Retry-After`` is seconds or an HTTP date. The reset headers are seconds from now or an epoch
    timestamp (seconds, or milliseconds); a value that large can only be an epoch, so it is read so.
    """
    now = time.time() if now is None else now
    headers = response.headers
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, IndexError):
                pass
    for name in ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value.strip())
        except ValueError:
            continue
        if number >= _EPOCH_MS:
            number = number / 1000.0 - now
        elif number >= _EPOCH_S:
            number = number - now
        return max(0.0, number)
    return None


def retry_delay(policy: RateLimit, attempt: int, response: httpx.Response | None) -> tuple[float, str]:
    """How long to wait before retry ``attempt`` (0-based) and why, capped at ``max_backoff_s``."""
    if response is not None:
        asked = server_delay(response)
        if asked is not None:
            return min(asked, policy.max_backoff_s), "as the server asked"
    return backoff_delay(policy, attempt), "backoff"

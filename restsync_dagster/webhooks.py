"""Webhook notifications for pipeline events, without Dagster.

Webhooks go through the same retrying :class:`RestClient` as every other request (backoff with
jitter, ``Retry-After``, redaction). A hook that keeps failing returns a result describing the
failure; it never raises, so the sensor that calls it keeps running.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from .config.common import RateLimit
from .config.connection import RestConnection
from .config.hook import Hook
from .config.templating import Renderer
from .errors import HttpError, RestSyncError
from .http import RequestStats, RestClient
from .secrets import Secrets

log = logging.getLogger("restsync.webhooks")

RETRY_ON = [408, 429, *range(500, 600)]
"""A webhook is retried on timeouts, rate limits and server errors; other 4xx fail at once."""


@dataclass
class HookResult:
    ok: bool
    status: int | None
    attempts: int
    detail: str


def default_payload(event: str, pipeline: str, run_id: str, error: str | None, url: str | None) -> dict[str, Any]:
    return {"event": event, "pipeline": pipeline, "run_id": run_id, "error": error, "url": url}


def send_hook(
    hook: Hook,
    *,
    event: str,
    pipeline: str,
    run_id: str,
    error: str | None = None,
    url: str | None = None,
    secrets: Secrets,
    backoff_s: float = 0.5,
) -> HookResult:
    renderer = Renderer(secrets)
    variables = {"event": event, "pipeline": pipeline, "run_id": run_id, "error": error or "", "url": url or ""}
    try:
        target = renderer.render_str(hook.url, where=f"hook {hook.id} url")
        headers = renderer.render(hook.headers, variables, where=f"hook {hook.id} headers")
        if hook.payload is None:
            body: Any = default_payload(event, pipeline, run_id, error, url)
        elif isinstance(hook.payload, str):
            body = json.loads(renderer.render_str(hook.payload, variables, where=f"hook {hook.id} payload"))
        else:
            body = renderer.render(hook.payload, variables, where=f"hook {hook.id} payload")
    except Exception as exc:  # a bad template must not crash the sensor
        return HookResult(False, None, 0, secrets.redact(f"hook {hook.id}: cannot build the request: {exc}"))
    stats = RequestStats()
    try:
        connection = RestConnection(
            id=hook.id,
            name=hook.display_name,
            type="rest",
            base_url=target,
            timeout_s=hook.timeout_s,
            rate_limit=RateLimit(max_retries=hook.max_retries, backoff_s=backoff_s, max_backoff_s=10.0, retry_on=RETRY_ON),
        )
        with RestClient(connection, secrets=secrets, name=f"hook {hook.id}") as client:
            reply = client.request(hook.method, target, json=body, headers=headers, stats=stats)
    except (RestSyncError, ValueError) as exc:
        status = exc.status if isinstance(exc, HttpError) else None
        message = secrets.redact(f"hook {hook.id} ({hook.display_name}): {event} not delivered after "
                                 f"{stats.requests} attempt(s): {exc}")
        log.warning("%s", message)
        return HookResult(False, status, stats.requests, message)
    status = reply.response.status_code
    return HookResult(True, status, stats.requests, f"hook {hook.id}: {event} delivered ({status})")

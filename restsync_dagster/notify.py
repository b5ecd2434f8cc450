"""Webhook notifications for pipeline events, without Dagster.

A hook that keeps failing returns a result describing the failure; it never raises, so the sensor
that calls it keeps running.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .config.hook import Hook
from .config.templating import Renderer
from .secrets import Secrets

log = logging.getLogger("restsync.notify")


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
    status: int | None = None
    detail = ""
    attempts = 0
    for attempt in range(hook.max_retries + 1):
        attempts = attempt + 1
        try:
            response = httpx.request(hook.method, target, json=body, headers=headers, timeout=hook.timeout_s)
            status = response.status_code
            if response.is_success:
                return HookResult(True, status, attempts, f"hook {hook.id}: {event} delivered ({status})")
            detail = f"HTTP {status}"
            if 400 <= status < 500 and status not in (408, 429):
                break
        except httpx.HTTPError as exc:
            detail = type(exc).__name__
        if attempt < hook.max_retries:
            time.sleep(min(backoff_s * 2**attempt, 10.0))
    message = secrets.redact(f"hook {hook.id} ({hook.display_name}): {event} not delivered after {attempts} attempt(s): {detail}")
    log.warning("%s", message)
    return HookResult(False, status, attempts, message)

"""Notification hook documents."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveFloat

from .common import Id, Named, NonBlank

HookEvent = Literal["pipeline_failed", "pipeline_stopped", "pipeline_succeeded", "pipeline_started"]
HOOK_EVENTS = ("pipeline_failed", "pipeline_stopped", "pipeline_succeeded", "pipeline_started")


class Hook(Named):
    id: Id
    """Unique id of the hook, used by pipelines to refer to it. Example: `slack`"""
    name: str | None = None
    """Name shown in the UI; default the id. Example: `Slack alerts`"""
    type: Literal["webhook"]
    """Kind of hook: an HTTP call. Example: `webhook`"""
    url: NonBlank
    """URL called; may use templates. Example: `{{ env.SLACK_WEBHOOK_URL }}`"""
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    """HTTP method. Example: `POST`"""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers of the call; values may use templates. Example: `{Content-Type: application/json}`"""
    payload: Any = None
    """JSON template over event, pipeline, run_id, error, url; default a standard body. Example: `{text: "{{ pipeline }} {{ event }}"}`"""
    timeout_s: PositiveFloat = 10.0
    """Timeout of one call, in seconds. Example: `10`"""
    max_retries: int = Field(3, ge=0)
    """Retries of a failed call. Example: `3`"""
    description: str | None = None
    """Free text shown in the UI. Example: `Alerts the data channel`"""

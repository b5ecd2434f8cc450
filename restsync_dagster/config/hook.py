"""Notification hook documents."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveFloat

from .common import Id, Model, NonBlank

HookEvent = Literal["pipeline_failed", "pipeline_stopped", "pipeline_succeeded", "pipeline_started"]
HOOK_EVENTS = ("pipeline_failed", "pipeline_stopped", "pipeline_succeeded", "pipeline_started")


class Hook(Model):
    id: Id
    """Id of the hook, which pipelines name in `hooks[].id`. Example: `ops_webhook`"""
    name: str | None = None
    """Human-readable name; default the id. Example: `Ops channel`"""
    type: Literal["webhook"]
    """Selects a webhook notification. Example: `webhook`"""
    url: NonBlank
    """URL the notification is sent to (may be a template). Example: `{{ env.SLACK_WEBHOOK_URL }}`"""
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    """HTTP method of the notification. Example: `POST`"""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers of the notification (values may be templates). Example: `{Authorization: "Bearer {{ env.HOOK_TOKEN }}"}`"""
    payload: Any = None
    """JSON template over ``event``, ``pipeline``, ``run_id``, ``error``, ``url``; default a standard body. Example: `{text: "{{ pipeline }}: {{ event }}"}`"""
    timeout_s: PositiveFloat = 10.0
    """Seconds before the notification request times out. Example: `5`"""
    max_retries: int = Field(3, ge=0)
    """Retries of a failed notification. Example: `5`"""
    description: str | None = None
    """Free text shown with the hook. Example: `Posts failures to the ops channel`"""

    @property
    def display_name(self) -> str:
        return self.name or str(self.id)

"""Notification hook documents (SPEC §8)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveFloat

from .common import Id, Model, NonBlank

HookEvent = Literal["pipeline_failed", "pipeline_stopped", "pipeline_succeeded", "pipeline_started"]
HOOK_EVENTS = ("pipeline_failed", "pipeline_stopped", "pipeline_succeeded", "pipeline_started")


class Hook(Model):
    id: Id
    name: str | None = None
    type: Literal["webhook"]
    url: NonBlank
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    payload: Any = None
    """JSON template over ``event``, ``pipeline``, ``run_id``, ``error``, ``url``; default a standard body."""
    timeout_s: PositiveFloat = 10.0
    max_retries: int = Field(3, ge=0)
    description: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or str(self.id)

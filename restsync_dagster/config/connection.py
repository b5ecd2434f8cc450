"""Connection documents (SPEC §3): REST endpoints and Delta roots."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PositiveFloat, field_validator

from .auth import Auth, NoAuth
from .common import Id, Model, NonBlank, RateLimit


class Ping(Model):
    method: Literal["GET", "POST", "HEAD"] = "GET"
    path: NonBlank = "/"
    success_path: str | None = None
    success_values: list[Any] | None = None


class RestConnection(Model):
    id: Id
    name: str | None = None
    type: Literal["rest"]
    base_url: NonBlank
    headers: dict[str, str] = Field(default_factory=dict)
    media_type: Literal["json", "csv", "xml"] = "json"
    auth: Auth = Field(default_factory=NoAuth)
    timeout_s: PositiveFloat = 30.0
    rate_limit: RateLimit | None = None
    ping: Ping | None = None
    verify_tls: bool = True
    proxy: str | None = None
    description: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if "{{" not in value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @property
    def display_name(self) -> str:
        return self.name or str(self.id)


class DeltaConnection(Model):
    id: Id
    name: str | None = None
    type: Literal["delta"]
    path: NonBlank
    storage_options: dict[str, str] = Field(default_factory=dict)
    description: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or str(self.id)


Connection = Annotated[RestConnection | DeltaConnection, Field(discriminator="type")]

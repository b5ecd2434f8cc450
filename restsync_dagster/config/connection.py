"""Connection documents: REST endpoints and Delta roots."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PositiveFloat, field_validator

from .auth import Auth, NoAuth
from .common import Id, IntList, Model, NonBlank, RateLimit


class Ping(Model):
    method: Literal["GET", "POST", "HEAD"] = "GET"
    """HTTP method of the connection test request. Example: `HEAD`"""
    path: NonBlank = "/"
    """Path of the test request, relative to `base_url`. Example: `/health`"""
    success_path: str | None = None
    """Dotted path of a value in the answer that must match `success_values`; without it any 2xx passes. Example: `status`"""
    success_values: list[Any] | None = None
    """Values at `success_path` that mean the connection works (exact match). Example: `[ok, healthy]`"""


class RestConnection(Model):
    id: Id
    """Id of the connection, which pipelines name in `connection.id`. Example: `crm_api`"""
    name: str | None = None
    """Human-readable name shown in the UI; default the id. Example: `CRM API`"""
    type: Literal["rest"]
    """Selects a REST API connection. Example: `rest`"""
    base_url: NonBlank
    """Root URL that table and request paths are relative to (may be a template). Example: `https://api.example.com/v1`"""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers sent with every request (values may be templates). Example: `{Accept: application/json}`"""
    media_type: Literal["json", "csv", "xml"] = "json"
    """Format of response bodies. Example: `csv`"""
    auth: Auth = Field(default_factory=NoAuth)
    """How requests authenticate, chosen by `type`; default no auth. Example: `{type: bearer, token: "{{ env.API_TOKEN }}"}`"""
    timeout_s: PositiveFloat = 30.0
    """Seconds before a request times out. Example: `60`"""
    rate_limit: RateLimit | None = None
    """Request budget and retry policy for every table of this connection. Example: `{requests_per_second: 5, max_concurrency: 2}`"""
    ping: Ping | None = None
    """Connection test request run by the connection check. Example: `{path: /health}`"""
    skip_statuses: IntList = Field(default_factory=list)
    """Statuses that mean "no records here" for every table of this connection (a table's
    `response.skip_statuses` overrides it): no records, counted as skipped, never a failure. Example: `[404]`"""
    verify_tls: bool = True
    """Whether TLS certificates are verified (turn off only for test servers). Example: `false`"""
    proxy: str | None = None
    """HTTP(S) proxy URL for every request. Example: `http://proxy.internal:3128`"""
    description: str | None = None
    """Free text shown with the connection. Example: `Production CRM, read-only key`"""

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
    """Id of the connection, which pipelines name in `connection.id`. Example: `lake`"""
    name: str | None = None
    """Human-readable name shown in the UI; default the id. Example: `Data lake`"""
    type: Literal["delta"]
    """Selects a Delta Lake root. Example: `delta`"""
    path: NonBlank
    """Root folder or URI under which tables are written. Example: `s3://bucket/lake`"""
    storage_options: dict[str, str] = Field(default_factory=dict)
    """Options of the object store (credentials, region, endpoint), as delta-rs takes them. Example: `{AWS_REGION: eu-west-1}`"""
    description: str | None = None
    """Free text shown with the connection. Example: `Analytics lake`"""

    @property
    def display_name(self) -> str:
        return self.name or str(self.id)


Connection = Annotated[RestConnection | DeltaConnection, Field(discriminator="type")]

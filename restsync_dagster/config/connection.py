"""Connection documents: REST endpoints and Delta roots."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PositiveFloat, field_validator

from .auth import Auth, NoAuth
from .common import ErrorStatusList, Id, Model, Named, NonBlank, RateLimit


class Ping(Model):
    method: Literal["GET", "POST", "HEAD"] = "GET"
    """HTTP method of the health-check request. Example: `GET`"""
    path: NonBlank = "/"
    """Path of the health-check request, relative to base_url. Example: `/health`"""
    success_path: str | None = None
    """Dotted path of a value in the response that must be one of success_values. Example: `status`"""
    success_values: list[Any] | None = None
    """Values at success_path that mean the connection works. Example: `[ok]`"""


class RestConnection(Named):
    id: Id
    """Unique id of the connection, used by pipelines to refer to it. Example: `jsonplaceholder`"""
    name: str | None = None
    """Name shown in the UI; default the id. Example: `JSONPlaceholder`"""
    type: Literal["rest"]
    """Kind of connection: a REST API. Example: `rest`"""
    base_url: NonBlank
    """Root URL that table and request paths are relative to; may use templates. Example: `https://api.example.com/v1`"""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers sent with every request; values may use templates. Example: `{Accept: application/json}`"""
    media_type: Literal["json", "csv", "xml"] = "json"
    """Format of the API's responses. Example: `json`"""
    auth: Auth = Field(default_factory=NoAuth)
    """How requests authenticate, chosen by its type; default no auth. Example: `{type: bearer, token: "{{ env.API_TOKEN }}"}`"""
    timeout_s: PositiveFloat = 30.0
    """Timeout of one request, in seconds. Example: `30`"""
    rate_limit: RateLimit | None = None
    """Request budget and retry policy shared by every table of the connection. Example: `{requests_per_second: 5}`"""
    ping: Ping | None = None
    """Health-check request used by `restsync ping`; default a GET of base_url. Example: `{path: /health}`"""
    skip_statuses: ErrorStatusList = Field(default_factory=list)
    """Statuses that mean "no records here" for every table of this connection (a table's
    `response.skip_statuses` overrides it): no records, counted as skipped, never a failure. Example: `[404]`"""
    verify_tls: bool = True
    """Verify the server's TLS certificate. Example: `true`"""
    proxy: str | None = None
    """HTTP(S) proxy URL for every request. Example: `http://proxy.internal:3128`"""
    description: str | None = None
    """Free text shown in the UI. Example: `Public demo API`"""

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if "{{" not in value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value


class DeltaConnection(Named):
    id: Id
    """Unique id of the connection, used by pipelines to refer to it. Example: `lake`"""
    name: str | None = None
    """Name shown in the UI; default the id. Example: `Local lake`"""
    type: Literal["delta"]
    """Kind of connection: a folder of Delta tables. Example: `delta`"""
    path: NonBlank
    """Root folder or object-store URI under which each table is a sub-folder. Example: `s3://bucket/lake`"""
    storage_options: dict[str, str] = Field(default_factory=dict)
    """delta-rs storage options (credentials, endpoint, region); values may use templates. Example: `{AWS_REGION: eu-west-1}`"""
    description: str | None = None
    """Free text shown in the UI. Example: `Analytics lake`"""


Connection = Annotated[RestConnection | DeltaConnection, Field(discriminator="type")]

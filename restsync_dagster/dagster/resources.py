"""Dagster resources: one per connection, owning its client for the run, plus the progress callback.

A REST connection's resource opens the connection's :class:`RestClient` when a run starts (with the
resource's ``base_url`` and credentials applied, so a run config or a test can point the assets at
another server) and closes it when the run ends. Secrets show as env var names in the UI.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from ..config import Project
from ..config.connection import DeltaConnection, RestConnection
from ..config.pipeline import Pipeline
from ..config.templating import Renderer, is_template
from ..engine import Lake, OnPage, lake_connection, render_lake, rendered_client
from ..errors import RestSyncError
from ..http import RestClient
from ..secrets import GLOBAL
from .translator import pool_name

_ENV_ONLY = re.compile(r"^\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
SECRET_FIELDS = ("username", "password", "token", "key", "client_secret", "refresh_token", "private_key")
PROGRESS_KEY = "restsync_progress"


def _env_or_template(value: str | None) -> Any:
    """``{{ env.X }}`` becomes ``EnvVar("X")``; anything else stays the (non-secret) template text."""
    if value is None:
        return None
    match = _ENV_ONLY.match(value.strip())
    return dg.EnvVar(match.group(1)) if match else value


class RestConnectionResource(dg.ConfigurableResource):
    """A REST connection of the definitions folder; opens its HTTP client for each run."""

    connection_id: str = Field(description="Id of the connection document.")
    definition: str = Field(
        description="The connection document as JSON, templates unrendered; base_url and the credential fields below replace its values."
    )
    base_url: str = Field(description="Common prefix of every endpoint (override it to point a run at another server).")
    auth_type: str = Field(default="none", description="Auth kind of the connection (none, basic, bearer, api_key, token, oauth2_client_credentials, oauth2_refresh_token, jwt_bearer, cookie).")
    username: str | None = Field(default=None, description="Basic auth user (env var or template).")
    password: str | None = Field(default=None, description="Basic auth password (env var or template).")
    token: str | None = Field(default=None, description="Bearer or token auth token (env var or template).")
    key: str | None = Field(default=None, description="API key (env var or template).")
    client_secret: str | None = Field(default=None, description="OAuth2 client secret (env var or template).")
    refresh_token: str | None = Field(default=None, description="OAuth2 refresh token as first issued (env var or template); rotated ones are kept under $DAGSTER_HOME/restsync/tokens.")
    private_key: str | None = Field(default=None, description="PEM private key of a JWT-bearer service account (env var or template).")
    pool: str = Field(description="Dagster concurrency pool shared by every table of this connection.")

    _stack: ExitStack | None = PrivateAttr(default=None)
    _client: RestClient | None = PrivateAttr(default=None)

    def connection(self) -> RestConnection:
        """The connection document with this resource's ``base_url`` and credentials applied."""
        connection = RestConnection.model_validate_json(self.definition)
        credentials = {}
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            if value is not None and hasattr(connection.auth, name):
                if not is_template(value):
                    GLOBAL.add(value)
                credentials[name] = value
        update: dict[str, Any] = {"base_url": self.base_url}
        if credentials:
            update["auth"] = connection.auth.model_copy(update=credentials)
        return connection.model_copy(update=update)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._stack = ExitStack()
        self._client = self._stack.enter_context(rendered_client(self.connection(), secrets=GLOBAL))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = self._client = None

    @property
    def client(self) -> RestClient:
        """The run's open client (only while a run executes)."""
        if self._client is None:
            raise RestSyncError(f"connection {self.connection_id!r}: the client is opened when a run starts")
        return self._client


class DeltaConnectionResource(dg.ConfigurableResource):
    """A Delta Lake root of the definitions folder."""

    connection_id: str = Field(description="Id of the connection document.")
    path: str = Field(description="Root URI of the tables (a template until a run renders it).")
    storage_options: dict[str, str] = Field(default_factory=dict, description="delta-rs storage options (templates until a run renders them).")

    def location(self) -> Lake:
        """The rendered root URI and storage options (secrets from ``env`` are registered for redaction)."""
        return render_lake(self.connection_id, self.path, dict(self.storage_options), Renderer(GLOBAL))


class ProgressResource:
    """The page callback of a run; ``restsync sync`` passes one that draws progress bars."""

    def __init__(self, on_page: OnPage | None = None):
        self.on_page = on_page


def resource_key(connection_id: object) -> str:
    return "conn_" + re.sub(r"[^A-Za-z0-9_]", "_", str(connection_id))


def build_resource(connection: RestConnection | DeltaConnection) -> dg.ConfigurableResource:
    if isinstance(connection, DeltaConnection):
        return DeltaConnectionResource(
            connection_id=str(connection.id), path=connection.path, storage_options=dict(connection.storage_options)
        )
    auth = connection.auth
    secrets = {name: _env_or_template(getattr(auth, name, None)) for name in SECRET_FIELDS}
    return RestConnectionResource(
        connection_id=str(connection.id),
        definition=connection.model_dump_json(by_alias=True, exclude_unset=True),
        base_url=connection.base_url,
        auth_type=auth.type,
        pool=pool_name(connection.id),
        **{k: v for k, v in secrets.items() if v is not None},
    )


def lake_resource_keys(project: Project, pipeline: Pipeline) -> set[str]:
    """The Delta resource a pipeline's tables land in (none for the default staging)."""
    delta = lake_connection(project, pipeline)
    return {resource_key(delta.id)} if delta is not None else set()


def lake_of(context: dg.AssetExecutionContext, project: Project, pipeline: Pipeline) -> Lake | None:
    """The landing lake from the run's Delta resource, so overriding the resource moves the tables."""
    keys = lake_resource_keys(project, pipeline)
    return getattr(context.resources, keys.pop()).location() if keys else None


def build_resources(project: Project, on_page: OnPage | None = None) -> dict[str, Any]:
    """Every connection's resource by key, and the progress callback (a no-op unless given)."""
    resources: dict[str, Any] = {resource_key(c.id): build_resource(c) for c in project.connections.values()}
    resources[PROGRESS_KEY] = ProgressResource(on_page)
    return resources

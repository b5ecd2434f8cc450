"""One ``ConfigurableResource`` per connection; secrets show as env var names in the UI."""

from __future__ import annotations

import re
from typing import Any

import dagster as dg
from pydantic import Field

from ..config.connection import DeltaConnection, RestConnection

_ENV_ONLY = re.compile(r"^\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
SECRET_FIELDS = ("username", "password", "token", "key", "client_secret")


def _env_or_template(value: str | None) -> Any:
    """``{{ env.X }}`` becomes ``EnvVar("X")``; anything else stays the (non-secret) template text."""
    if value is None:
        return None
    match = _ENV_ONLY.match(value.strip())
    return dg.EnvVar(match.group(1)) if match else value


class RestConnectionResource(dg.ConfigurableResource):
    """A REST connection of the definitions folder. Secrets are env var names, read when a run starts."""

    connection_id: str = Field(description="Id of the connection document.")
    base_url: str = Field(description="Common prefix of every endpoint.")
    auth_type: str = Field(default="none", description="Auth kind.")
    username: str | None = Field(default=None, description="Basic auth user (env var or template).")
    password: str | None = Field(default=None, description="Basic auth password (env var or template).")
    token: str | None = Field(default=None, description="Bearer or token auth token (env var or template).")
    key: str | None = Field(default=None, description="API key (env var or template).")
    client_secret: str | None = Field(default=None, description="OAuth2 client secret (env var or template).")
    pool: str = Field(description="Dagster concurrency pool shared by every table of this connection.")


class DeltaConnectionResource(dg.ConfigurableResource):
    """A Delta Lake root of the definitions folder."""

    connection_id: str = Field(description="Id of the connection document.")
    path: str = Field(description="Root URI of the tables.")


def resource_key(connection_id: object) -> str:
    return "conn_" + re.sub(r"[^A-Za-z0-9_]", "_", str(connection_id))


def build_resource(connection: RestConnection | DeltaConnection) -> dg.ConfigurableResource:
    if isinstance(connection, DeltaConnection):
        return DeltaConnectionResource(connection_id=str(connection.id), path=connection.path)
    auth = connection.auth
    secrets = {name: _env_or_template(getattr(auth, name, None)) for name in SECRET_FIELDS}
    return RestConnectionResource(
        connection_id=str(connection.id),
        base_url=connection.base_url,
        auth_type=auth.type,
        pool=f"restsync/{connection.id}",
        **{k: v for k, v in secrets.items() if v is not None},
    )

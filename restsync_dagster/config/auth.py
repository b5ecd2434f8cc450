"""Auth kinds of SPEC §3.2, one model each, chosen by ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from .common import IntList, Model

BodyMediaType = Literal["json", "url_encoded", "form", "xml", "text"]


class NoAuth(Model):
    type: Literal["none"] = "none"


class BasicAuth(Model):
    type: Literal["basic"]
    username: str
    password: str = ""
    """May be empty, as with Stripe-style keys."""


class BearerAuth(Model):
    type: Literal["bearer"]
    token: str


class ApiKeyAuth(Model):
    type: Literal["api_key"]
    key: str
    header: str | None = None
    """Send the key in this header..."""
    param: str | None = None
    """...or in this query parameter."""

    @model_validator(mode="after")
    def _one_place(self) -> "ApiKeyAuth":
        if (self.header is None) == (self.param is None):
            raise ValueError("set exactly one of 'header' or 'param' for where the key goes")
        return self


class TokenRefresh(Model):
    method: Literal["GET", "POST", "PUT"] = "POST"
    path: str
    """Relative to the connection's base_url (or an absolute URL)."""
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    media_type: BodyMediaType = "json"
    token_path: str
    """Dotted path of the new token in the response; absent means the refresh failed."""
    refresh_on: IntList = Field(default_factory=lambda: [401])


class TokenAuth(Model):
    type: Literal["token"]
    token: str = ""
    """Initial token; may be empty when ``refresh`` obtains one."""
    send_via: Literal["header", "param"] = "header"
    header_name: str = "Authorization"
    scheme: str | None = None
    param_name: str | None = None
    refresh: TokenRefresh | None = None

    @model_validator(mode="after")
    def _where(self) -> "TokenAuth":
        if self.send_via == "param" and not self.param_name:
            raise ValueError("'param_name' is required when send_via is 'param'")
        if not self.token and self.refresh is None:
            raise ValueError("'token' is required unless 'refresh' can obtain one")
        return self


class OAuth2ClientCredentials(Model):
    type: Literal["oauth2_client_credentials"]
    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None
    audience: str | None = None


class CookieLogin(Model):
    method: Literal["GET", "POST"] = "POST"
    path: str
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    media_type: BodyMediaType = "json"


class CookieAuth(Model):
    type: Literal["cookie"]
    login: CookieLogin
    success_status: IntList | None = None
    """Statuses that mean the login worked; default any 2xx or 3xx."""

    @field_validator("success_status")
    @classmethod
    def _statuses(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 100 <= v <= 599 for v in value):
            raise ValueError("expected HTTP status codes between 100 and 599")
        return value


Auth = Annotated[
    NoAuth | BasicAuth | BearerAuth | ApiKeyAuth | TokenAuth | OAuth2ClientCredentials | CookieAuth,
    Field(discriminator="type"),
]

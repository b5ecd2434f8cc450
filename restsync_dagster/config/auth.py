"""Auth kinds, one model each, chosen by ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from .common import IntList, Model

BodyMediaType = Literal["json", "url_encoded", "form", "xml", "text"]


class NoAuth(Model):
    type: Literal["none"] = "none"
    """No authentication. Example: `none`"""


class BasicAuth(Model):
    type: Literal["basic"]
    """HTTP Basic authentication. Example: `basic`"""
    username: str
    """User name. Example: `{{ env.API_USER }}`"""
    password: str = ""
    """Password; may be empty, as with Stripe-style keys. Example: `{{ env.API_PASSWORD }}`"""


class BearerAuth(Model):
    type: Literal["bearer"]
    """A static bearer token in the Authorization header. Example: `bearer`"""
    token: str
    """The token, usually from an environment variable. Example: `{{ env.API_TOKEN }}`"""


class ApiKeyAuth(Model):
    type: Literal["api_key"]
    """An API key in a header or a query parameter. Example: `api_key`"""
    key: str
    """The key, usually from an environment variable. Example: `{{ env.API_KEY }}`"""
    header: str | None = None
    """Send the key in this header (set this or param). Example: `X-API-Key`"""
    param: str | None = None
    """Send the key in this query parameter (set this or header). Example: `api_key`"""

    @model_validator(mode="after")
    def _one_place(self) -> "ApiKeyAuth":
        if (self.header is None) == (self.param is None):
            raise ValueError("set exactly one of 'header' or 'param' for where the key goes")
        return self


class TokenRefresh(Model):
    method: Literal["GET", "POST", "PUT"] = "POST"
    """HTTP method of the refresh request. Example: `POST`"""
    path: str
    """Path of the refresh request, relative to the connection's base_url (or an absolute URL). Example: `/auth/refresh`"""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers of the refresh request. Example: `{X-Client: restsync}`"""
    body: Any = None
    """Body of the refresh request; may use templates. Example: `{refresh_token: "{{ env.REFRESH_TOKEN }}"}`"""
    media_type: BodyMediaType = "json"
    """Encoding of the refresh request's body. Example: `json`"""
    token_path: str
    """Dotted path of the new token in the response; absent means the refresh failed. Example: `data.access_token`"""
    refresh_on: IntList = Field(default_factory=lambda: [401])
    """Statuses of an API response that trigger a refresh and one retry. Example: `[401]`"""


class TokenAuth(Model):
    type: Literal["token"]
    """A token sent in a header or parameter, refreshed by a request when it expires. Example: `token`"""
    token: str = ""
    """Initial token; may be empty when refresh obtains one. Example: `{{ env.API_TOKEN }}`"""
    send_via: Literal["header", "param"] = "header"
    """Where the token goes: a header or a query parameter. Example: `header`"""
    header_name: str = "Authorization"
    """Header carrying the token when send_via is header. Example: `Authorization`"""
    scheme: str | None = None
    """Prefix before the token in the header. Example: `Bearer`"""
    param_name: str | None = None
    """Query parameter carrying the token when send_via is param. Example: `access_token`"""
    refresh: TokenRefresh | None = None
    """Request that obtains a new token. Example: `{path: /auth/refresh, token_path: token}`"""

    @model_validator(mode="after")
    def _where(self) -> "TokenAuth":
        if self.send_via == "param" and not self.param_name:
            raise ValueError("'param_name' is required when send_via is 'param'")
        if not self.token and self.refresh is None:
            raise ValueError("'token' is required unless 'refresh' can obtain one")
        return self


class OAuth2ClientCredentials(Model):
    type: Literal["oauth2_client_credentials"]
    """OAuth 2 client-credentials grant; the token is fetched and renewed automatically. Example: `oauth2_client_credentials`"""
    token_url: str
    """URL of the token endpoint. Example: `https://auth.example.com/oauth/token`"""
    client_id: str
    """Client id. Example: `{{ env.CLIENT_ID }}`"""
    client_secret: str
    """Client secret. Example: `{{ env.CLIENT_SECRET }}`"""
    scope: str | None = None
    """Space-separated scopes requested. Example: `read:orders`"""
    audience: str | None = None
    """Audience requested, for providers that need one. Example: `https://api.example.com`"""


class CookieLogin(Model):
    method: Literal["GET", "POST"] = "POST"
    """HTTP method of the login request. Example: `POST`"""
    path: str
    """Path of the login request, relative to base_url (or an absolute URL). Example: `/login`"""
    body: Any = None
    """Body of the login request; may use templates. Example: `{user: "{{ env.USER }}", password: "{{ env.PASSWORD }}"}`"""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers of the login request. Example: `{X-Client: restsync}`"""
    media_type: BodyMediaType = "json"
    """Encoding of the login request's body. Example: `json`"""


class CookieAuth(Model):
    type: Literal["cookie"]
    """A session cookie obtained by a login request. Example: `cookie`"""
    login: CookieLogin
    """The login request. Example: `{path: /login, body: {user: me}}`"""
    success_status: IntList | None = None
    """Statuses that mean the login worked; default any 2xx or 3xx. Example: `[200, 302]`"""

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

AUTH_TYPES = ("none", "basic", "bearer", "api_key", "token", "oauth2_client_credentials", "cookie")

"""Auth kinds, one model each, chosen by ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from .common import IntList, Model, NonBlank

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
    path: NonBlank
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
    token_url: NonBlank
    """URL of the token endpoint. Example: `https://auth.example.com/oauth/token`"""
    client_id: str
    """Client id. Example: `{{ env.CLIENT_ID }}`"""
    client_secret: str
    """Client secret. Example: `{{ env.CLIENT_SECRET }}`"""
    scope: str | None = None
    """Space-separated scopes requested. Example: `read:orders`"""
    audience: str | None = None
    """Audience requested, for providers that need one. Example: `https://api.example.com`"""


class OAuth2RefreshToken(Model):
    type: Literal["oauth2_refresh_token"]
    """An access token from a user's refresh token, as SaaS APIs issue it. Example: `oauth2_refresh_token`"""
    token_url: str
    """Token endpoint, absolute or relative to the connection's base_url. Example: `https://oauth2.example.com/token`"""
    client_id: str
    """OAuth2 client id. Example: `{{ env.CRM_CLIENT_ID }}`"""
    client_secret: str = ""
    """OAuth2 client secret (a secret: use an env template). Example: `{{ env.CRM_CLIENT_SECRET }}`"""
    refresh_token: str
    """The refresh token the provider issued when the account was connected. When the provider rotates
    it (answers each refresh with a new one), restsync keeps the newest under `$DAGSTER_HOME/restsync/`
    and uses that from then on. Example: `{{ env.CRM_REFRESH_TOKEN }}`"""
    client_auth: Literal["basic", "body"] = "body"
    """How the client authenticates at the token endpoint: HTTP Basic or `client_id`/`client_secret` in
    the form body. Example: `basic`"""
    scopes: list[str] = Field(default_factory=list)
    """Scopes to ask for (sent space-separated as `scope`); empty sends none. Example: `[crm.read]`"""
    extra_body: dict[str, str] = Field(default_factory=dict)
    """More form fields for the token request, as some providers require. Example: `{audience: api}`"""

    @field_validator("token_url", "client_id", "refresh_token")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class JwtBearer(Model):
    type: Literal["jwt_bearer"]
    """A service account's signed JWT exchanged for an access token (Google APIs). Example: `jwt_bearer`"""
    key_file: str | None = None
    """Path of a service-account JSON key (with `private_key`, `client_email`, `token_uri`) or of a PEM
    private key. Example: `{{ env.GOOGLE_APPLICATION_CREDENTIALS }}`"""
    private_key: str | None = None
    """The PEM private key itself, instead of `key_file`. Example: `{{ env.SA_PRIVATE_KEY }}`"""
    issuer: str | None = None
    """The `iss` claim; default the key file's `client_email`. Example: `sync@project.iam.gserviceaccount.com`"""
    subject: str | None = None
    """The `sub` claim, for domain-wide delegation; default none. Example: `admin@example.com`"""
    audience: str | None = None
    """The `aud` claim; default the token URL. Example: `https://oauth2.googleapis.com/token`"""
    scopes: list[str] = Field(default_factory=list)
    """Scopes, sent space-separated in the `scope` claim. Example: `[https://www.googleapis.com/auth/webmasters.readonly]`"""
    token_url: str | None = None
    """Where the signed assertion is exchanged for an access token; default the key file's `token_uri`.
    Example: `https://oauth2.googleapis.com/token`"""
    lifetime_s: int = Field(default=3600, ge=60, le=3600)
    """Seconds the assertion is valid (60 to 3600). Example: `3600`"""

    @model_validator(mode="after")
    def _one_key(self) -> "JwtBearer":
        if (self.key_file is None) == (self.private_key is None):
            raise ValueError("set exactly one of 'key_file' (a service-account JSON or PEM file) or 'private_key' (PEM text)")
        if self.private_key is not None and self.token_url is None:
            raise ValueError("'token_url' is required with 'private_key' (only a key file can name its token_uri)")
        if self.private_key is not None and self.issuer is None:
            raise ValueError("'issuer' is required with 'private_key' (only a key file can name its client_email)")
        return self


class CookieLogin(Model):
    method: Literal["GET", "POST"] = "POST"
    """HTTP method of the login request. Example: `POST`"""
    path: NonBlank
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
    NoAuth
    | BasicAuth
    | BearerAuth
    | ApiKeyAuth
    | TokenAuth
    | OAuth2ClientCredentials
    | OAuth2RefreshToken
    | JwtBearer
    | CookieAuth,
    Field(discriminator="type"),
]

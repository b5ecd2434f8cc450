"""Auth kinds of SPEC §3.2, one model each, chosen by ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from .common import IntList, Model, NonBlank

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
    path: NonBlank
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
    token_url: NonBlank
    client_id: str
    client_secret: str
    scope: str | None = None
    audience: str | None = None


class OAuth2RefreshToken(Model):
    type: Literal["oauth2_refresh_token"]
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
    path: NonBlank
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

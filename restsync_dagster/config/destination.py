"""REST destination request settings."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import Field, PositiveInt, model_validator

from .auth import Auth
from .common import Model, NonBlank, RateLimit, StrList

FIELD_REF = re.compile(r"#\{\s*([^}\s]+)\s*\}")

FieldType = Literal[
    "string", "integer", "long", "float", "double", "boolean", "timestamp", "date", "binary", "json", "struct"
]


def field_refs(text: str) -> list[str]:
    """The record fields a ``#{field}`` template names."""
    return FIELD_REF.findall(text or "")


class FieldMapping(Model):
    field_name: str
    """Name in the request body. Example: `email_address`"""
    column_name: str
    """Column of the table. Example: `email`"""
    field_type: FieldType | None = None
    """Must match the column's type when set. Example: `string`"""


class DestinationRequest(Model):
    url: NonBlank | None = None
    """Absolute URL of the request (set this or path); may use `#{field}`. Example: `https://crm.example.com/api/contacts`"""
    path: NonBlank | None = None
    """Path relative to the connection's base_url (set this or url); may use `#{field}`. Example: `/contacts/#{id}`"""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    """HTTP method. Example: `POST`"""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers of each request; values may use `#{field}`. Example: `{X-Source: restsync}`"""
    body_format: Literal["json", "csv", "form_data", "url_encoded"] = "json"
    """Encoding of the body. Example: `json`"""
    custom_payload: str | None = None
    """Body template with `#{field}` placeholders; default the mapped record. Example: `{"contact": {"email": "#{email}"}}`"""
    nested_attribute: str | None = None
    """Wrap the record (or batch) under this key. Example: `data`"""
    static_fields: dict[str, Any] = Field(default_factory=dict)
    """Fields added to every record sent. Example: `{source: restsync}`"""
    request_mode: Literal["single", "batch", "one_request"] = "single"
    """One request per record, per batch, or one for all records. Example: `batch`"""
    batch_size: PositiveInt = 100
    """Records per request in batch mode. Example: `100`"""
    field_mapping: list[FieldMapping] | None = None
    """Which columns are sent under which names; default every column as is. Example: `[{field_name: mail, column_name: email}]`"""
    rate_limit: RateLimit | None = None
    """Overrides the connection's rate limit for delivery. Example: `{requests_per_second: 1}`"""
    auth: Auth | None = None
    """Auth for delivery, replacing the connection's. Example: `{type: bearer, token: "{{ env.CRM_TOKEN }}"}`"""
    key: StrList | None = None
    """Columns that identify a record for delivery tracking; default the table's primary_key. Example: `[id]`"""

    @model_validator(mode="after")
    def _check(self) -> "DestinationRequest":
        if (self.url is None) == (self.path is None):
            raise ValueError("set exactly one of 'url' (absolute) or 'path' (relative to the connection's base_url)")
        if self.custom_payload is not None and self.body_format == "json":
            probe = FIELD_REF.sub("0", self.custom_payload)
            try:
                json.loads(probe)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"custom_payload is not valid JSON with body_format json ({exc.msg} at line {exc.lineno} column {exc.colno})"
                ) from None
        return self

    def templates(self) -> dict[str, str]:
        """Every template of this request, by field path, for ``#{field}`` checks."""
        out = {"url" if self.url is not None else "path": self.url or self.path or ""}
        out.update({f"headers.{k}": v for k, v in self.headers.items()})
        if self.custom_payload:
            out["custom_payload"] = self.custom_payload
        return out

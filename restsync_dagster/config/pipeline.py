"""Pipeline definition documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PositiveInt, field_validator, model_validator

from .auth import Auth
from .common import ConnectionRef, Id, Model, RateLimit, StrList, merge_rate_limit, parse_duration, to_key
from .destination import DestinationRequest
from .hook import HookEvent
from .pagination import Pagination
from .transformations import Transformation

ColumnType = Literal[
    "string", "integer", "long", "float", "double", "boolean", "timestamp", "date", "binary", "json", "struct"
]


class SchemaField(Model):
    name: str
    """Column name in the Delta table. Example: `email`"""
    type: ColumnType
    """Column type. Example: `string`"""
    nullable: bool = True
    """Whether the column may hold nulls. Example: `true`"""
    path: str | None = None
    """Dotted path of the value in the record; default name. Example: `address.city`"""
    fields: list["SchemaField"] | None = None
    """Sub-fields of a struct; inferred when omitted. Example: `[{name: lat, type: double}]`"""

    @model_validator(mode="after")
    def _fields_only_for_struct(self) -> "SchemaField":
        if self.fields is not None and self.type != "struct":
            raise ValueError("'fields' is only allowed on a column of type struct")
        return self


class Response(Model):
    root_key: str | None = None
    """Dotted path of the list of records in the response; default the whole body. Example: `data.items`"""
    success_field: str | None = None
    """Dotted path of a value that says the call worked (with success_values). Example: `status`"""
    success_values: list[Any] | None = None
    """Values at success_field that mean success; others fail the sync. Example: `[ok]`"""

    @model_validator(mode="after")
    def _pair(self) -> "Response":
        if (self.success_field is None) != (self.success_values is None):
            raise ValueError("'success_field' and 'success_values' go together")
        return self


class Columns(Model):
    include: list[str] | None = None
    """Keep only these columns (set this or exclude). Example: `[id, name]`"""
    exclude: list[str] | None = None
    """Drop these columns (set this or include). Example: `[internal_notes]`"""

    @model_validator(mode="after")
    def _not_both(self) -> "Columns":
        if self.include is not None and self.exclude is not None:
            raise ValueError("set 'include' or 'exclude', not both")
        return self


class Incremental(Model):
    cursor_field: str
    """Record field whose highest value is kept between runs. Example: `updated_at`"""
    param: str | None = None
    """Query parameter that carries the start value (the stored cursor minus lookback); or use `{{ incremental.start }}` in params. Example: `updated_since`"""
    initial_value: Any = None
    """Cursor value of the first run. Example: `2026-01-01T00:00:00Z`"""
    lookback: str | None = None
    """ISO 8601 duration subtracted from the cursor to re-read late records. Example: `PT1H`"""

    @field_validator("lookback")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


def parse_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class Partitions(Model):
    type: Literal["hourly", "daily", "weekly", "monthly"]
    """Partition size. Example: `daily`"""
    start: str
    """First partition, an ISO date or datetime. Example: `2026-01-01`"""
    end: str | None = None
    """End of the last partition (exclusive); default now. Example: `2026-12-31`"""
    timezone: str = "UTC"
    """IANA time zone of the partition boundaries. Example: `Europe/Paris`"""
    column: str | None = None
    """Column holding the record's time; when set, rows outside the window are an error. Example: `created_at`"""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            parse_instant(value)
        except ValueError:
            raise ValueError(f"expected an ISO date or datetime such as '2026-01-01', got {value!r}") from None
        return str(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; expected an IANA name such as 'UTC' or 'Europe/Paris'") from None
        return value

    @model_validator(mode="after")
    def _order(self) -> "Partitions":
        if self.end is not None and parse_instant(self.end) <= parse_instant(self.start):
            raise ValueError("'end' must be after 'start'")
        return self


class Parent(Model):
    table: str
    """Name of the parent table in the same pipeline. Example: `users`"""
    fields: dict[str, str]
    """Parent column → name usable as `{{ parent.NAME }}`; a list keeps the names. Example: `{id: user_id}`"""

    @field_validator("fields", mode="before")
    @classmethod
    def _list_form(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {str(v): str(v) for v in value}
        return value


class Table(Model):
    name: str
    """Table name; its lower-case key names the asset and the Delta folder. Example: `users`"""
    description: str | None = None
    """Free text shown in the UI. Example: `Registered users`"""
    url: str | None = None
    """Absolute URL of the endpoint (set this or path). Example: `https://api.example.com/v2/users`"""
    path: str | None = None
    """Path of the endpoint relative to the connection's base_url; default `/name`. Example: `/users`"""
    method: Literal["GET", "POST"] = "GET"
    """HTTP method of the read request. Example: `GET`"""
    headers: dict[str, Any] = Field(default_factory=dict)
    """Extra headers of this table's requests; values may use templates. Example: `{X-Tenant: acme}`"""
    params: dict[str, Any] = Field(default_factory=dict)
    """Query parameters of every request; values may use templates. Example: `{status: active}`"""
    body: Any = None
    """Body of a POST read request; may use templates. Example: `{query: "*"}`"""
    auth: Auth | None = None
    """Auth for this table, replacing the connection's. Example: `{type: api_key, key: "{{ env.KEY }}", header: X-Key}`"""
    pagination: Pagination | None = None
    """How to fetch further pages, chosen by its type; default one page. Example: `{type: offset, page_size: 100}`"""
    response: Response = Field(default_factory=Response)
    """Where the records are in a response and how success is told. Example: `{root_key: data}`"""
    rate_limit: RateLimit | None = None
    """Overrides the connection's rate limit field by field; null turns it off. Example: `{requests_per_second: 2}`"""
    schema_: list[SchemaField] | None = Field(default=None, alias="schema")
    """Declared columns; default inferred from the records. Example: `[{name: id, type: integer}]`"""
    columns: Columns | None = None
    """Which columns to keep. Example: `{exclude: [password]}`"""
    primary_key: StrList | None = None
    """Columns identifying a record; syncs then merge (upsert) instead of overwriting. Example: `[id]`"""
    append_only: bool = False
    """Append every sync's records instead of replacing or merging. Example: `false`"""
    incremental: Incremental | None = None
    """Read only records newer than the last sync. Example: `{cursor_field: updated_at, param: since}`"""
    partitions: Partitions | None = None
    """Sync one time window per run, as Dagster partitions. Example: `{type: daily, start: "2026-01-01"}`"""
    parent: Parent | None = None
    """Read once per row of another table, with its fields in templates. Example: `{table: users, fields: [id]}`"""
    max_pages: PositiveInt | None = None
    """Stop after this many pages. Example: `10`"""
    max_records: PositiveInt | None = None
    """Stop after this many records. Example: `1000`"""
    request: DestinationRequest | None = None
    """REST destinations: overrides the pipeline's destination.request for this table. Example: `{path: /contacts, method: PUT}`"""
    owners: list[str] = Field(default_factory=list)
    """Owners of the asset shown in the UI (emails or team:name). Example: `[data@example.com]`"""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags of the asset. Example: `{domain: crm}`"""

    @model_validator(mode="after")
    def _check(self) -> "Table":
        if self.url is not None and self.path is not None:
            raise ValueError("set 'url' (absolute) or 'path' (relative to base_url), not both")
        if self.schema_ is not None:
            names = [f.name for f in self.schema_]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"schema declares {', '.join(map(repr, dupes))} more than once")
        if self.partitions is not None and self.incremental is not None:
            raise ValueError("a table is either partitioned or incremental, not both")
        if self.body is not None and self.method == "GET":
            raise ValueError("'body' needs method POST")
        return self

    @property
    def key(self) -> str:
        return to_key(self.name)

    @property
    def endpoint(self) -> str:
        return self.url if self.url is not None else (self.path if self.path is not None else f"/{self.name}")

    def effective_rate_limit(self, connection_rate_limit: RateLimit | None) -> RateLimit | None:
        return merge_rate_limit(connection_rate_limit, self.rate_limit, "rate_limit" in self.model_fields_set)


class Destination(ConnectionRef):
    request: DestinationRequest | None = None
    """REST destinations: how each record is sent. Example: `{path: /contacts, request_mode: batch}`"""


class Sync(Model):
    frequency: PositiveInt | None = None
    """Minutes between two syncs (set this or cron). Example: `60`"""
    source_frequency: PositiveInt | None = None
    """Reverse ETL: minutes between two reads of the source (with destination_frequency). Example: `60`"""
    destination_frequency: PositiveInt | None = None
    """Reverse ETL: minutes between two deliveries (with source_frequency). Example: `15`"""
    cron: str | None = None
    """Cron expression of the schedule (set this or frequency). Example: `0 6 * * *`"""
    timezone: str = "UTC"
    """IANA time zone of the cron expression. Example: `Europe/Paris`"""
    enabled: bool = True
    """Whether the schedules start running; off leaves them stopped in the UI. Example: `false`"""
    auto_sync_new_tables: bool = False
    """Sync a table added to the pipeline without waiting for the schedule. Example: `true`"""

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from .cron import check_cron

            check_cron(value)
        return value

    @model_validator(mode="after")
    def _one_cadence(self) -> "Sync":
        pair = (self.source_frequency is not None, self.destination_frequency is not None)
        single = self.frequency is not None or self.cron is not None
        if self.frequency is not None and self.cron is not None:
            raise ValueError("set 'frequency' (minutes) or 'cron', not both")
        if any(pair) and not all(pair):
            raise ValueError("'source_frequency' and 'destination_frequency' go together")
        if single and any(pair):
            raise ValueError("set 'frequency' (or 'cron') or the 'source_frequency'/'destination_frequency' pair, not both")
        if not single and not any(pair):
            raise ValueError("set 'frequency' (minutes), 'cron', or both 'source_frequency' and 'destination_frequency'")
        return self

    @property
    def extract_minutes(self) -> int | None:
        return self.frequency if self.frequency is not None else self.source_frequency


class HookRef(Model):
    id: Id
    """Id of a hook document. Example: `slack`"""
    events: list[HookEvent] = Field(min_length=1)
    """Events that call the hook. Example: `[pipeline_failed]`"""


class Pipeline(Model):
    definition_version: Literal[1]
    """Version of the definition format. Example: `1`"""
    name: str = Field(min_length=1)
    """Pipeline name; its lower-case key prefixes asset keys and job names. Example: `jsonplaceholder`"""
    description: str | None = None
    """Free text shown in the UI. Example: `Users and posts from JSONPlaceholder`"""
    source: ConnectionRef
    """Connection read from. Example: `{connection: {id: jsonplaceholder}}`"""
    destination: Destination
    """Connection written to, and for a REST destination how records are sent. Example: `{connection: {id: lake}}`"""
    staging: ConnectionRef | None = None
    """Delta connection holding the records read before a REST destination gets them. Example: `{connection: {id: lake}}`"""
    sync: Sync
    """When the pipeline runs. Example: `{frequency: 60, enabled: false}`"""
    tables: list[Table] = Field(min_length=1)
    """Tables the pipeline syncs. Example: `[{name: users, primary_key: [id]}]`"""
    transformations: list[Transformation] = Field(default_factory=list)
    """Changes applied to the records before they are written, in order. Example: `[{type: exclude_fields, config: {fields: [email]}}]`"""
    hooks: list[HookRef] = Field(default_factory=list)
    """Hooks called on pipeline events. Example: `[{id: slack, events: [pipeline_failed]}]`"""
    owners: list[str] = Field(default_factory=list)
    """Owners of every asset of the pipeline. Example: `[team:data]`"""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags of every asset of the pipeline. Example: `{source: crm}`"""

    @property
    def key(self) -> str:
        return to_key(self.name)

    def table(self, name_or_key: str) -> Table:
        for table in self.tables:
            if name_or_key in (table.name, table.key):
                return table
        raise KeyError(name_or_key)

    def transformations_for(self, table: Table) -> list[Any]:
        return [t for t in self.transformations if t.table is None or t.table in (table.name, table.key)]

    def request_for(self, table: Table) -> DestinationRequest | None:
        return table.request or self.destination.request

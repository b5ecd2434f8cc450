"""Pipeline definition documents."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PositiveInt, field_validator, model_validator

from .auth import Auth
from .common import ConnectionRef, DottedPath, ErrorStatusList, Id, Model, NonBlank, RateLimit, StrList, merge_rate_limit, parse_duration, to_key
from .destination import DestinationRequest
from .hook import HookEvent
from .job import Job
from .pagination import Pagination
from .templating import is_template
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
    description: str | None = None
    """What the column holds; shown in the Dagster UI's column schema. Example: `Billing email of the customer`"""

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
    skip_statuses: ErrorStatusList | None = None
    """Statuses that mean "no records here": such a response yields nothing, is counted as skipped and
    never fails the run (child endpoints answer 404 for a deleted parent). Default: the connection's
    `skip_statuses`; `[]` skips nothing. Example: `[404, 403]`"""
    error_path: str | None = None
    """Dotted path of an error list or message in a 200 answer (GraphQL's `errors`): when present and
    not empty the request failed; it is retried like a 503, then fails naming the path. Example: `errors`"""

    format: Literal["json", "jsonl", "csv", "header_rows"] | None = None
    """How the body is decoded: `json`, `jsonl` (one JSON record per line), `csv` (a header line,
    then one record per line) or `header_rows` (JSON; the list at `root_key` holds the column names
    in its first row and one list of values per record after it). Default: the connection's
    `media_type`. Example: `header_rows`"""
    compression: Literal["gzip", "zip"] | None = None
    """Unpack the body before decoding it: `gzip`, or `zip` (every file in the archive, in order).
    A `Content-Encoding: gzip` answer needs nothing here. Example: `gzip`"""
    explode: DottedPath | None = None
    """Dotted path of a list inside each record: every element becomes a row, with the record's
    other top-level fields kept under the prefix `parent_` (`id` → `parent_id`; an element's own
    field wins); a scalar element becomes a column named after the path's last part, and a record
    whose list is absent, null or empty gives no row. Example: `activity`"""

    @model_validator(mode="after")
    def _pair(self) -> "Response":
        if (self.success_field is None) != (self.success_values is None):
            raise ValueError("'success_field' and 'success_values' go together")
        if self.format in ("jsonl", "csv"):
            for name in ("root_key", "success_field", "error_path"):
                if getattr(self, name) is not None:
                    raise ValueError(f"'{name}' reads a JSON document; format {self.format} has one record per line")
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
    end: Any = None
    """Upper bound of the requested range (``{{ incremental.end }}``; default now), e.g. ``"2026-06-30"`` or ``"{{ env.END_DATE }}"``. Example: `"2026-06-30"`"""
    window: str | None = None
    """ISO duration: split ``[start, end)`` into windows requested one after another, each with
    ``{{ window.start }}`` / ``{{ window.end }}``, e.g. ``P30D``. If a window fails for good, the
    rows of the windows before it are committed with the cursor at the end of the last of them,
    and the run fails naming the window. Example: `P30D`"""

    @field_validator("lookback", "window")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value).total_seconds() <= 0:
            raise ValueError(f"expected a duration longer than zero, got {value!r}")
        return value

    @model_validator(mode="after")
    def _instants(self) -> "Incremental":
        if self.window is not None and self.initial_value is None:
            raise ValueError("'window' needs 'initial_value': the first sync has no cursor to start the windows from")
        for name in ("end", "initial_value") if self.window is not None else ("end",):
            value = getattr(self, name)
            if isinstance(value, bool) or not (value is None or isinstance(value, (int, float)) or _instant_text(value)):
                raise ValueError(f"'{name}': expected an ISO date or datetime such as '2026-01-01', epoch seconds or a template, got {value!r}")
        return self


def _instant_text(value: Any) -> bool:
    if not isinstance(value, str):
        return isinstance(value, (date, datetime))
    if is_template(value) or value.strip().lstrip("-").isdigit():
        return True
    try:
        parse_instant(value)
    except ValueError:
        return False
    return True


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
    max_per_run: PositiveInt | None = None
    """Partitions one backfill run covers; a longer backfill becomes several runs that Dagster runs
    in parallel, bounded by the source connection's pool (``max_per_run: 7`` backfills 30 days as 5
    runs). Unset: the whole range in one run. Example: `7`"""

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
    name: NonBlank
    """Table name; its lower-case key names the asset and the Delta folder. Example: `users`"""
    description: str | None = None
    """Free text shown in the UI. Example: `Registered users`"""
    url: NonBlank | None = None
    """Absolute URL of the endpoint (set this or path). Example: `https://api.example.com/v2/users`"""
    path: NonBlank | None = None
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
    fan_out: dict[str, list[str | int | float | bool] | str] | None = None
    """One request stream per combination of values (cartesian product), each value usable as
    ``{{ fan.NAME }}`` and written as a column, e.g. ``{site_url: [a, b], search_type: [web, news]}``;
    a value may also be a template giving a JSON list, e.g. ``"{{ env.SITES }}"``. Example: `{site_url: [a, b], search_type: [web, news]}`"""
    job: Job | None = None
    """Asynchronous report instead of a paged endpoint: create a job, poll it, download its files,
    e.g. ``{create: {path: /reports, id_path: report.id}, poll: {path: "/reports/{{ job.id }}",
    status_path: report.status, done: [done]}, download: {urls_path: report.files}}``. Example: `{create: {path: /reports, id_path: report.id}, poll: {path: "/reports/{{ job.id }}",     status_path: report.status, done: [done]}, download: {urls_path: report.files}}`"""
    max_pages: PositiveInt | None = None
    """Stop after this many pages. Example: `10`"""
    max_records: PositiveInt | None = None
    """Stop after this many records. Example: `1000`"""
    location: str | None = None
    """Where the table's Delta table lives instead of `<pipeline key>/<table key>` under the destination
    connection's path: a relative path under it (`.` is the path itself) or an absolute URI.
    Example: `crm/customers`"""
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
        if self.location is not None and not self.location.strip():
            raise ValueError("'location' must not be empty; leave it out for <pipeline key>/<table key>")
        _check_inject(self)
        if self.job is not None and self.pagination is not None:
            raise ValueError("a table with a report 'job' reads result files, it has no 'pagination'")
        if self.fan_out and self.parent is not None:
            for name in self.fan_out:
                if name in self.parent.fields.values():
                    raise ValueError(f"fan_out name {name!r} is also a parent field name")
        return self

    @field_validator("fan_out")
    @classmethod
    def _fan_out(cls, fan_out: dict[str, Any] | None) -> dict[str, Any] | None:
        if fan_out is not None:
            _check_fan_out(fan_out)
        return fan_out

    @property
    def key(self) -> str:
        return to_key(self.name)

    @property
    def endpoint(self) -> str:
        return self.url if self.url is not None else (self.path if self.path is not None else f"/{self.name}")

    def effective_rate_limit(self, connection_rate_limit: RateLimit | None) -> RateLimit | None:
        return merge_rate_limit(connection_rate_limit, self.rate_limit, "rate_limit" in self.model_fields_set)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_inject(table: "Table") -> None:
    pagination = table.pagination
    for name in ("inject", "size_inject"):
        inject = getattr(pagination, name, None)
        if inject is None:
            continue
        if inject.into == "body" and table.method != "POST":
            raise ValueError(f"pagination.{name}: into 'body' needs method POST")
        if inject.into == "body" and not inject.path:
            raise ValueError(f"pagination.{name}: into 'body' needs a 'path' such as 'pagination.cursor'")
        if inject.into == "body" and table.body is not None and not isinstance(table.body, dict):
            raise ValueError(f"pagination.{name}: into 'body' needs a JSON object 'body'")
        if name == "size_inject" and getattr(pagination, "page_size", None) is None:
            raise ValueError("pagination.size_inject needs 'page_size'")


def _check_fan_out(fan_out: dict[str, Any]) -> None:
    if not fan_out:
        raise ValueError("'fan_out' needs at least one name with its values")
    for name, values in fan_out.items():
        if not _NAME.match(name):
            raise ValueError(f"fan_out name {name!r}: expected letters, digits and '_' (it becomes {{{{ fan.NAME }}}} and a column)")
        if isinstance(values, str) and not is_template(values):
            raise ValueError(f"fan_out.{name}: expected a list of values or a template giving a JSON list, got {values!r}")
        if isinstance(values, list) and not values:
            raise ValueError(f"fan_out.{name}: the list of values is empty")


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
    name: NonBlank
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

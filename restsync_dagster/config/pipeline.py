"""Pipeline definition documents."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PositiveInt, field_validator, model_validator

from .auth import Auth
from .common import ConnectionRef, Id, IntList, Model, NonBlank, RateLimit, StrList, merge_rate_limit, parse_duration, to_key
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
    """Column name in the table. Example: `customer_id`"""
    type: ColumnType
    """Column type. Example: `timestamp`"""
    nullable: bool = True
    """Whether the column may hold nulls; a null in a non-nullable column is an error. Example: `false`"""
    path: str | None = None
    """Dotted path of the value in the record (``address.city``); default ``name``. Example: `address.city`"""
    fields: list["SchemaField"] | None = None
    """Sub-fields of a ``struct``; inferred when omitted. Example: `[{name: city, type: string}]`"""
    description: str | None = None
    """What the column holds; shown in the Dagster UI's column schema. Example: `Customer's billing city`"""

    @model_validator(mode="after")
    def _fields_only_for_struct(self) -> "SchemaField":
        if self.fields is not None and self.type != "struct":
            raise ValueError("'fields' is only allowed on a column of type struct")
        return self


class Response(Model):
    root_key: str | None = None
    """Dotted path of the record list in the body; default the body itself. Example: `data.items`"""
    success_field: str | None = None
    """Dotted path of a value that says the request worked; goes with `success_values`. Example: `ok`"""
    success_values: list[Any] | None = None
    """Values at `success_field` that mean success; anything else fails the request. Example: `[true]`"""
    skip_statuses: IntList | None = None
    """Statuses that mean "no records here": such a response yields nothing, is counted as skipped and
    never fails the run (child endpoints answer 404 for a deleted parent). Default: the connection's
    `skip_statuses`; `[]` skips nothing. Example: `[404, 403]`"""
    error_path: str | None = None
    """Dotted path of an error list or message in a 200 answer (GraphQL's `errors`): when present and
    not empty the request failed; it is retried like a 503, then fails naming the path. Example: `errors`"""

    @model_validator(mode="after")
    def _pair(self) -> "Response":
        if (self.success_field is None) != (self.success_values is None):
            raise ValueError("'success_field' and 'success_values' go together")
        return self


class Columns(Model):
    include: list[str] | None = None
    """Only these columns are kept. Example: `[id, email, updated_at]`"""
    exclude: list[str] | None = None
    """These columns are dropped. Example: `[internal_note]`"""

    @model_validator(mode="after")
    def _not_both(self) -> "Columns":
        if self.include is not None and self.exclude is not None:
            raise ValueError("set 'include' or 'exclude', not both")
        return self


class Incremental(Model):
    cursor_field: str
    """Column whose largest synced value becomes the cursor, e.g. ``updated_at``."""
    param: str | None = None
    """Query parameter that receives the start value, e.g. ``updated_since``."""
    initial_value: Any = None
    """Start value before the first sync, e.g. ``"2026-01-01"`` or ``"{{ env.START_DATE }}"``."""
    lookback: str | None = None
    """ISO duration subtracted from the cursor to re-read late updates, e.g. ``P1D``."""
    end: Any = None
    """Upper bound of the requested range (``{{ incremental.end }}``; default now), e.g. ``"2026-06-30"`` or ``"{{ env.END_DATE }}"``."""
    window: str | None = None
    """ISO duration: split ``[start, end)`` into windows requested one after another, each with
    ``{{ window.start }}`` / ``{{ window.end }}``, e.g. ``P30D``. If a window fails for good, the
    rows of the windows before it are committed with the cursor at the end of the last of them,
    and the run fails naming the window."""

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
    """Partition size: one Dagster partition per hour, day, week or month. Example: `daily`"""
    start: str
    """First partition (ISO date or datetime). Example: `2026-01-01`"""
    end: str | None = None
    """End of the last partition (exclusive); default open-ended. Example: `2026-12-31`"""
    timezone: str = "UTC"
    """IANA time zone the partitions are cut in. Example: `Europe/Paris`"""
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
    """Name of the parent table whose rows drive one request each. Example: `customers`"""
    fields: dict[str, str]
    """Parent column → name usable as ``{{ parent.NAME }}``. Example: `{id: customer_id}`"""

    @field_validator("fields", mode="before")
    @classmethod
    def _list_form(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {str(v): str(v) for v in value}
        return value


class Table(Model):
    name: NonBlank
    """Table name; its key (lower-case, other characters as `_`) names the asset and the Delta table. Example: `customers`"""
    description: str | None = None
    """What the table holds, shown in the UI; default the pipeline's description. Example: `Active CRM customers`"""
    url: NonBlank | None = None
    """Absolute URL of the endpoint, instead of `path`. Example: `https://other.example.com/v2/orders`"""
    path: NonBlank | None = None
    """Endpoint path relative to the source connection's base_url; default `/<name>`. Example: `/customers`"""
    method: Literal["GET", "POST"] = "GET"
    """HTTP method of the request. Example: `POST`"""
    headers: dict[str, Any] = Field(default_factory=dict)
    """Extra headers for this table's requests (templated). Example: `{X-Fields: all}`"""
    params: dict[str, Any] = Field(default_factory=dict)
    """Query parameters (templated). Example: `{status: active, since: "{{ incremental.start }}"}`"""
    body: Any = None
    """JSON body of a POST request (templated). Example: `{query: "{ orders { id } }"}`"""
    auth: Auth | None = None
    """Authentication for this table, instead of the connection's. Example: `{type: api_key, key: "{{ env.KEY }}", param: key}`"""
    pagination: Pagination | None = None
    """How pages are followed, chosen by `type`; default a single request. Example: `{type: cursor, cursor_field: next_cursor}`"""
    response: Response = Field(default_factory=Response)
    """Where the records are in the answer and which answers are failures. Example: `{root_key: data}`"""
    rate_limit: RateLimit | None = None
    """Overrides the connection's rate limit field by field; `null` disables it. Example: `{requests_per_second: 1}`"""
    schema_: list[SchemaField] | None = Field(default=None, alias="schema")
    """Declared columns with types; default inferred from the records. Example: `[{name: id, type: long, nullable: false}]`"""
    columns: Columns | None = None
    """Which columns are kept. Example: `{exclude: [raw]}`"""
    primary_key: StrList | None = None
    """Columns identifying a row; rows are merged on them. Example: `[id]`"""
    append_only: bool = False
    """Append every synced row instead of merging on `primary_key`. Example: `true`"""
    incremental: Incremental | None = None
    """Sync only what changed since the last run, tracked by a cursor column. Example: `{cursor_field: updated_at, param: updated_since}`"""
    partitions: Partitions | None = None
    """Split the table into time partitions, one request window each. Example: `{type: daily, start: 2026-01-01}`"""
    parent: Parent | None = None
    """Make one request per row of another table of the pipeline. Example: `{table: customers, fields: {id: customer_id}}`"""
    fan_out: dict[str, list[str | int | float | bool] | str] | None = None
    """One request stream per combination of values (cartesian product), each value usable as
    ``{{ fan.NAME }}`` and written as a column, e.g. ``{site_url: [a, b], search_type: [web, news]}``;
    a value may also be a template giving a JSON list, e.g. ``"{{ env.SITES }}"``."""
    job: Job | None = None
    """Asynchronous report instead of a paged endpoint: create a job, poll it, download its files,
    e.g. ``{create: {path: /reports, id_path: report.id}, poll: {path: "/reports/{{ job.id }}",
    status_path: report.status, done: [done]}, download: {urls_path: report.files}}``."""
    max_pages: PositiveInt | None = None
    """Stop after this many pages per run (logged). Example: `100`"""
    max_records: PositiveInt | None = None
    """Stop after this many records per run (logged). Example: `10000`"""
    location: str | None = None
    """Where the table's Delta table lives instead of `<pipeline key>/<table key>` under the destination
    connection's path: a relative path under it (`.` is the path itself) or an absolute URI.
    Example: `crm/customers`"""
    request: DestinationRequest | None = None
    """REST destinations: overrides the pipeline's ``destination.request`` for this table. Example: `{path: /contacts, method: PUT}`"""
    owners: list[str] = Field(default_factory=list)
    """Asset owners shown in the UI (e-mail addresses or `team:` names). Example: `[team:data]`"""
    tags: dict[str, str] = Field(default_factory=dict)
    """Asset tags shown in the UI. Example: `{domain: crm}`"""

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
    """REST destinations: how rows are sent; required when the destination connection is REST. Example: `{path: /contacts, method: POST}`"""


class Sync(Model):
    frequency: PositiveInt | None = None
    """Minutes between scheduled runs of the pipeline. Example: `60`"""
    source_frequency: PositiveInt | None = None
    """Minutes between extraction runs (goes with `destination_frequency`). Example: `15`"""
    destination_frequency: PositiveInt | None = None
    """Minutes between delivery runs: REST push or Delta table maintenance (goes with `source_frequency`). Example: `60`"""
    cron: str | None = None
    """Cron expression for the schedule, instead of `frequency`. Example: `0 6 * * *`"""
    timezone: str = "UTC"
    """IANA time zone of the schedule. Example: `Europe/Berlin`"""
    enabled: bool = True
    """Whether the schedules start running (otherwise they are created stopped). Example: `false`"""
    auto_sync_new_tables: bool = False
    """Materialize a table as soon as it is added to the definition, without waiting for the schedule. Example: `true`"""

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
    """Id of a hook document. Example: `ops_webhook`"""
    events: list[HookEvent] = Field(min_length=1)
    """Events that fire the hook. Example: `[pipeline_failed, pipeline_succeeded]`"""


class Pipeline(Model):
    definition_version: Literal[1]
    """Version of the definition format; always 1. Example: `1`"""
    name: NonBlank
    """Pipeline name; its key (lower-case, other characters as `_`) prefixes asset keys and job names. Example: `CRM sync`"""
    description: str | None = None
    """What the pipeline does, shown in the UI. Example: `Customers and orders from the CRM`"""
    source: ConnectionRef
    """The REST connection records are read from. Example: `{connection: {id: crm_api}}`"""
    destination: Destination
    """The Delta or REST connection rows are written to. Example: `{connection: {id: lake}}`"""
    staging: ConnectionRef | None = None
    """A Delta connection for what a REST destination keeps (staged rows, delivery log, rejects); default under the restsync home. Example: `{connection: {id: lake}}`"""
    sync: Sync
    """When the pipeline runs. Example: `{frequency: 60, enabled: false}`"""
    tables: list[Table] = Field(min_length=1)
    """The tables to sync, one asset each. Example: `[{name: customers, primary_key: [id]}]`"""
    transformations: list[Transformation] = Field(default_factory=list)
    """Changes applied in order to the rows before they are written. Example: `[{type: exclude_fields, config: {fields: [raw]}}]`"""
    hooks: list[HookRef] = Field(default_factory=list)
    """Notification hooks and the events that fire them. Example: `[{id: ops_webhook, events: [pipeline_failed]}]`"""
    owners: list[str] = Field(default_factory=list)
    """Owners of every asset of the pipeline, shown in the UI. Example: `[data@example.com]`"""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags of every asset of the pipeline. Example: `{team: growth}`"""

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

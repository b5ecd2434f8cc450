"""One table sync, end to end, without Dagster: render → page → type → transform → one Delta commit.

The Dagster asset, the CLI and the tests all call ``run_table_sync``; it only needs the loaded
project, the table and (for partitioned tables) the partition window.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from .config import Project
from .config.common import parse_duration
from .config.connection import DeltaConnection, RestConnection
from .config.pipeline import Pipeline, Table, parse_instant
from .config.templating import Renderer
from .errors import RestSyncError
from .config.columns import output_columns
from .http import RequestStats, RestClient, iter_pages
from .lake import read_cursor, read_table_keys, sync_table, table_uri
from .lake.checks import run_checks
from .secrets import GLOBAL, Secrets

log = logging.getLogger("restsync.engine")

Window = tuple[str, datetime, datetime]

#: Set by the CLI to draw a progress bar: called with (table key, page number, records in the page).
progress_hook: Callable[[str, int, int], None] | None = None


@dataclass
class TableSyncResult:
    pipeline: str
    table: str
    table_uri: str
    rows: int = 0
    table_rows: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    wait_s: float = 0.0
    bytes_received: int = 0
    cursor_before: Any = None
    cursor_after: Any = None
    version: int | None = None
    schema: list[tuple[str, str]] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)
    elapsed_s: float = 0.0
    partition: str | None = None

    def preview_markdown(self, limit: int = 10) -> str:
        rows = self.preview[:limit]
        if not rows:
            return "_no rows_"
        cols = list(rows[0])
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in rows:
            lines.append("| " + " | ".join(_cell(row.get(c)) for c in cols) + " |")
        return "\n".join(lines)

    def combined(self, earlier: list["TableSyncResult"]) -> "TableSyncResult":
        """Totals of a single-run backfill over several partitions, ending with this one."""
        out = replace(self)
        for r in earlier:
            out.rows += r.rows
            out.pages += r.pages
            out.requests += r.requests
            out.retries += r.retries
            out.wait_s += r.wait_s
            out.bytes_received += r.bytes_received
            out.elapsed_s += r.elapsed_s
        return out


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."


def lake_location(project: Project, pipeline: Pipeline, renderer: Renderer) -> tuple[str, dict[str, str]]:
    """Root URI and storage options where this pipeline's tables land (destination or staging)."""
    destination = project.connection(pipeline.destination.connection.id)
    if isinstance(destination, DeltaConnection):
        delta = destination
    elif pipeline.staging is not None:
        delta = project.connection(pipeline.staging.connection.id)
    else:
        return ".restsync/staging", {}
    root = renderer.render_str(delta.path, where=f"connection {delta.id} path")
    options = renderer.render(delta.storage_options, where=f"connection {delta.id} storage_options")
    return root, options


def _incremental_start(table: Table, cursor: Any) -> Any:
    inc = table.incremental
    start = cursor if cursor is not None else inc.initial_value
    if start is None or not inc.lookback:
        return start
    delta = parse_duration(inc.lookback)
    if isinstance(start, (int, float)) and not isinstance(start, bool):
        return start - delta.total_seconds()
    try:
        instant = parse_instant(start)
    except ValueError:
        return start
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return (instant - delta).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Prepared:
    """Everything a table's requests need, rendered for one run."""

    uri: str
    storage_options: dict[str, str]
    client: RestClient
    source_id: str
    context: dict[str, Any]
    params_extra: dict[str, Any]
    cursor_before: Any
    requests: Callable[[], Iterator[tuple[Table, dict]]]
    where: str


def prepare(
    project: Project, pipeline: Pipeline, table: Table, *, partition: Window | None = None, secrets: Secrets = GLOBAL
) -> Prepared:
    renderer = Renderer(secrets)
    root, storage_options = lake_location(project, pipeline, renderer)
    uri = table_uri(root, pipeline.key, table.key)
    source = project.connection(pipeline.source.connection.id)
    if not isinstance(source, RestConnection):
        raise RestSyncError(f"pipeline {pipeline.name!r}: table {table.name!r} reads a Delta source; it is delivered, not synced")
    now = datetime.now(timezone.utc)
    context: dict[str, Any] = {"dt": (partition[1] if partition else now).date().isoformat()}
    if partition is not None:
        key, start, end = partition
        context["partition"] = {"key": key, "start": _iso(start), "end": _iso(end)}
    cursor_before = None
    params_extra: dict[str, Any] = {}
    if table.incremental is not None:
        cursor_before = read_cursor(uri, storage_options)
        start_value = _incremental_start(table, cursor_before)
        context["incremental"] = {"start": start_value, "end": _iso(now)}
        if table.incremental.param:
            params_extra[table.incremental.param] = start_value
    connection = renderer.render_model(source, {"dt": context["dt"]}, where=f"connection {source.id}")
    where = f"pipeline {pipeline.name!r} table {table.name!r}"
    return Prepared(
        uri=uri,
        storage_options=storage_options,
        client=get_client(connection, secrets=secrets),
        source_id=str(source.id),
        context=context,
        params_extra=params_extra,
        cursor_before=cursor_before,
        requests=lambda: _requests(project, pipeline, table, renderer, context, root, storage_options, where),
        where=where,
    )


def iter_records(prep: Prepared, table: Table, stats: RequestStats, *, max_pages: int | None = None, prefetch: bool = True) -> Iterator[tuple[Any, list[dict]]]:
    """(page, records) over every request of the table; child records get their parent's fields."""
    for rendered, extra in prep.requests():
        for page in iter_pages(
            prep.client,
            rendered,
            connection_name=prep.source_id,
            table_name=table.name,
            params_extra=prep.params_extra,
            stats=stats,
            max_pages=max_pages,
            prefetch=prefetch,
        ):
            records = page.records
            parent_values = extra.get("parent")
            if parent_values:
                for record in records:
                    for name, value in parent_values.items():
                        record.setdefault(name, value)
            yield page, records


def run_table_sync(
    project: Project,
    pipeline: Pipeline,
    table: Table,
    *,
    run_id: str,
    partition: Window | None = None,
    log: Any = log,
    secrets: Secrets = GLOBAL,
) -> TableSyncResult:
    started = time.monotonic()
    prep = prepare(project, pipeline, table, partition=partition, secrets=secrets)
    uri, storage_options, cursor_before, where = prep.uri, prep.storage_options, prep.cursor_before, prep.where
    stats = RequestStats()

    def pages() -> Iterator[list[dict]]:
        for page, records in iter_records(prep, table, stats):
            if progress_hook is not None:
                progress_hook(table.key, page.number, len(records))
            yield records

    log.info(f"syncing {where} into {uri}" + (f" (partition {partition[0]})" if partition else ""))
    result = sync_table(
        pages(),
        table=table,
        transformations=pipeline.transformations_for(table),
        table_uri=uri,
        storage_options=storage_options,
        run_id=run_id,
        partition_key=partition[0] if partition else None,
        cursor_before=cursor_before,
    )
    out = TableSyncResult(
        pipeline=pipeline.key,
        table=table.key,
        table_uri=uri,
        rows=result.rows,
        pages=stats.pages,
        requests=stats.requests,
        retries=stats.retries,
        wait_s=stats.waited_s,
        bytes_received=stats.bytes_received,
        cursor_before=cursor_before,
        cursor_after=result.cursor_after,
        version=result.version,
        schema=list(result.schema),
        preview=list(result.preview),
        added_columns=list(result.added_columns),
        partition=partition[0] if partition else None,
    )
    transforms = [(i, t) for i, t in enumerate(pipeline.transformations_for(table))]
    expected, _ = output_columns(table, 0, transforms)
    renames = {old: new for _, t in transforms if t.type == "rename_fields" for old, new in t.config.mapping.items()}
    out.table_rows, out.checks = run_checks(
        uri,
        storage_options,
        table=table,
        expected_columns=expected,
        primary_key=[renames.get(k, k) for k in table.primary_key or []],
        cursor_before=cursor_before,
        cursor_after=result.cursor_after,
    )
    out.elapsed_s = time.monotonic() - started
    log.info(f"{where}: {out.rows} rows, {out.pages} pages, {out.requests} requests, version {out.version}")
    return out


_CLIENTS: dict[str, RestClient] = {}
_CLIENTS_LOCK = threading.Lock()


def get_client(connection: RestConnection, *, secrets: Secrets) -> RestClient:
    """One client per (rendered) connection per process, so tables share keep-alive and tokens."""
    key = connection.model_dump_json()
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = RestClient(connection, secrets=secrets)
        return client


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _requests(project, pipeline, table, renderer, context, root, storage_options, where) -> Iterator[tuple[Table, dict]]:
    """The rendered table once, or once per parent row for child tables."""
    if table.parent is None:
        yield renderer.render_model(table, context, where=where), {}
        return
    parent = pipeline.table(table.parent.table)
    parent_uri = table_uri(root, pipeline.key, parent.key)
    columns = list(table.parent.fields)
    for row in read_table_keys(parent_uri, columns, storage_options):
        values = {alias: row[column] for column, alias in table.parent.fields.items()}
        yield renderer.render_model(table, {**context, "parent": values}, where=where), {"parent": values}


def run_table_delivery(
    project: Project, pipeline: Pipeline, table: Table, *, run_id: str, secrets: Secrets = GLOBAL
) -> Any:
    """Push a table's new and changed rows to the pipeline's REST destination.

    Rows come from the staged Delta table of a REST → REST pipeline, or from the existing table
    ``<source path>/<table name>`` of a Delta source. Raises ``DeliveryError`` (carrying ``.result``)
    when records were rejected or left pending.
    """
    from .delivery import deliver_table
    from .lake import iter_table_batches

    renderer = Renderer(secrets)
    staging_root, staging_options = lake_location(project, pipeline, renderer)
    source = project.connection(pipeline.source.connection.id)
    if isinstance(source, DeltaConnection):
        root = renderer.render_str(source.path, where=f"connection {source.id} path")
        uri = f"{root.rstrip('/')}/{table.name.strip('/')}"
        options = renderer.render(source.storage_options, where=f"connection {source.id} storage_options")
    else:
        uri, options = table_uri(staging_root, pipeline.key, table.key), staging_options
    destination = project.connection(pipeline.destination.connection.id)
    request = pipeline.request_for(table)
    connection = renderer.render_model(destination, {}, where=f"connection {destination.id}")
    request = renderer.render_model(request, {}, where=f"pipeline {pipeline.name!r} table {table.name!r} request")
    column_types = {f.name: f.type for f in table.schema_ or []}
    log.info(f"delivering {uri} to {destination.id} ({request.method} {request.url or request.path})")
    return deliver_table(
        iter_table_batches(uri, options),
        client=get_client(connection, secrets=secrets),
        request=request,
        key_columns=list(request.key or table.primary_key or []),
        staging_root=staging_root,
        storage_options=staging_options,
        pipeline_key=pipeline.key,
        table_key=table.key,
        table_name=table.name,
        run_id=run_id,
        secrets=secrets,
        column_types=column_types or None,
        max_workers=(connection.rate_limit.max_concurrency if connection.rate_limit else None),
    )

"""One table sync, end to end, without Dagster: render → page → type → transform → one Delta commit.

The Dagster asset, the CLI and the tests all call ``run_table_sync`` with the loaded project, the
table, the source connection's open :class:`RestClient` (the Dagster resource owns it for a run;
other callers use :func:`open_client`) and, for partitioned tables, the partition window. Nothing
here is process-wide: progress goes to an explicit ``on_page`` callback.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from .config import Project
from .config.common import parse_duration
from .config.connection import DeltaConnection, RestConnection
from .config.pipeline import Incremental, Pipeline, Table, parse_instant
from .config.templating import Renderer
from .errors import RestSyncError, TemplateError
from .home import restsync_home
from .config.columns import key_columns, output_columns
from .http import RequestStats, RestClient, iter_pages
from .http.jobs import iter_job_pages
from .lake import WriteResult, read_cursor, sync_table, table_uri
from .lake.arrow_rows import RecordPlan
from .lake.checks import run_checks
from .lake.storage import with_commit_safety
from .secrets import GLOBAL, Secrets
from .streams import record_values, request_streams
from .windows import Window as IncrementalWindow, WindowedPages, split_windows

log = logging.getLogger("restsync.engine")

Window = tuple[str, datetime, datetime]

OnPage = Callable[[str, int, int], None]
"""Called after each page with (table key, page number, records in the page); the CLI draws progress."""


@dataclass
class TableSyncResult:
    """One table's sync: what was fetched, what the lake wrote, and the table after it.

    Each counter lives in one place: requests, pages, retries, waits and bytes in ``fetch``; records
    synced, version, schema, preview, cursors and partition in ``write``.
    """

    pipeline: str
    table: str
    fetch: RequestStats
    """The HTTP side: requests, skipped requests, retries, waits, bytes and pages received."""
    write: WriteResult
    """The lake side: records synced, the commit, the table's schema, a preview and the cursors."""
    table_rows: int = 0
    """Rows in the table after the sync (current rows of a history table)."""
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)
    """Post-write checks by name: (passed, details)."""
    elapsed_s: float = 0.0

    def combined(self, earlier: list[TableSyncResult]) -> TableSyncResult:
        """Totals of a single-run backfill over several partitions, ending with this one."""
        runs = [*earlier, self]
        fetch = RequestStats()
        for run in runs:
            fetch.add(run.fetch)
        write = replace(
            self.write,
            rows=sum(r.write.rows for r in runs),
            pages=sum(r.write.pages for r in runs),
            batches=sum(r.write.batches for r in runs),
            rows_written=sum(r.write.rows_written for r in runs),
            files_added=sum(r.write.files_added for r in runs),
        )
        return replace(self, fetch=fetch, write=write, elapsed_s=sum(r.elapsed_s for r in runs))


Lake = tuple[str, dict[str, str]]
"""Root URI and storage options of the Delta lake where a pipeline's tables land."""


def lake_connection(project: Project, pipeline: Pipeline) -> DeltaConnection | None:
    """The Delta connection a pipeline's tables land in (destination or staging); None: the default staging."""
    destination = project.connection(pipeline.destination.connection.id)
    if isinstance(destination, DeltaConnection):
        return destination
    if pipeline.staging is not None:
        return project.connection_of(pipeline.staging.connection.id, DeltaConnection)
    return None


def render_lake(connection_id: object, path: str, storage_options: dict[str, str], renderer: Renderer) -> Lake:
    root = renderer.render_str(path, where=f"connection {connection_id} path")
    if not root.strip():
        raise TemplateError(f"connection {connection_id} path rendered to an empty string; set it (or the variable it reads) to a folder or URI")
    options = renderer.render(storage_options, where=f"connection {connection_id} storage_options")
    return root, with_commit_safety(root, options)


def lake_location(project: Project, pipeline: Pipeline, renderer: Renderer) -> Lake:
    """Where this pipeline's tables land: its Delta connection, else ``$DAGSTER_HOME/restsync/staging``."""
    delta = lake_connection(project, pipeline)
    if delta is None:
        return str(restsync_home(project_root=project.root.resolve().parent) / "staging"), {}
    return render_lake(delta.id, delta.path, delta.storage_options, renderer)


def _incremental_start(inc: Incremental, cursor: Any, initial_value: Any) -> Any:
    start = cursor if cursor is not None else initial_value
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
    windows: list[IncrementalWindow] | None = None
    """The incremental windows of this run (``incremental.window``), in request order."""


def prepare(
    project: Project,
    pipeline: Pipeline,
    table: Table,
    *,
    client: RestClient,
    partition: Window | None = None,
    secrets: Secrets = GLOBAL,
    lake: Lake | None = None,
) -> Prepared:
    """Render a table for one run; ``lake`` overrides where it lands (the Delta resource's location)."""
    renderer = Renderer(secrets)
    root, storage_options = lake or lake_location(project, pipeline, renderer)
    uri = table_uri(root, pipeline.key, table.key, table.location)
    source = project.connection(pipeline.source.connection.id)
    if not isinstance(source, RestConnection):
        raise RestSyncError(f"pipeline {pipeline.name!r}: table {table.name!r} reads a Delta source; it is delivered, not synced")
    now = datetime.now(timezone.utc)
    context: dict[str, Any] = {"dt": (partition[1] if partition else now).date().isoformat()}
    if partition is not None:
        key, start, end = partition
        context["partition"] = {"key": key, "start": _iso(start), "end": _iso(end)}
    where = f"pipeline {pipeline.name!r} table {table.name!r}"
    cursor_before = None
    params_extra: dict[str, Any] = {}
    windows = None
    if table.incremental is not None:
        cursor_before = read_cursor(uri, storage_options)
        inc, bounds = table.incremental, {"dt": context["dt"]}
        initial = renderer.render(inc.initial_value, bounds, where=f"{where} incremental.initial_value")
        until = _iso(now) if inc.end is None else renderer.render(inc.end, bounds, where=f"{where} incremental.end")
        start_value = _incremental_start(inc, cursor_before, initial)
        context["incremental"] = {"start": start_value, "end": until}
        if inc.param:
            params_extra[inc.param] = start_value
        if inc.window is not None:
            windows = split_windows(start_value, until, inc.window)
    return Prepared(
        uri=uri,
        storage_options=storage_options,
        client=client,
        source_id=str(source.id),
        context=context,
        params_extra=params_extra,
        cursor_before=cursor_before,
        requests=lambda: _requests(project, pipeline, table, renderer, context, root, storage_options, where, windows),
        where=where,
        windows=windows,
    )


def iter_records(prep: Prepared, table: Table, stats: RequestStats, *, max_pages: int | None = None, prefetch: bool = True,
                 on_stream: Callable[[dict], None] | None = None,
                 record_plan: RecordPlan | None = None) -> Iterator[tuple[Any, list[dict]]]:
    """(page, records) over every request stream of the table, in stream order; records get their
    stream's parent and fan-out values. ``on_stream(extra)`` is called before each stream's pages.
    ``record_plan`` lets a table without parent or fan-out values parse its pages with Arrow's reader.

    Several streams (one per parent row or fan-out combination) are requested concurrently, up to
    the table's ``rate_limit.max_concurrency``, each through the connection's shared budget; their
    pages are still yielded stream by stream, so the result is that of a sequential walk.
    """
    width = stream_concurrency(prep, table, max_pages)
    streams = prep.requests()
    if width <= 1:
        for rendered, extra in streams:
            if on_stream is not None:
                on_stream(extra)
            yield from _stream_pages(prep, table, rendered, extra, stats, max_pages=max_pages, prefetch=prefetch,
                                     record_plan=record_plan)
        return
    with ThreadPoolExecutor(width, thread_name_prefix="restsync-stream") as pool:
        ahead: deque[tuple[dict, Future]] = deque()
        try:
            for rendered, extra in streams:
                ahead.append((extra, pool.submit(_fetch_stream, prep, table, rendered, extra, max_pages)))
                if len(ahead) > width:
                    yield from _drain(ahead.popleft(), stats, on_stream)
            while ahead:
                yield from _drain(ahead.popleft(), stats, on_stream)
        finally:
            for _, future in ahead:
                future.cancel()


def stream_concurrency(prep: Prepared, table: Table, max_pages: int | None = None) -> int:
    """How many request streams run at once: the table's ``max_concurrency`` when it has streams
    per parent row or fan-out value; windows and report jobs stay one after another."""
    if (table.parent is None and not table.fan_out) or prep.windows is not None or table.job is not None or max_pages:
        return 1
    policy = prep.client.policy_for(table)
    return max(1, policy.max_concurrency or 1) if policy is not None else 1


def _stream_pages(prep: Prepared, table: Table, rendered: Table, extra: dict, stats: RequestStats, *,
                  max_pages: int | None, prefetch: bool,
                  record_plan: RecordPlan | None = None) -> Iterator[tuple[Any, list[dict]]]:
    values = record_values(extra)
    if rendered.job is not None:
        source = partial(iter_job_pages, render=extra["render"])
    else:
        source = partial(iter_pages, page_render=extra.get("page_render"),
                         record_plan=None if values else record_plan)
    for page in source(
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
        if values:
            for record in records:
                for name, value in values.items():
                    record.setdefault(name, value)
        yield page, records


def _fetch_stream(prep: Prepared, table: Table, rendered: Table, extra: dict, max_pages: int | None
                  ) -> tuple[RequestStats, list[tuple[Any, list[dict]]]]:
    """One whole stream on a worker thread, with its own counters (merged by the consumer)."""
    own = RequestStats()
    return own, list(_stream_pages(prep, table, rendered, extra, own, max_pages=max_pages, prefetch=False))


def _drain(item: tuple[dict, Future], stats: RequestStats, on_stream: Callable[[dict], None] | None
           ) -> Iterator[tuple[Any, list[dict]]]:
    extra, future = item
    own, pages = future.result()
    stats.add(own)
    if on_stream is not None:
        on_stream(extra)
    yield from pages


def run_table_sync(
    project: Project,
    pipeline: Pipeline,
    table: Table,
    *,
    client: RestClient,
    run_id: str,
    partition: Window | None = None,
    log: Any = log,
    secrets: Secrets = GLOBAL,
    on_page: OnPage | None = None,
    lake: Lake | None = None,
) -> TableSyncResult:
    started = time.monotonic()
    prep = prepare(project, pipeline, table, client=client, partition=partition, secrets=secrets, lake=lake)
    uri, storage_options, cursor_before, where = prep.uri, prep.storage_options, prep.cursor_before, prep.where
    stats = RequestStats()
    windowed = WindowedPages(prep.windows, where=where) if prep.windows is not None else None
    plan = RecordPlan() if table.parent is None and not table.fan_out and table.job is None else None

    def pages() -> Iterator[list[dict]]:
        for page, records in iter_records(prep, table, stats, on_stream=windowed.on_stream if windowed else None,
                                          record_plan=plan):
            if on_page is not None:
                on_page(table.key, page.number, len(records))
            yield records

    log.info(f"syncing {where} into {uri}" + (f" (partition {partition[0]})" if partition else ""))
    transformations = pipeline.transformations_for(table)
    result = sync_table(
        windowed.pages(pages()) if windowed else pages(),
        table=table,
        transformations=transformations,
        table_uri=uri,
        storage_options=storage_options,
        run_id=run_id,
        partition_key=partition[0] if partition else None,
        cursor_before=cursor_before,
        settle_cursor=(lambda computed: windowed.settle_cursor(computed, cursor_before)) if windowed else None,
        record_plan=plan,
    )
    if windowed is not None:
        windowed.raise_if_failed(result.version)
    expected, _ = output_columns(table, 0, list(enumerate(transformations)))
    table_rows, checks = run_checks(
        uri,
        storage_options,
        table=table,
        expected_columns=expected,
        primary_key=key_columns(table, transformations),
        cursor_before=cursor_before,
        cursor_after=result.cursor_after,
    )
    log.info(f"{where}: {result.rows} rows, {stats.pages} pages, {stats.requests} requests, version {result.version}")
    return TableSyncResult(
        pipeline=pipeline.key,
        table=table.key,
        fetch=stats,
        write=result,
        table_rows=table_rows,
        checks=checks,
        elapsed_s=time.monotonic() - started,
    )


@contextmanager
def open_client(
    project: Project, connection_id: object, *, secrets: Secrets = GLOBAL, overrides: dict[str, Any] | None = None
) -> Iterator[RestClient]:
    """The client of a REST connection, rendered with ``secrets`` and closed on exit.

    ``overrides`` replaces top-level fields (``base_url``, ``auth``) before rendering; the Dagster
    resource uses it to apply its configured values. For callers outside Dagster (CLI, tests).
    """
    connection = project.connection(connection_id)
    if not isinstance(connection, RestConnection):
        raise RestSyncError(f"connection {connection_id!r} is a Delta connection; it has no HTTP client")
    with rendered_client(connection, secrets=secrets, overrides=overrides) as client:
        yield client


@contextmanager
def rendered_client(
    connection: RestConnection, *, secrets: Secrets = GLOBAL, overrides: dict[str, Any] | None = None
) -> Iterator[RestClient]:
    """A client for ``connection`` after ``overrides`` and template rendering (``dt`` is today)."""
    if overrides:
        connection = connection.model_copy(update=overrides)
    today = datetime.now(timezone.utc).date().isoformat()
    rendered = Renderer(secrets).render_model(connection, {"dt": today}, where=f"connection {connection.id}")
    client = RestClient(rendered, secrets=secrets)
    try:
        yield client
    finally:
        client.close()


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _requests(project: Project, pipeline: Pipeline, table: Table, renderer: Renderer, context: dict[str, Any], root: str,
              storage_options: dict[str, str], where: str, windows: list[IncrementalWindow] | None = None
              ) -> Iterator[tuple[Table, dict]]:
    """One (rendered table, extra) pair per request stream: windows × parent rows × fan-out values."""
    yield from request_streams(pipeline, table, renderer, context, root, storage_options, where, windows)


def run_table_delivery(
    project: Project,
    pipeline: Pipeline,
    table: Table,
    *,
    client: RestClient,
    run_id: str,
    secrets: Secrets = GLOBAL,
    lake: Lake | None = None,
) -> Any:
    """Push a table's new and changed rows to the pipeline's REST destination.

    Rows come from the staged Delta table of a REST → REST pipeline, or from the existing table
    ``<source path>/<table name>`` of a Delta source. Raises ``DeliveryError`` (carrying ``.result``)
    when records were rejected or left pending.
    """
    from .delivery import deliver_table
    from .lake import iter_table_batches

    renderer = Renderer(secrets)
    staging_root, staging_options = lake or lake_location(project, pipeline, renderer)
    source = project.connection(pipeline.source.connection.id)
    if isinstance(source, DeltaConnection):
        root, options = render_lake(source.id, source.path, source.storage_options, renderer)
        uri = f"{root.rstrip('/')}/{table.name.strip('/')}"
    else:
        uri, options = table_uri(staging_root, pipeline.key, table.key, table.location), staging_options
    destination = project.connection(pipeline.destination.connection.id)
    request = pipeline.request_for(table)
    request = renderer.render_model(request, {}, where=f"pipeline {pipeline.name!r} table {table.name!r} request")
    column_types = {f.name: f.type for f in table.schema_ or []}
    log.info(f"delivering {uri} to {destination.id} ({request.method} {request.url or request.path})")
    return deliver_table(
        iter_table_batches(uri, options),
        client=client,
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
        max_workers=(client.connection.rate_limit.max_concurrency if client.connection.rate_limit else None),
    )

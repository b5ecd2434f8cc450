"""``restsync ping`` and ``restsync preview``: look at a source without writing anything.

The pages come from :func:`restsync_dagster.http.preview_table`; this layer renders the table for a
run, then types and transforms the records in memory as a sync would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import Project
from .config.connection import RestConnection
from .config.pipeline import Pipeline, Table
from .engine import Prepared, Window, open_client, prepare
from .http import PingResult, RequestStats, ping
from .http import preview_table as fetch_preview
from .lake import Transformer, Typer
from .secrets import GLOBAL, Secrets


def ping_connection(project: Project, connection_id: str, *, secrets: Secrets = GLOBAL) -> PingResult:
    connection = project.connection(connection_id)
    if not isinstance(connection, RestConnection):
        return PingResult(False, None, f"connection {connection_id!r} is a Delta connection; ping tests REST connections")
    with open_client(project, connection_id, secrets=secrets) as client:
        return ping(client)


_ALL = 10**9


@dataclass
class Preview:
    decisions: list[str] = field(default_factory=list)
    schema: list[tuple[str, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    stats: RequestStats = field(default_factory=RequestStats)


def preview_table(
    project: Project, pipeline: Pipeline, table: Table, *, pages: int = 1, partition: Window | None = None, rows: int = 5
) -> Preview:
    """Fetch ``pages`` pages (of the first request, for child tables), type and transform them in memory."""
    with open_client(project, pipeline.source.connection.id) as client:
        return _preview(prepare(project, pipeline, table, client=client, partition=partition), pipeline, table, pages, rows)


def _preview(prep: Prepared, pipeline: Pipeline, table: Table, pages: int, rows: int) -> Preview:
    out = Preview()
    first = next(iter(prep.requests()), None)
    if first is None:
        return out
    rendered, extra = first
    fetched = fetch_preview(prep.client, rendered, pages=pages, max_records=_ALL, params_extra=prep.params_extra)
    out.decisions, out.stats = fetched.decisions, fetched.stats
    out.records = sum(page.records for page in fetched.pages)
    records = fetched.records
    for record in records:
        for name, value in (extra.get("parent") or {}).items():
            record.setdefault(name, value)
    if records:
        typer = Typer.for_table(table, run_id="preview")
        frame = Transformer(table, pipeline.transformations_for(table)).apply(typer.type_page(records))
        out.schema = [(name, str(dtype)) for name, dtype in frame.schema.items()]
        out.rows = frame.head(rows).to_dicts()
    return out

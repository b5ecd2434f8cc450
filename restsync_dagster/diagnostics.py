"""``restsync ping`` and ``restsync preview``: look at a source without writing anything.

The pages come from the engine's own request streams (windows, fan-out values, parent rows, report
jobs), typed and transformed in memory as a sync would; every decision is listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .config import Project
from .config.connection import RestConnection
from .config.pipeline import Pipeline, Table
from .engine import Prepared, Window, iter_records, open_client, prepare
from .http import PingResult, RequestStats, ping
from .lake import Transformer, Typer
from .secrets import GLOBAL, Secrets
from .streams import describe
from .windows import windows_line


def ping_connection(project: Project, connection_id: str, *, secrets: Secrets = GLOBAL) -> PingResult:
    connection = project.connection(connection_id)
    if not isinstance(connection, RestConnection):
        return PingResult(False, None, f"connection {connection_id!r} is a Delta connection; ping tests REST connections")
    with open_client(project, connection_id, secrets=secrets) as client:
        return ping(client)



@dataclass
class Preview:
    decisions: list[str] = field(default_factory=list)
    schema: list[tuple[str, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    pages: int = 0
    stats: RequestStats = field(default_factory=RequestStats)


def preview_table(
    project: Project, pipeline: Pipeline, table: Table, *, pages: int = 1, partition: Window | None = None, rows: int = 5
) -> Preview:
    """Fetch ``pages`` pages (of the first request, for child tables), type and transform them in memory."""
    with open_client(project, pipeline.source.connection.id) as client:
        return _preview(prepare(project, pipeline, table, client=client, partition=partition), pipeline, table, pages, rows)


def _preview(prep: Prepared, pipeline: Pipeline, table: Table, pages: int, rows: int) -> Preview:
    out = Preview()
    typer = Typer.for_table(table, run_id="preview")
    transformer = Transformer(table, pipeline.transformations_for(table))
    frames = []
    if prep.windows is not None:
        out.decisions.append(windows_line(prep.windows))

    def on_stream(extra: dict) -> None:
        line = describe(extra)
        if line:
            out.decisions.append(f"request stream: {line}")

    for page, records in iter_records(prep, table, out.stats, max_pages=pages, prefetch=False, on_stream=on_stream):
        out.decisions.append(f"page {page.number}: {page.decision}")
        out.records += len(records)
        frames.append(transformer.apply(typer.type_page(records)))
        out.pages += 1
        if out.pages >= pages:
            break
    if frames:
        frame = pl.concat(frames, how="diagonal_relaxed")
        out.schema = [(name, str(dtype)) for name, dtype in frame.schema.items()]
        out.rows = frame.head(rows).to_dicts()
    return out

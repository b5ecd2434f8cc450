"""Progress bar and summary for ``restsync sync``."""

from __future__ import annotations

import time

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ..config import Project
from ..config.pipeline import Pipeline
from ..secrets import GLOBAL
from .run import materialize_pipeline, select_tables

console = Console(stderr=True)


def run_sync(project: Project, pipeline: Pipeline, table_names: list[str], partition: str | None) -> int:
    try:
        tables = select_tables(pipeline, table_names)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/red]")
        return 2
    started = time.monotonic()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[table]}"),
        BarColumn(bar_width=None),
        TextColumn("{task.fields[rows]:>10,} rows  {task.fields[pages]:>6} pages  {task.fields[rate]:>9} rows/s"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks: dict[str, int] = {}
        counts: dict[str, list[float]] = {}

        def on_page(table_key: str, page: int, records: int) -> None:
            if table_key not in tasks:
                tasks[table_key] = progress.add_task("", total=None, table=table_key, rows=0, pages=0, rate="-")
                counts[table_key] = [0, 0, time.monotonic()]
            c = counts[table_key]
            c[0] += records
            c[1] += 1
            elapsed = time.monotonic() - c[2]
            rate = f"{c[0] / elapsed:,.0f}" if elapsed > 0.2 else "-"
            progress.update(tasks[table_key], rows=int(c[0]), pages=int(c[1]), rate=rate)

        results = materialize_pipeline(project, pipeline, tables, partition=partition, on_page=on_page)
    return _summary(pipeline, results, time.monotonic() - started)


def _summary(pipeline: Pipeline, results: list[dg.ExecuteInProcessResult], elapsed: float) -> int:
    table = RichTable(title=f"restsync sync {pipeline.key}")
    for column in ("table", "rows synced", "rows in table", "pages", "requests", "version", "Delta path"):
        table.add_column(column, overflow="fold")
    ok = True
    for result in results:
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
            table.add_row(
                "/".join(mat.asset_key.path[1:]),
                f"{meta.get('restsync/rows_synced', meta.get('restsync/delivered', 0)):,}",
                f"{meta.get('dagster/row_count', 0):,}",
                str(meta.get("restsync/pages", "")),
                str(meta.get("restsync/requests", "")),
                str(meta.get("restsync/table_version", "")),
                str(meta.get("restsync/table_uri", "")),
            )
        if not result.success:
            ok = False
            failure = result.get_run_failure_event()
            for event in result.all_events:
                if event.is_step_failure:
                    error = event.step_failure_data.error
                    console.print(f"[red]failed:[/red] {GLOBAL.redact(error.message.strip() if error else event.message)}")
            if failure is None:
                console.print("[red]the run failed[/red]")
    out = Console()
    if not out.is_terminal:
        out = Console(width=200)
    out.print(table)
    console.print(f"{'done' if ok else 'FAILED'} in {elapsed:.1f}s; run history in $DAGSTER_HOME ({_home()})")
    return 0 if ok else 1


def _home() -> str:
    import os

    return os.environ.get("DAGSTER_HOME", "")

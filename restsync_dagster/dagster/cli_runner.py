"""``restsync sync``: run a pipeline through Dagster, show progress, end with one clear line.

Progress is a live bar on a terminal and plain periodic lines otherwise (logs, CI). A failed run
ends with restsync's own message (the step's cause, not Dagster's wrapper) and exits with the code
of its error class (``restsync_dagster.errors``); stack traces only with ``--debug``.
"""

from __future__ import annotations

import os
import sys
import time

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ..config import Project
from ..config.pipeline import Pipeline
from ..errors import UNEXPECTED_EXIT, USAGE_EXIT
from ..secrets import GLOBAL
from .beta import deliberate_beta
from .failures import StepFailure, failure_of
from .partitions import partition_key
from .run import materialize_pipeline, select_tables

#: Seconds between two plain progress lines of one table when output is not a terminal.
PLAIN_EVERY_S = 5.0


class _Counts:
    def __init__(self) -> None:
        self.rows = 0
        self.pages = 0
        self.started = time.monotonic()
        self.printed = 0.0

    def add(self, records: int) -> None:
        self.rows += records
        self.pages += 1

    def rate(self) -> str:
        elapsed = time.monotonic() - self.started
        return f"{self.rows / elapsed:,.0f}" if elapsed > 0.2 else "-"


class PlainProgress:
    """One line per table every ``every`` seconds (and at its first page), no terminal control codes."""

    def __init__(self, console: Console, every: float = PLAIN_EVERY_S):
        self.console = console
        self.every = every
        self.counts: dict[str, _Counts] = {}

    def on_page(self, table_key: str, page: int, records: int) -> None:
        counts = self.counts.setdefault(table_key, _Counts())
        counts.add(records)
        now = time.monotonic()
        if counts.printed == 0.0 or now - counts.printed >= self.every:
            counts.printed = now
            self.line(table_key, counts)

    def line(self, table_key: str, counts: _Counts) -> None:
        self.console.print(
            f"{table_key}: {counts.rows:,} rows, {counts.pages} pages, {counts.rate()} rows/s", markup=False, highlight=False
        )

    def close(self) -> None:
        for key, counts in self.counts.items():
            self.line(key, counts)


class BarProgress:
    """A live bar per table on a terminal."""

    def __init__(self, console: Console):
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[table]}"),
            BarColumn(bar_width=None),
            TextColumn("{task.fields[rows]:>10,} rows  {task.fields[pages]:>6} pages  {task.fields[rate]:>9} rows/s"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, _Counts] = {}
        self.progress.start()

    def on_page(self, table_key: str, page: int, records: int) -> None:
        if table_key not in self.tasks:
            self.tasks[table_key] = self.progress.add_task("", total=None, table=table_key, rows=0, pages=0, rate="-")
        counts = self.counts.setdefault(table_key, _Counts())
        counts.add(records)
        self.progress.update(self.tasks[table_key], rows=counts.rows, pages=counts.pages, rate=counts.rate())

    def close(self) -> None:
        self.progress.stop()


def progress_for(console: Console) -> PlainProgress | BarProgress:
    interactive = console.is_terminal and sys.stdout.isatty() and not console.is_dumb_terminal
    return BarProgress(console) if interactive else PlainProgress(console)


def run_sync(
    project: Project,
    pipeline: Pipeline,
    table_names: list[str],
    partition: str | None,
    *,
    debug: bool = False,
    console: Console | None = None,
) -> int:
    console = console or Console(stderr=True)
    try:
        tables = select_tables(pipeline, table_names)
        for table in tables:
            if table.partitions is not None:
                partition_key(table, partition)
    except KeyError as exc:
        console.print(str(exc.args[0]), markup=False)
        return USAGE_EXIT
    started = time.monotonic()
    progress = progress_for(console)
    try:
        with deliberate_beta():
            results = materialize_pipeline(
                project, pipeline, tables, partition=partition, log_level="DEBUG" if debug else "CRITICAL", on_page=progress.on_page
            )
    finally:
        progress.close()
    return _summary(pipeline, results, time.monotonic() - started, console=console, debug=debug)


def _summary(pipeline: Pipeline, results: list[dg.ExecuteInProcessResult], elapsed: float, *, console: Console, debug: bool) -> int:
    table = RichTable(title=f"restsync sync {pipeline.key}")
    for column in ("table", "rows synced", "rows in table", "pages", "requests", "skipped", "version", "Delta path"):
        table.add_column(column, overflow="fold")
    failures: list[StepFailure] = []
    run_failed = False
    for result in results:
        for event in result.get_asset_materialization_events():
            mat = event.materialization
            meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
            table.add_row(
                "/".join(mat.asset_key.path[1:]),
                f"{meta.get('restsync/rows_synced', meta.get('restsync/delivered', 0)):,}",
                f"{meta.get('dagster/row_count', 0):,}",
                str(meta.get("restsync/pages", "")),
                str(meta.get("restsync/requests", "")),
                str(meta.get("restsync/requests_skipped", "")),
                str(meta.get("restsync/table_version", "")),
                str(meta.get("restsync/table_uri", "")),
            )
        if not result.success:
            run_failed = True
            failures += [failure_of(event) for event in result.all_events if event.is_step_failure]
    if table.row_count:
        out = Console()
        if not out.is_terminal:
            out = Console(width=200)  # a log file or a pipe: keep each row on one line
        out.print(table)
    home = os.environ.get("DAGSTER_HOME", "")
    if not run_failed:
        console.print(f"done in {elapsed:.1f}s; run history in $DAGSTER_HOME ({home})", markup=False)
        return 0
    for failure in failures:
        if debug and failure.stack:
            console.print(failure.stack, markup=False, highlight=False)
    console.print(f"FAILED in {elapsed:.1f}s; run history in $DAGSTER_HOME ({home})", markup=False)
    if not failures:
        console.print("the run failed before any table started; rerun with --debug for Dagster's log", markup=False)
        return UNEXPECTED_EXIT
    for failure in failures:
        console.print(GLOBAL.redact(failure.closing_line()), markup=False, highlight=False, soft_wrap=True)
    return failures[0].exit_code

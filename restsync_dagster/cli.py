"""The ``restsync`` command line."""

from __future__ import annotations

import atexit
import logging
import os
import sys

import click

from .config import Project, load_project, to_key
from .config.pipeline import Pipeline
from .errors import ConfigError
from .http.redact import RedactingFilter
from .secrets import GLOBAL


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(GLOBAL))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("restsync")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def _load(directory: str | None, *, strict: bool = True) -> Project:
    try:
        return load_project(directory, strict=strict)
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        click.echo(f"{len(exc.issues)} error(s); nothing was run.", err=True)
        sys.exit(1)


def _refuse_broken(project: Project, name: str) -> None:
    """Exit 1 with the document's errors if pipeline ``name`` did not load; other broken documents only warn."""
    for broken in project.broken:
        if broken.kind == "pipelines" and broken.id == to_key(name):
            for issue in broken.issues:
                click.echo(str(issue), err=True)
            click.echo(f"{len(broken.issues)} error(s) in pipeline {name!r}; nothing was run.", err=True)
            sys.exit(1)
    if project.broken:
        labels = ", ".join(b.label for b in project.broken)
        click.echo(f"warning: not loaded because invalid (see `restsync validate`): {labels}", err=True)


def describe_cadence(pipeline: Pipeline) -> str:
    sync = pipeline.sync
    if sync.cron:
        cadence = f"cron '{sync.cron}'"
    elif sync.frequency:
        cadence = f"every {sync.frequency} min"
    else:
        cadence = f"extract every {sync.source_frequency} min, deliver every {sync.destination_frequency} min"
    return cadence + ("; schedules on" if sync.enabled else "; schedules off")


def summary_line(project: Project, pipeline: Pipeline) -> str:
    source = project.connection(pipeline.source.connection.id)
    destination = project.connection(pipeline.destination.connection.id)
    n = len(pipeline.tables)
    return (
        f"{pipeline.key}: {source.id} ({source.type}) -> {destination.id} ({destination.type}), "
        f"{n} table{'s' if n != 1 else ''}, {describe_cadence(pipeline)}"
    )


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """restsync: keep Delta tables in sync with REST APIs, described in YAML."""
    _setup_logging(verbose)


@main.command()
@click.argument("directory", required=False)
def validate(directory: str | None) -> None:
    """Validate every document of DIRECTORY (default: $RESTSYNC_DEFINITIONS_DIR or definitions_yaml/)."""
    project = _load(directory, strict=False)
    for broken in project.broken:
        for issue in broken.issues:
            click.echo(str(issue), err=True)
    for pipeline in project.pipelines.values():
        click.echo(summary_line(project, pipeline))
    if project.broken:
        errors = sum(len(b.issues) for b in project.broken)
        labels = ", ".join(b.label for b in project.broken)
        click.echo(f"{errors} error(s); not loaded (the rest loads and runs): {labels}", err=True)
        sys.exit(1)
    click.echo(
        f"ok: {len(project.pipelines)} pipeline(s), {len(project.connections)} connection(s), {len(project.hooks)} hook(s)"
    )


@main.command()
@click.argument("pipeline")
@click.option("--table", "tables", multiple=True, help="Only this table (name or key); repeatable.")
@click.option("--partition", default=None, help="Partition key for partitioned tables (default: the latest).")
@click.option("--dir", "directory", default=None, help="Definitions folder.")
@click.option("--debug", is_flag=True, help="Show Dagster's log and the stack trace of a failure.")
def sync(pipeline: str, tables: tuple[str, ...], partition: str | None, directory: str | None, debug: bool) -> None:
    """Materialize PIPELINE's tables through Dagster (runs are recorded in $DAGSTER_HOME).

    Exit codes: 0 done, 1 invalid definitions, 2 usage, 3 HTTP, 4 auth, 5 schema, 6 Delta, 7 delivery,
    10 unexpected (see the README).
    """
    from .dagster.cli_runner import run_sync

    project = _load(directory, strict=False)
    _refuse_broken(project, pipeline)
    try:
        chosen = project.pipeline(pipeline)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    sys.exit(run_sync(project, chosen, list(tables), partition, debug=debug))


@main.command()
@click.argument("connection")
@click.option("--dir", "directory", default=None, help="Definitions folder.")
def ping(connection: str, directory: str | None) -> None:
    """Run CONNECTION's connection test (its ping block, or GET base_url)."""
    from .diagnostics import ping_connection

    project = _load(directory)
    try:
        result = ping_connection(project, connection)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    click.echo(("ok: " if result.ok else "FAILED: ") + GLOBAL.redact(result.detail))
    sys.exit(0 if result.ok else 1)


@main.command()
@click.argument("pipeline")
@click.argument("table")
@click.option("--pages", default=1, show_default=True, type=click.IntRange(min=1), help="Pages to fetch.")
@click.option("--partition", default=None, help="Partition key for a partitioned table (default: the latest).")
@click.option("--dir", "directory", default=None, help="Definitions folder.")
def preview(pipeline: str, table: str, pages: int, partition: str | None, directory: str | None) -> None:
    """Fetch PAGES pages of TABLE: the paginator's decisions, the inferred schema and the first rows. Writes nothing."""
    from rich.console import Console
    from rich.table import Table as RichTable

    from .diagnostics import preview_table

    project = _load(directory)
    try:
        chosen = project.pipeline(pipeline)
        target = chosen.table(table)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    window = None
    if target.partitions is not None:
        from .dagster.partitions import partition_key, partitions_def

        try:
            key = partition_key(target, partition)
        except KeyError as exc:
            raise click.UsageError(str(exc.args[0])) from None
        tw = partitions_def(target.partitions).time_window_for_partition_key(key)
        window = (key, tw.start, tw.end)
        click.echo(f"partition {key}: {tw.start.isoformat()} .. {tw.end.isoformat()}")
    try:
        result = preview_table(project, chosen, target, pages=pages, partition=window)
    except Exception as exc:
        click.echo(f"preview failed: {GLOBAL.redact(exc)}", err=True)
        sys.exit(1)
    console = Console()
    for line in result.decisions:
        console.print(GLOBAL.redact(line), markup=False, highlight=False)
    console.print(f"{result.records} records in {result.pages} page(s), {result.stats.requests} request(s)")
    schema = RichTable(title="schema")
    schema.add_column("column")
    schema.add_column("type")
    for name, dtype in result.schema:
        schema.add_row(name, dtype)
    console.print(schema)
    if result.rows:
        rows = RichTable(title=f"first {len(result.rows)} rows")
        cols = [c for c in result.rows[0] if not c.startswith("_restsync_")]
        for col in cols:
            rows.add_column(col, overflow="fold")
        for row in result.rows:
            rows.add_row(*(GLOBAL.redact("" if row[c] is None else str(row[c]))[:40] for c in cols))
        console.print(rows)


@main.command()
@click.option("--out", default="docs/reference.md", show_default=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--check", is_flag=True, help="Fail when the file differs from a fresh generation instead of writing it.")
def docs(out: str, check: bool) -> None:
    """Generate the definition reference from the models."""
    from pathlib import Path

    from .config.reference import render

    path, text = Path(out), render()
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            click.echo(f"{out} is stale; run `make docs`.", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date.")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


@main.command("demo-api")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
def demo_api(host: str, port: int) -> None:
    """Serve the bundled demo REST API the shipped examples use."""
    from .demo.server import serve

    click.echo(f"demo API on http://{host}:{port} (Ctrl+C to stop)")
    serve(host=host, port=port)


def _register_api_commands() -> None:
    from .api.commands import api_command, keys_group

    main.add_command(api_command)
    main.add_command(keys_group)


_register_api_commands()


def entry() -> None:
    """The ``restsync`` command: :func:`main`, then an exit that skips the interpreter's teardown.

    Tearing down the loaded native libraries (the Delta and Arrow runtimes, polars' thread pool)
    takes about a second after a sync has finished and printed its summary. Exit handlers still run
    and the output is flushed first.
    """
    try:
        main()
        code: int | str | None = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    entry()

"""Where restsync's time goes: its engine stages timed one by one, in one process, on the bench endpoint.

    .venv/bin/python bench/stages.py [--records N] [--schema]

Each stage re-reads the whole endpoint and adds one step, so the difference between two lines is the
cost of that step: fetch+parse (``http.iter_pages``, prefetch on), + typing (``lake.types.Typer``),
+ writing and committing (``lake.sync_table`` to a temp Delta table), then the whole engine
(``engine.run_table_sync``: the same plus post-write checks), for the Python path (orjson, typed page
by page) and for the Arrow path the engine takes for this table (``pyarrow.json`` on the fetching
threads, typed a row group at a time). It also times the fixed costs of the
CLI (importing the Dagster layer, a fresh ``DAGSTER_HOME``) and two "what if" variants: typing 64
pages at a time, and parsing page bytes with ``polars.read_json``. It uses engine internals, so it
may need updating when they change; ``run.py`` does not depend on it.
"""

from __future__ import annotations

import contextlib
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as c  # noqa: E402
from run import Server  # noqa: E402


def _timed(label: str, records: int, fn) -> float:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"{label:<58} {seconds:7.2f} s {records / seconds:>11,.0f} records/s", flush=True)
    return seconds


def _fixed_costs() -> None:
    python = str(c.PROJECT_BIN / "python")
    for label, code in (
        ("python start + import restsync CLI", "import restsync_dagster.cli"),
        ("+ import the Dagster layer (dagster, rich)", "import restsync_dagster.cli, restsync_dagster.dagster.cli_runner"),
        ("+ a fresh DAGSTER_HOME instance (sqlite schema)",
         "import restsync_dagster.dagster.run as r; r.instance().get_runs(limit=1)"),
    ):
        with tempfile.TemporaryDirectory() as home:
            started = time.perf_counter()
            subprocess.run([python, "-c", code], check=True, env={**os.environ, "DAGSTER_HOME": home}, cwd=home)
            print(f"{label:<58} {time.perf_counter() - started:7.2f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--schema", action="store_true", help="declare the 10 columns instead of inferring them")
    args = parser.parse_args(argv)

    import polars as pl

    from restsync_dagster import engine
    from restsync_dagster.config import load_project
    from restsync_dagster.http import RequestStats
    from restsync_dagster.lake import sync_table
    from restsync_dagster.lake.arrow_rows import RecordPlan, RowGroups
    from restsync_dagster.lake.types import Typer

    n = args.records
    server = Server()
    work = Path(tempfile.mkdtemp(prefix="restsync-stages-"))
    stack = contextlib.ExitStack()
    try:
        base_url = server.serve(n)
        definitions, lake = work / "definitions", work / "lake"
        c.restsync_definitions(definitions, base_url=base_url, lake=lake, declared_schema=args.schema)
        project = load_project(str(definitions))
        pipeline = project.pipeline("bench")
        table = pipeline.table("records")
        client = stack.enter_context(engine.open_client(project, pipeline.source.connection.id))
        prep = engine.prepare(project, pipeline, table, client=client)
        print(f"{n:,} records, schema {'declared' if args.schema else 'inferred'}", flush=True)

        def pages(plan=None):
            for _, records in engine.iter_records(prep, table, RequestStats(), record_plan=plan):
                yield records

        def arrow_fetch() -> None:
            plan = RecordPlan()
            groups = RowGroups(Typer.for_table(table, run_id="stages"), plan)
            count = 0
            for records in pages(plan):
                if plan.current is None:
                    list(groups.frames([records]))  # typing the first page publishes the record shape
                count += len(records)
            assert count == n, count

        def arrow_typed() -> None:
            plan = RecordPlan()
            for _ in RowGroups(Typer.for_table(table, run_id="stages"), plan).frames(pages(plan)):
                pass

        def arrow_written(uri: str):
            def run() -> None:
                plan = RecordPlan()
                sync_table(pages(plan), table=table, transformations=[], table_uri=uri, storage_options={},
                           run_id="stages", record_plan=plan)
            return run

        def fetch() -> None:
            count = sum(len(r) for r in pages())
            assert count == n, count

        def typed() -> None:
            typer = Typer.for_table(table, run_id="stages")
            for records in pages():
                typer.type_page(records)

        def typed_batched() -> None:
            typer = Typer.for_table(table, run_id="stages")
            batch: list = []
            for records in pages():
                batch.extend(records)
                if len(batch) >= 64_000:
                    typer.type_page(batch)
                    batch = []
            if batch:
                typer.type_page(batch)

        def read_json() -> None:
            for page, _ in engine.iter_records(prep, table, RequestStats()):
                pl.read_json(page.content).select(pl.col("data").explode()).unnest("data")

        def written(uri: str):
            return lambda: sync_table(pages(), table=table, transformations=[], table_uri=uri, storage_options={},
                                      run_id="stages")

        print("Python path (orjson, typed page by page):")
        _timed("fetch + parse (iter_pages)", n, fetch)
        _timed("fetch + parse + type (Typer per page)", n, typed)
        _timed("fetch + parse + type + write + commit (sync_table)", n, written(str(work / "t1")))
        print("Arrow path (what the engine uses for this table):")
        _timed("fetch + Arrow parse on the fetch threads", n, arrow_fetch)
        _timed("fetch + parse + type (row groups)", n, arrow_typed)
        _timed("fetch + parse + type + write + commit (sync_table)", n, arrow_written(str(work / "t2")))
        _timed("engine.run_table_sync (+ checks)", n,
               lambda: engine.run_table_sync(project, pipeline, table, client=client, run_id="stages"))
        print("what if:")
        _timed("  fetch + parse + type 64 pages at a time", n, typed_batched)
        _timed("  fetch + parse + polars.read_json(page bytes) per page", n, read_json)
        print("fixed costs of the CLI:")
        _fixed_costs()
    finally:
        stack.close()
        server.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

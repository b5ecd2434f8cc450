"""A 30-day backfill of one partitioned table with 1, 2 and 4 concurrent runs (``partitions.max_per_run``).

Dagster's multi-run backfill policy splits the range into runs of ``max_per_run`` partitions; this
script launches exactly those runs, each a Dagster run in its own process (as run workers would), all
at once, on one ``DAGSTER_HOME`` and one Delta table. The source is the demo API's cursor-paginated
events (144 a day, 50 a page) with ``delay`` seconds of latency per page, the part that parallel runs
overlap. For each concurrency it reports wall time, rows in the table, duplicate rows (same event id
twice) and failed runs.

The table is created first by one run of the day before the range (not timed), as a table's first
scheduled sync would. Runs that all find no table race to create it (``--no-seed``), and runs that
replace partitions already in the table conflict in delta-rs when a concurrent commit removed files;
both need restsync's commit retry on conflict.

    .venv/bin/python bench/backfill.py [--days 30] [--delay 0.2] [--concurrency 1 2 4]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SEED = date(2025, 12, 31)
START = date(2026, 1, 1)


def write_definitions(folder: Path, base_url: str, lake: Path, days: int, per_run: int, delay: float) -> None:
    (folder / "connections").mkdir(parents=True)
    (folder / "pipelines").mkdir()
    (folder / "connections" / "demo.yaml").write_text(yaml.safe_dump({"id": "demo", "type": "rest", "base_url": base_url}))
    (folder / "connections" / "lake.yaml").write_text(yaml.safe_dump({"id": "lake", "type": "delta", "path": str(lake)}))
    table = {
        "name": "events",
        "path": "/cursor/events",
        "params": {"from": "{{ partition.start }}", "to": "{{ partition.end }}", "delay": delay},
        "pagination": {"type": "cursor", "cursor_field": "meta.next_cursor", "page_size": 50},
        "response": {"root_key": "data"},
        "append_only": True,
        "partitions": {"type": "daily", "start": SEED.isoformat(), "end": (START + timedelta(days=days)).isoformat(),
                       "max_per_run": per_run},
    }
    pipeline = {"definition_version": 1, "name": "bench", "source": {"connection": {"id": "demo"}},
                "destination": {"connection": {"id": "lake"}}, "sync": {"frequency": 60}, "tables": [table]}
    (folder / "pipelines" / "bench.yaml").write_text(yaml.safe_dump(pipeline))


def worker(definitions: str, first: str, last: str) -> int:
    """One run of the backfill: the partitions ``first``..``last`` of the table, in this process."""
    import dagster as dg

    from restsync_dagster.config import load_project
    from restsync_dagster.dagster.factory import build_definitions

    defs = build_definitions(project=load_project(definitions))
    assets = list(defs.get_repository_def().assets_defs_by_key.values())
    result = dg.materialize(assets, instance=dg.DagsterInstance.get(), raise_on_error=False,
                            tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last})
    if not result.success:
        print(result.get_run_failure_event(), file=sys.stderr)
    return 0 if result.success else 1


def chunks(days: int, per_run: int) -> list[tuple[str, str]]:
    keys = [(START + timedelta(days=i)).isoformat() for i in range(days)]
    return [(keys[i], keys[min(i + per_run, days) - 1]) for i in range(0, days, per_run)]


def _cause(stderr: str) -> str:
    """The restsync error a failed run ended with (its last line naming the table)."""
    found = re.findall(r"LakeError: (.+?)(?:\\n|\n|$)", stderr)
    return found[-1] if found else stderr.strip().splitlines()[-1][-300:] if stderr.strip() else "?"


def backfill(base_url: str, days: int, runs: int, delay: float, *, seed: bool) -> dict:
    import polars as pl

    per_run = math.ceil(days / runs)
    with tempfile.TemporaryDirectory(prefix="restsync-bench-backfill-") as tmp:
        work = Path(tmp)
        write_definitions(work / "defs", base_url, work / "lake", days, per_run, delay)
        env = dict(os.environ, DAGSTER_HOME=str(work / "home"))
        (work / "home").mkdir()
        if seed:
            first = SEED.isoformat()
            subprocess.run([sys.executable, __file__, "--worker", str(work / "defs"), first, first], env=env, cwd=ROOT,
                           stdout=subprocess.DEVNULL, check=True)
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(work / "defs"), first, last], env=env,
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for first, last in chunks(days, per_run)]
        failed = [p for p in procs if p.wait() != 0]
        wall = time.perf_counter() - started
        errors = [_cause(proc.stderr.read()) for proc in failed]
        for proc in procs:
            proc.stderr.close()
        table = pl.read_delta(str(work / "lake" / "bench" / "events"))
        table = table.filter(pl.col("_restsync_partition") != SEED.isoformat())
        return {"runs": len(procs), "per_run": per_run, "wall_s": wall, "rows": table.height,
                "duplicates": table.height - table.select("id").n_unique(),
                "partitions": table.select("_restsync_partition").n_unique(), "failed": len(failed), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the demo API waits before each page")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--no-seed", action="store_true", help="let the concurrent runs create the table")
    parser.add_argument("--worker", nargs=3, metavar=("DEFINITIONS", "FIRST", "LAST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.exit(worker(*args.worker))
    from restsync_dagster.demo.server import DemoServer

    rows = []
    with DemoServer(port=0) as demo:
        for runs in args.concurrency:
            rows.append(backfill(demo.base_url, args.days, runs, args.delay, seed=not args.no_seed))
            print(rows[-1], file=sys.stderr)
    print(f"{args.days}-day backfill, {144 * args.days} events, {args.delay} s per page of 50\n")
    print("| concurrent runs | partitions per run | wall time | rows | duplicates | failed runs |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['runs']} | {r['per_run']} | {r['wall_s']:.1f} s | {r['rows']} | {r['duplicates']} | {r['failed']} |")
    for r in rows:
        for error in r["errors"]:
            print(f"\n{r['runs']} runs, a failed run: {error}")


if __name__ == "__main__":
    main()

"""Merge memory: a sync of changed rows merged into keyed tables of growing size, upsert and history.

For each table size, a keyed table is built once by the engine itself (``DeltaWriter``, one sync per
``--build-batch`` rows, as a table grown by daily syncs would be) and copied for every run. One run is
one merge in a fresh process, measured like the other benches (``bench/measure.py``: peak RSS from
``/usr/bin/time``, wall time, CPU others used meanwhile): ``--changed`` rows, half updates of existing
keys and half new keys. ``--spread range`` updates a contiguous run of keys (recent orders changing);
``--spread uniform`` updates keys drawn uniformly over the whole table, which defeats min/max pruning.
``--engines`` compares ``rewrite`` (restsync's keyed write) with ``delta-rs`` (``DeltaTable.merge``).
Nothing here needs Dagster.

    .venv/bin/python bench/merge.py [--sizes 1000000 2500000 5000000] [--changed 1000000]
        [--modes merge history] [--engines rewrite delta-rs] [--spread range uniform]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import run_measured  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
FRAME_ROWS = 64 * 1024
STATUSES = ["new", "paid", "shipped", "delivered", "returned"]


def frame(ids, version: int):
    """Rows of an orders-like table for the key array ``ids``; ``version`` changes the values."""
    import polars as pl

    return pl.DataFrame(
        {
            "id": ids,
            "customer": ((ids * 7919 + version) % 100_003).cast(pl.String).str.pad_start(8, "c"),
            "amount": (ids % 10_000) / 100.0 + version,
            "quantity": ids % 17 + version,
            "status": pl.Series(STATUSES).gather((ids + version) % len(STATUSES)),
            "updated_at": pl.repeat(T0 + timedelta(days=version), len(ids), dtype=pl.Datetime("us", "UTC"), eager=True),
        }
    )


def sync(uri: str, mode: str, engine: str, batches, version: int, run_id: str):
    import polars as pl

    from restsync_dagster.lake import DeltaWriter

    loaded = T0 + timedelta(days=version)
    with DeltaWriter(uri, mode=mode, run_id=run_id, primary_key=["id"], merge_engine=engine) as writer:
        for ids in batches:
            rows = frame(ids, version).with_columns(
                pl.lit(loaded, dtype=pl.Datetime("us", "UTC")).alias("_restsync_loaded_at"),
                pl.lit(run_id).alias("_restsync_run_id"),
            )
            writer.write(rows)
        return writer.commit()


def chunks(ids):
    for start in range(0, len(ids), FRAME_ROWS):
        yield ids.slice(start, FRAME_ROWS).alias("id")


def changed_ids(size: int, changed: int, spread: str):
    """Half updates (a contiguous range ending at 6/7 of the table, or uniform), half new keys."""
    import polars as pl

    updates = changed // 2
    if spread == "uniform":
        picked = pl.int_range(0, size, eager=True).sample(updates, seed=7).sort()
    else:
        end = size - size // 7
        picked = pl.int_range(max(0, end - updates), end, eager=True)
    return pl.concat([picked, pl.int_range(size, size + changed - updates, eager=True)])


def build(uri: str, mode: str, size: int, batch: int) -> None:
    import polars as pl

    for n, start in enumerate(range(0, size, batch)):
        sync(uri, mode, "rewrite", chunks(pl.int_range(start, min(size, start + batch), eager=True)), 0, f"build-{n}")


def merge(uri: str, mode: str, engine: str, size: int, changed: int, spread: str) -> None:
    from deltalake import DeltaTable

    started = time.perf_counter()
    result = sync(uri, mode, engine, chunks(changed_ids(size, changed, spread)), 1, "merge")
    seconds = time.perf_counter() - started
    history = DeltaTable(uri).history(1)[0]
    files = len(DeltaTable(uri).file_uris())
    print(json.dumps({
        "seconds": seconds, "inserted": result.rows_inserted, "updated": result.rows_updated,
        "files_added": result.files_added, "files_after": files, "operation": history.get("operation"),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 2_500_000, 5_000_000])
    parser.add_argument("--changed", type=int, default=1_000_000)
    parser.add_argument("--modes", nargs="+", default=["merge", "history"], choices=["merge", "history"])
    parser.add_argument("--engines", nargs="+", default=["rewrite", "delta-rs"], choices=["rewrite", "delta-rs"])
    parser.add_argument("--spread", nargs="+", default=["range", "uniform"], choices=["range", "uniform"])
    parser.add_argument("--build-batch", type=int, default=500_000, help="rows per sync when building a table")
    parser.add_argument("--work", default=os.environ.get("TMPDIR", "/tmp") + "/restsync-bench-merge")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        kind, uri, mode, *rest = args.step
        if kind == "build":
            build(uri, mode, int(rest[0]), int(rest[1]))
        else:
            merge(uri, mode, rest[0], int(rest[1]), int(rest[2]), rest[3])
        return

    work = Path(args.work)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    me = [sys.executable, str(Path(__file__).resolve())]
    print(f"{'mode':8} {'engine':9} {'spread':8} {'table':>10} {'changed':>9} {'peak RSS':>9} {'wall':>7} {'others':>7}  result")
    for mode in args.modes:
        for size in args.sizes:
            base = work / f"base-{mode}-{size}"
            if not (base / "_delta_log").exists():
                shutil.rmtree(base, ignore_errors=True)
                built = run_measured([*me, "--step", "build", str(base), mode, str(size), str(args.build_batch)],
                                     env=env, cwd=ROOT, timeout_s=args.timeout, log=work / "logs" / f"build-{mode}-{size}.log")
                if not built.ok:
                    sys.exit(f"building {base} failed:\n{built.stderr[-2000:]}")
            for spread in args.spread:
                for engine in args.engines:
                    table = work / "run"
                    shutil.rmtree(table, ignore_errors=True)
                    shutil.copytree(base, table)
                    log = work / "logs" / f"{mode}-{engine}-{spread}-{size}.log"
                    m = run_measured([*me, "--step", "merge", str(table), mode, engine, str(size), str(args.changed), spread],
                                     env=env, cwd=ROOT, timeout_s=args.timeout, log=log)
                    rss = f"{m.max_rss_kb / 1024:.0f} MB" if m.max_rss_kb else "?"
                    others = f"{100 * m.other_cpu_s / max(m.seconds, 1e-9) / (os.cpu_count() or 1):.0f} %" if m.other_cpu_s is not None else "?"
                    outcome = m.stdout.strip().splitlines()[-1] if m.ok and m.stdout.strip() else f"FAILED, see {log}"
                    print(f"{mode:8} {engine:9} {spread:8} {size:>10,} {args.changed:>9,} {rss:>9} {m.seconds:>6.1f}s {others:>7}  {outcome}", flush=True)
    shutil.rmtree(work / "run", ignore_errors=True)


if __name__ == "__main__":
    main()

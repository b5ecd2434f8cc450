"""Memory and throughput probe for ``sync_table`` (not a test; run by hand).

    .venv/bin/python bench/probe_memory.py [--rows 1000000 2000000] [--mode append|merge|overwrite]

Each size runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own. Pages of 1,000
records with 10 flat fields are generated lazily, as a paginator would hand them over. The target
is a peak RSS of at most 300 MB that does not grow from 1M to 2M rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time


def pages(total: int, page_size: int = 1000):
    for start in range(0, total, page_size):
        yield [
            {
                "id": i,
                "name": f"customer {i}",
                "email": f"user{i}@example.org",
                "amount": i * 0.25,
                "quantity": i % 97,
                "active": i % 3 == 0,
                "country": ("FR", "DE", "US", "JP")[i % 4],
                "created_at": "2026-01-01T12:34:56Z",
                "score": (i * 7919) % 10007,
                "note": None if i % 5 else "vip",
            }
            for i in range(start, min(start + page_size, total))
        ]


def child(rows: int, mode: str) -> None:
    from restsync_dagster.config.pipeline import Table
    from restsync_dagster.lake import sync_table

    fields = {"append": {"append_only": True}, "merge": {"primary_key": ["id"]}, "overwrite": {}}[mode]
    table = Table.model_validate({"name": "probe", **fields})
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = sync_table(pages(rows), table=table, transformations=[], table_uri=f"{folder}/probe",
                            storage_options={}, run_id="probe")
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": result.rows, "mode": mode, "seconds": round(elapsed, 2),
                      "rows_per_s": round(result.rows / elapsed), "files": result.files_added,
                      "baseline_rss_mb": round(baseline), "peak_rss_mb": round(peak)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 2_000_000])
    parser.add_argument("--mode", default="append", choices=["append", "merge", "overwrite"])
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.rows[0], args.mode)
        return
    for rows in args.rows:
        subprocess.run([sys.executable, __file__, "--child", "--rows", str(rows), "--mode", args.mode], check=True)


if __name__ == "__main__":
    main()

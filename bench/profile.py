"""Profile one ``restsync sync`` of the bench endpoint with py-spy and sum the samples by stage.

    .venv/bin/python bench/profile.py [--records N] [--schema] [--py-spy PATH] [--raw OUT]

py-spy is not a project dependency: install it where you like (``pip install py-spy`` in any venv)
and pass ``--py-spy`` unless it is on PATH. Samples of every thread are sorted into stages by the
innermost frame that belongs to one (imports first, then waits, then restsync's packages, the
libraries under them and Dagster), so the table reads as "seconds of thread time spent in".
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as c  # noqa: E402
from run import Server  # noqa: E402

RATE = 200
WAITS = ("Condition.wait", "Event.wait", "Future.result", "Lock.acquire", "_worker (concurrent/futures/thread.py:81)")
STAGES = [
    ("JSON parse (orjson, http/bodies)", r"parse_json \(restsync_dagster/http/bodies"),
    ("HTTP fetch (httpx, httpcore, h11, socket)", r"\((httpx|httpcore|h11|socket|selectors|ssl)[/.]"),
    ("HTTP glue (http/fetch, client, paginators)", r"restsync_dagster/http/"),
    ("typing (lake/types, casts, inference)", r"restsync_dagster/lake/(types|casts|inference|spec)\.py"),
    ("transformations (lake/transform)", r"restsync_dagster/lake/transform\.py"),
    ("file stats (lake/parts _Stats)", r"_Stats\.\w+ \(restsync_dagster/lake/parts"),
    ("Parquet write (lake/parts)", r"restsync_dagster/lake/parts\.py"),
    ("Delta open/commit (lake/delta, state, evolve)", r"restsync_dagster/lake/(delta|state|evolve)\.py"),
    ("post-write checks (lake/checks)", r"restsync_dagster/lake/checks\.py"),
    ("sync loop (lake/sync)", r"restsync_dagster/lake/sync\.py"),
    ("progress bar (rich)", r"\(rich/"),
    ("engine", r"restsync_dagster/engine\.py"),
    ("config load", r"restsync_dagster/config/"),
    ("Dagster (run, event log, sqlite)", r"\((dagster|dagster_shared|sqlalchemy|alembic)[/_]"),
]


def thread_of(frames: list[str]) -> str:
    if any("rich/live.py" in f for f in frames):
        return "progress refresh thread"
    if any("concurrent/futures/thread.py" in f for f in frames):
        return "prefetch thread"
    return "main thread"


def stage_of(frames: list[str]) -> str:
    if any("_find_and_load" in f for f in frames):
        return "imports"
    if not frames[-1] or frames[-1].startswith(WAITS):
        return "waiting (idle)"
    for frame in reversed(frames):
        for name, pattern in STAGES:
            if re.search(pattern, frame):
                return name
    return "other"


def summarize(raw: Path) -> None:
    totals: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        totals[(thread_of(frames), stage_of(frames))] += int(count)
    threads = collections.Counter()
    for (thread, _), n in totals.items():
        threads[thread] += n
    for thread, n in threads.most_common():
        print(f"{thread}: {n / RATE:.1f} s sampled")
        for (t, stage), k in totals.most_common():
            if t == thread and k / RATE >= 0.05:
                print(f"  {stage:<50} {k / RATE:6.2f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--schema", action="store_true", help="declare the 10 columns instead of inferring them")
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="the py-spy executable")
    parser.add_argument("--raw", type=Path, default=None, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args(argv)
    if not args.py_spy:
        raise SystemExit("py-spy not found: pip install py-spy (anywhere) and pass --py-spy PATH")
    server = Server()
    work = Path(tempfile.mkdtemp(prefix="restsync-profile-"))
    raw = args.raw or work / "stacks.txt"
    try:
        base_url = server.serve(args.records)
        definitions, home = work / "definitions", work / "dagster_home"
        home.mkdir()
        c.restsync_definitions(definitions, base_url=base_url, lake=work / "lake", declared_schema=args.schema)
        subprocess.run(
            [args.py_spy, "record", "--rate", str(RATE), "--format", "raw", "--output", str(raw), "--",
             *c.restsync_command(definitions)],
            env=c.bench_env(DAGSTER_HOME=str(home)), cwd=work, check=True,
        )
        summarize(raw)
    finally:
        server.stop()
        if args.raw is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

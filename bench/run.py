"""``make bench``: restsync vs dlt's ``rest_api`` source vs a bare httpx+orjson loop, side by side.

A local server (``bench/server.py``) serves ``--records`` records of 10 flat fields in pages of
1,000 behind offset pagination. The contenders run one after the other, each as a whole process:

1. ``restsync sync`` into Delta (schema inferred; then with the 10 columns declared),
2. dlt's ``rest_api`` source into Delta (``bench/.venv-dlt``, created on first use),
3. a bare loop that only fetches and parses the pages,

and then ``restsync sync`` again at ``--rss-records`` (default 1,000,000) to show whether peak
memory grows with the size of the sync. Each run is checked (row count of the Delta table, or
records parsed) and bounded by a timeout. Prints a table of records/s and peak RSS and the ratios
restsync/dlt and restsync/bare; the same figures go to ``bench/.data/`` (``last.json`` and a
time-stamped copy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as c  # noqa: E402
from measure import has_gnu_time, run_measured  # noqa: E402

DATA = c.BENCH / ".data"
TIMEOUT_S = {"restsync": 15 * 60, "dlt": 20 * 60, "bare": 10 * 60}
TARGETS = {"vs_dlt": 10.0, "vs_bare": 0.6, "rss_mb": 300.0}


@dataclass
class Result:
    name: str
    records: int
    """Records the server held for this run."""
    seconds: float | None = None
    rows: int | None = None
    """Rows found afterwards (Delta table count, or records parsed by the bare loop)."""
    max_rss_mb: float | None = None
    tree_peak_mb: float | None = None
    status: str = "ok"
    note: str = ""
    columns: list[str] = field(default_factory=list)
    cpu_s: float | None = None
    """CPU seconds (user + system) of the kept run's process tree."""
    others_pct: float | None = None
    """CPU the rest of the machine used during the kept run, in % of one core (0: a quiet machine)."""
    runs: list[float] = field(default_factory=list)
    """Seconds of every repetition; ``seconds`` is the best of them."""

    @property
    def rate(self) -> float | None:
        return self.records / self.seconds if self.ok and self.seconds else None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Server:
    """``bench/server.py`` in its own process, restarted when the record count changes."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.records = 0
        self.base_url = ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def serve(self, records: int) -> str:
        if self.proc is not None and self.records == records:
            return self.base_url
        self.stop()
        self.proc = subprocess.Popen(
            [sys.executable, str(c.BENCH / "server.py"), "--port", "0", "--records", str(records)],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("READY "):
            self.stop()
            raise SystemExit(f"bench server did not start (said {line!r})")
        self.records = records
        self.base_url = f"http://127.0.0.1:{line.split()[1]}"
        return self.base_url

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def _mb(kb: int | None) -> float | None:
    return round(kb / 1024, 1) if kb is not None else None


def _measure(result: Result, cmd: list[str], *, env: dict[str, str], cwd: Path, timeout_s: int, server: Server) -> str | None:
    """Run and fill in time/RSS/status; the process's stdout, or None when it failed."""
    log = DATA / "logs" / f"{result.name.replace(' ', '_').replace('/', '_')}.log"
    print(f"-> {result.name}: {result.records:,} records ...", flush=True)
    m = run_measured(cmd, env=env, cwd=cwd, timeout_s=timeout_s, log=log, server_pid=server.pid)
    result.runs.append(round(m.seconds, 2))
    others = round(100 * m.other_cpu_s / m.seconds, 1) if m.other_cpu_s is not None and m.seconds else None
    if result.seconds is None or m.seconds < result.seconds:
        result.seconds, result.others_pct = round(m.seconds, 2), others
        result.cpu_s = round(m.cpu_s, 1) if m.cpu_s is not None else None
    result.max_rss_mb = max(filter(None, [result.max_rss_mb, _mb(m.max_rss_kb)]), default=None)
    result.tree_peak_mb = max(filter(None, [result.tree_peak_mb, _mb(m.tree_peak_kb)]), default=None)
    if m.timed_out:
        result.status = "timeout"
        result.note = f"timeout: killed after {timeout_s} s (the {timeout_s // 60} min limit of this contender)"
    elif m.returncode != 0:
        result.status = "failed"
        result.note = f"exit {m.returncode}; see {log.relative_to(c.ROOT)}: " + " | ".join(m.stderr.strip().splitlines()[-3:])
    print(f"   {result.status} in {m.seconds:.1f} s, peak RSS {_mb(m.max_rss_kb)} MB, CPU {_fmt(m.cpu_s, '.1f')} s, "
          f"others on the machine {_fmt(others, '.0f')}% of a core", flush=True)
    if result.note:
        print(f"   {result.note}", flush=True)
    return m.stdout if result.ok else None


def _verify_table(result: Result, table: Path) -> None:
    if not result.ok:
        return
    try:
        result.rows, result.columns = c.count_delta_rows(table)
    except Exception as exc:  # noqa: BLE001 - reported as the contender's failure
        result.status, result.note = "failed", f"cannot read the Delta table at {table}: {exc}"
        return
    if result.rows != result.records:
        result.status, result.note = "wrong count", f"the Delta table has {result.rows:,} rows, expected {result.records:,}"


def run_restsync(server: Server, records: int, work: Path, *, declared_schema: bool, label: str, repeat: int) -> Result:
    result = Result(name=label, records=records)
    base_url = server.serve(records)
    for _ in range(repeat):
        run_dir = Path(tempfile.mkdtemp(prefix="restsync-", dir=work))
        definitions, lake, home = run_dir / "definitions", run_dir / "lake", run_dir / "dagster_home"
        home.mkdir()
        c.restsync_definitions(definitions, base_url=base_url, lake=lake, declared_schema=declared_schema)
        env = c.bench_env(DAGSTER_HOME=str(home))
        _measure(result, c.restsync_command(definitions), env=env, cwd=run_dir, timeout_s=TIMEOUT_S["restsync"], server=server)
        _verify_table(result, c.restsync_table(lake))
        shutil.rmtree(run_dir, ignore_errors=True)
        if not result.ok:
            break
    return result


def run_dlt(server: Server, records: int, work: Path, *, repeat: int) -> Result:
    result = Result(name="dlt rest_api", records=records)
    base_url = server.serve(records)
    for _ in range(repeat):
        run_dir = Path(tempfile.mkdtemp(prefix="dlt-", dir=work))
        out, state = run_dir / "out", run_dir / "state"
        env = c.bench_env(RUNTIME__DLTHUB_TELEMETRY="false")
        _measure(result, c.dlt_command(base_url, out, state), env=env, cwd=run_dir, timeout_s=TIMEOUT_S["dlt"], server=server)
        _verify_table(result, c.dlt_table(out))
        shutil.rmtree(run_dir, ignore_errors=True)
        if not result.ok:
            break
    return result


def run_bare(server: Server, records: int, work: Path, *, repeat: int) -> Result:
    result = Result(name="bare httpx+orjson", records=records)
    base_url = server.serve(records)
    for _ in range(repeat):
        stdout = _measure(result, c.bare_command(base_url), env=c.bench_env(), cwd=work, timeout_s=TIMEOUT_S["bare"], server=server)
        if stdout is None:
            break
        result.rows = json.loads(stdout.strip().splitlines()[-1])["records"]
        if result.rows != records:
            result.status, result.note = "wrong count", f"parsed {result.rows:,} records, expected {records:,}"
            break
    return result


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def report(results: list[Result], *, records: int, rss_records: int) -> dict:
    print()
    header = f"{'contender':<36} {'records':>11} {'seconds':>9} {'records/s':>11} {'peak RSS MB':>12} {'tree peak MB':>13} {'CPU s':>6} {'others %':>8}  status"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<36} {r.records:>11,} {_fmt(r.seconds, '.1f'):>9} {_fmt(r.rate):>11} "
              f"{_fmt(r.max_rss_mb, '.0f'):>12} {_fmt(r.tree_peak_mb, '.0f'):>13} {_fmt(r.cpu_s, '.1f'):>6} {_fmt(r.others_pct, '.0f'):>8}  {r.status}{' - ' + r.note if r.note else ''}")
    print("records/s: records / wall seconds of the whole process (start-up included), best of the repetitions; "
          "peak RSS: /usr/bin/time's maximum resident set size (largest process); tree peak: summed RSS of the "
          "process tree, sampled every 0.2 s; CPU s: user+system seconds of the contender; others %: CPU that other work "
          "on the machine used meanwhile, in % of one core (well above 0: the timing is pessimistic)")
    by = {r.name: r for r in results}
    dlt, bare = by.get("dlt rest_api"), by.get("bare httpx+orjson")
    ratios: dict[str, float | None] = {}
    print()
    for r in results:
        if not r.name.startswith("restsync") or r.records != records:
            continue
        for other, key, target in ((dlt, "dlt", TARGETS["vs_dlt"]), (bare, "bare", TARGETS["vs_bare"])):
            if other is None:
                continue
            ratio = r.rate / other.rate if r.rate and other.rate else None
            ratios[f"{r.name} / {other.name}"] = ratio
            extra = ""
            if other is dlt and other.records != r.records and ratio is not None:
                extra = f" (dlt ran at {other.records:,} records; its rate is extrapolated to {records:,})"
            verdict = "-" if ratio is None else ("meets" if ratio >= target else "MISSES")
            print(f"{r.name + ' / ' + key:<40} {_fmt(ratio, '.2f'):>7}x   target >= {target:g}x: {verdict}{extra}")
    rss = {}
    for variant in ("restsync", "restsync (declared schema)"):
        small, big = by.get(f"{variant} @{rss_records:,}"), by.get(variant)
        if small and big and small.ok and big.ok and small.max_rss_mb and big.max_rss_mb:
            growth = big.max_rss_mb - small.max_rss_mb
            rss[variant] = {"small": small.max_rss_mb, "big": big.max_rss_mb, "growth_mb": round(growth, 1)}
            flat = "flat" if growth <= 0.1 * small.max_rss_mb else "GROWS"
            cap = "meets" if big.max_rss_mb <= TARGETS["rss_mb"] else "MISSES"
            print(f"{variant} peak RSS {small.max_rss_mb:.0f} MB @{rss_records:,} -> {big.max_rss_mb:.0f} MB "
                  f"@{records:,} ({growth:+.0f} MB, {flat}); target <= {TARGETS['rss_mb']:.0f} MB: {cap}")
    return {"ratios": ratios, "rss": rss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000, help="records served (default 2,000,000)")
    parser.add_argument("--skip-dlt", action="store_true", help="do not run dlt (nor create its venv)")
    parser.add_argument("--dlt-records", type=int, default=None,
                        help="run dlt at this many records instead and extrapolate its records/s (default: --records)")
    parser.add_argument("--rss-records", type=int, default=1_000_000,
                        help="also run restsync at this size to compare peak RSS (0: skip)")
    parser.add_argument("--no-schema", action="store_true", help="skip the declared-schema restsync run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each contender this many times and keep the fastest (the machine may be shared)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (printed)")
    parser.add_argument("--latency", type=float, default=None, metavar="S",
                        help="run only the latency-bound benchmark with S seconds per request (bench/latency.py)")
    args = parser.parse_args(argv)
    if args.latency is not None:
        import latency

        DATA.mkdir(parents=True, exist_ok=True)
        out = latency.run(args.latency, skip_dlt=args.skip_dlt)
        (DATA / "latency-last.json").write_text(json.dumps(out, indent=2))
        return 0 if all(v is not None for v in out["seconds"].values()) and not any(out["notes"].values()) else 1

    dlt_version = None if args.skip_dlt else c.ensure_dlt_venv()
    DATA.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="restsync-bench-"))
    server = Server()
    results: list[Result] = []
    started = time.time()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"peak RSS from {'/usr/bin/time -v' if has_gnu_time() else 'getrusage(RUSAGE_CHILDREN)'}", flush=True)
    try:
        results.append(run_restsync(server, args.records, work, declared_schema=False, label="restsync", repeat=args.repeat))
        if not args.no_schema:
            results.append(run_restsync(server, args.records, work, declared_schema=True, label="restsync (declared schema)",
                                        repeat=args.repeat))
        if not args.skip_dlt:
            results.append(run_dlt(server, args.dlt_records or args.records, work, repeat=args.repeat))
        results.append(run_bare(server, args.records, work, repeat=args.repeat))
        if args.rss_records and args.rss_records != args.records:
            results.append(run_restsync(server, args.rss_records, work, declared_schema=False,
                                        label=f"restsync @{args.rss_records:,}", repeat=args.repeat))
            if not args.no_schema:
                results.append(run_restsync(server, args.rss_records, work, declared_schema=True,
                                            label=f"restsync (declared schema) @{args.rss_records:,}",
                                            repeat=args.repeat))
    finally:
        server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    summary = report(results, records=args.records, rss_records=args.rss_records)
    out = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "dlt": dlt_version,
        "results": [asdict(r) | {"records_per_s": r.rate} for r in results],
        **summary,
    }
    text = json.dumps(out, indent=2)
    stamped = DATA / time.strftime("results-%Y%m%d-%H%M%S.json", time.localtime(started))
    stamped.write_text(text)
    (DATA / "last.json").write_text(text)
    print(f"\nresults saved to {stamped.relative_to(c.ROOT)} (and bench/.data/last.json)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""``bench/run.py --latency S``: the latency-bound run. Real APIs answer in 50–300 ms, so a real sync
waits far more than it computes; this run measures how well each contender overlaps that waiting.

``bench/server.py --latency S`` answers every request S seconds late and serves ``RECORDS`` records
(offset pages of 100 with a total), ``PARENTS`` parents (offset pages of 100) and three children per
parent (one request each). The contenders, each a whole process, one after the other:

1. ``restsync sync``: three tables (``records``, ``parents``, ``children`` with ``parent: parents``),
   connection ``rate_limit.max_concurrency: MAX_CONCURRENCY``,
2. dlt's ``rest_api`` source with the same three resources (``bench/latency_clients.py dlt``),
3. a sequential bare httpx loop over the same requests (``bench/latency_clients.py bare``).

Prints seconds per contender and the ratios against the targets: restsync ≥ 5× dlt and
≥ 0.8 × ``max_concurrency`` × the sequential loop.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import contenders as c
from measure import run_measured

RECORDS = 20_000
PARENTS = 400
MAX_CONCURRENCY = 8
TARGET_VS_DLT = 5.0
TARGET_VS_BARE = 0.8 * MAX_CONCURRENCY
EXPECTED = {"records": RECORDS, "parents": PARENTS, "children": 3 * PARENTS}
TIMEOUT_S = 20 * 60


def _definitions(folder: Path, base_url: str, lake: Path) -> None:
    (folder / "connections").mkdir(parents=True)
    (folder / "pipelines").mkdir(parents=True)
    (folder / "connections" / "bench_api.yaml").write_text(
        f"id: bench_api\ntype: rest\nbase_url: {base_url}\ntimeout_s: 60\n"
        f"rate_limit: {{max_concurrency: {MAX_CONCURRENCY}}}\n")
    (folder / "connections" / "bench_lake.yaml").write_text(f"id: bench_lake\ntype: delta\npath: {json.dumps(str(lake))}\n")
    offset = "{type: offset, page_size: 100, total_path: total}"
    (folder / "pipelines" / "bench.yaml").write_text(
        "definition_version: 1\nname: bench\n"
        "source: {connection: {id: bench_api}}\ndestination: {connection: {id: bench_lake}}\n"
        "sync: {frequency: 60, enabled: false}\ntables:\n"
        f"  - {{name: records, path: /records, pagination: {offset}, response: {{root_key: data}}, append_only: true}}\n"
        f"  - {{name: parents, path: /parents, pagination: {offset}, response: {{root_key: data}}, append_only: true}}\n"
        "  - {name: children, path: '/parents/{{ parent.parent_id }}/children', response: {root_key: data},\n"
        "     parent: {table: parents, fields: {id: parent_id}}, append_only: true}\n")


def _serve(latency: float, trace: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(c.BENCH / "server.py"), "--port", "0", "--records", str(RECORDS),
                             "--latency", str(latency), "--parents", str(PARENTS), "--trace", str(trace)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.terminate()
        raise SystemExit(f"bench server did not start (said {line!r})")
    return proc, f"http://127.0.0.1:{line.split()[1]}"


def _run(name: str, cmd: list[str], *, env: dict[str, str], cwd: Path, server_pid: int,
         spans: dict[str, tuple[float, float]]) -> tuple[float | None, str]:
    print(f"-> {name} ...", flush=True)
    started = time.time()
    m = run_measured(cmd, env=env, cwd=cwd, timeout_s=TIMEOUT_S, log=c.BENCH / ".data" / "logs" / f"latency-{name}.log",
                     server_pid=server_pid)
    spans[name] = (started, time.time())
    others = round(100 * m.other_cpu_s / m.seconds) if m.other_cpu_s is not None and m.seconds else None
    ok = m.returncode == 0 and not m.timed_out
    print(f"   {'ok' if ok else 'FAILED'} in {m.seconds:.1f} s, others on the machine {others}% of a core", flush=True)
    return (m.seconds if ok else None), m.stdout


def _check_tables(tables: Path) -> str:
    counts = {name: c.count_delta_rows(tables / name)[0] for name in EXPECTED}
    return "" if counts == EXPECTED else f"wrong counts {counts}, expected {EXPECTED}"


def run(latency: float, *, skip_dlt: bool = False) -> dict:
    work = Path(tempfile.mkdtemp(prefix="restsync-latency-"))
    trace = work / "requests.log"
    server, base_url = _serve(latency, trace)
    seconds: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    spans: dict[str, tuple[float, float]] = {}
    try:
        home = work / "home"
        home.mkdir()
        # The first sync also creates DAGSTER_HOME's run and event storage (≈1 s); a user's later syncs
        # find it there, so the second sync (same DAGSTER_HOME, a new lake) is timed as well.
        for name in ("restsync", "restsync-2nd"):
            run_dir = work / name
            _definitions(run_dir / "definitions", base_url, run_dir / "lake")
            seconds[name], _ = _run(name, c.restsync_command(run_dir / "definitions"),
                                    env=c.bench_env(DAGSTER_HOME=str(home)), cwd=run_dir,
                                    server_pid=server.pid, spans=spans)
            if seconds[name] is not None:
                notes[name] = _check_tables(run_dir / "lake" / "bench")
        if not skip_dlt:
            c.ensure_dlt_venv()
            run_dir = work / "dlt"
            run_dir.mkdir()
            cmd = [str(c.DLT_VENV / "bin" / "python"), str(c.BENCH / "latency_clients.py"), "dlt", base_url,
                   "--out", str(run_dir / "out"), "--work", str(run_dir / "state")]
            seconds["dlt"], _ = _run("dlt", cmd, env=c.bench_env(RUNTIME__DLTHUB_TELEMETRY="false"), cwd=run_dir,
                                     server_pid=server.pid, spans=spans)
            if seconds["dlt"] is not None:
                notes["dlt"] = _check_tables(run_dir / "out" / "bench")
        cmd = [str(c.PROJECT_BIN / "python"), str(c.BENCH / "latency_clients.py"), "bare", base_url]
        seconds["bare"], stdout = _run("bare", cmd, env=c.bench_env(), cwd=work, server_pid=server.pid, spans=spans)
        if seconds["bare"] is not None:
            counts = {k: v for k, v in json.loads(stdout.strip().splitlines()[-1]).items() if k in EXPECTED}
            notes["bare"] = "" if counts == EXPECTED else f"wrong counts {counts}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        timelines = _timelines(trace, spans, latency)
        shutil.rmtree(work, ignore_errors=True)
    return report(latency, seconds, notes, timelines)


def _timelines(trace: Path, spans: dict[str, tuple[float, float]], latency: float) -> dict[str, dict[str, float]]:
    """Split each contender's wall time into start-up (until its first request reached the server), the
    span of its requests (first arrival to last answer) and wrap-up (after the last answer)."""
    if not trace.exists():
        return {}
    arrivals = [float(line.split(" ", 1)[0]) for line in trace.read_text().splitlines() if " /health" not in line]
    out = {}
    for name, (start, end) in spans.items():
        mine = [at for at in arrivals if start <= at <= end]
        if mine:
            out[name] = {"start_up_s": round(mine[0] - start, 2), "requests_s": round(mine[-1] + latency - mine[0], 2),
                         "wrap_up_s": round(end - mine[-1] - latency, 2), "requests": len(mine)}
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(b / a, 2) if a and b else None


def report(latency: float, seconds: dict[str, float | None], notes: dict[str, str],
           timelines: dict[str, dict[str, float]] | None = None) -> dict:
    requests = RECORDS // 100 + PARENTS // 100 + PARENTS
    print(f"\nlatency-bound: {latency} s per request, {requests} requests ({RECORDS:,} records in pages of 100, "
          f"{PARENTS} parents, one child request each), max_concurrency {MAX_CONCURRENCY}\n")
    timelines = timelines or {}
    print(f"{'contender':<12}{'seconds':>10}{'start-up':>10}{'requests':>10}{'wrap-up':>10}  note")
    for name, value in seconds.items():
        t = timelines.get(name, {})
        cells = "".join(f"{t[k]:>10.1f}" if k in t else f"{'-':>10}" for k in ("start_up_s", "requests_s", "wrap_up_s"))
        print(f"{name:<12}{'-' if value is None else f'{value:.1f}':>10}{cells}  {notes.get(name, '')}")
    floor = requests * latency / MAX_CONCURRENCY
    print(f"\n(start-up: until the first request reached the server; requests: first request to last answer, "
          f"floor at max_concurrency {MAX_CONCURRENCY}: {floor:.1f} s; wrap-up: after the last answer)")
    ratios = {}
    for name in ("restsync", "restsync-2nd"):
        vs_dlt = _ratio(seconds.get(name), seconds.get("dlt"))
        vs_bare = _ratio(seconds.get(name), seconds.get("bare"))
        ratios[name] = {"vs_dlt": vs_dlt, "vs_bare": vs_bare}
        print(f"\n{name + ' vs dlt:':<38}{vs_dlt}× faster (target ≥ {TARGET_VS_DLT}×)")
        print(f"{name + ' vs sequential loop:':<38}{vs_bare}× faster "
              f"(target ≥ {TARGET_VS_BARE:.1f}× = 0.8 × max_concurrency)")
    return {"latency_s": latency, "seconds": seconds, "notes": notes, "ratios": ratios,
            "targets": {"vs_dlt": TARGET_VS_DLT, "vs_bare": TARGET_VS_BARE}, "timelines": timelines}

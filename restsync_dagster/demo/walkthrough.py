"""``make demo``: start the demo API, sync every shipped REST → Delta pipeline, print where the data is."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from ..config import load_project
from ..config.connection import DeltaConnection, RestConnection
from ..dagster.cli_runner import run_sync
from ..home import dagster_home

PORT = 8765


def _start_api() -> subprocess.Popen | None:
    url = f"http://127.0.0.1:{PORT}/health"
    try:
        httpx.get(url, timeout=1)
        print(f"demo API already running on port {PORT}")
        return None
    except httpx.HTTPError:
        pass
    proc = subprocess.Popen(
        [sys.executable, "-m", "restsync_dagster.cli", "demo-api", "--port", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                print(f"demo API started on http://127.0.0.1:{PORT} (pid {proc.pid})")
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the demo API did not start on port {PORT}")


def main() -> int:
    project = load_project(None)
    home = dagster_home(project_root=project.root.resolve().parent)
    proc = _start_api()
    failures = 0
    try:
        for pipeline in project.pipelines.values():
            source = project.connection(pipeline.source.connection.id)
            destination = project.connection(pipeline.destination.connection.id)
            if isinstance(source, RestConnection) and isinstance(destination, DeltaConnection):
                print(f"\n== restsync sync {pipeline.key}")
                failures += run_sync(project, pipeline, [], None) != 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
            print("demo API stopped")
    print(
        "\nOpen the Dagster UI to see the assets, their schema, row counts and checks:\n"
        f"  DAGSTER_HOME={home} .venv/bin/dagster dev -w workspace.yaml\n"
        "then browse http://127.0.0.1:3000 (start `.venv/bin/restsync demo-api` in another shell to run syncs from the UI)."
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

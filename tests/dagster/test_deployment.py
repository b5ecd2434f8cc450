"""The deployment of the README: a code server, a webserver and a daemon as three processes sharing
one PostgreSQL, configured by ``deploy/dagster.yaml`` and ``deploy/workspace.yaml``. A schedule tick
in the daemon becomes a run started by the code server, which commits to Delta; the webserver sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from deltalake import DeltaTable

from tests.dagster.conftest import CUSTOMERS
from tests.s3server import free_port
from tests.support import write_docs

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RUNS = "{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"


def _wait(what: str, check, timeout: float, procs: list[subprocess.Popen]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"{proc.args[0]} exited with {proc.returncode} while waiting for {what}")
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"no {what} within {timeout} s")


def _scheduled_run(webserver: str):
    try:
        reply = httpx.post(f"{webserver}/graphql", json={"query": RUNS}, timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return None
    for run in reply.get("data", {}).get("runsOrError", {}).get("results", []):
        tags = {t["key"]: t["value"] for t in run["tags"]}
        if tags.get("dagster/schedule_name") == "shop_sync_schedule" and run["status"] in ("SUCCESS", "FAILURE"):
            return run
    return None


def test_schedule_tick_to_run_to_delta_commit_across_three_processes(demo_reset, tmp_path, postgres):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    lake = tmp_path / "lake"
    definitions = write_docs(tmp_path / "defs", {
        "connections/demo.yaml": {"id": "demo", "type": "rest", "base_url": demo_reset.base_url},
        "connections/lake.yaml": {"id": "lake", "type": "delta", "path": str(lake)},
        "pipelines/shop.yaml": {"definition_version": 1, "name": "shop", "source": {"connection": {"id": "demo"}},
                                "destination": {"connection": {"id": "lake"}}, "sync": {"frequency": 1},
                                "tables": [CUSTOMERS]},
    })
    code_port, web_port = free_port(), free_port()
    env = dict(os.environ, DAGSTER_HOME=str(home), **postgres.environment(postgres.create_database(f"deploy_{uuid.uuid4().hex[:8]}")),
               RESTSYNC_CODE_SERVER_HOST="127.0.0.1", RESTSYNC_CODE_SERVER_PORT=str(code_port))
    logs = tmp_path / "logs"
    logs.mkdir()
    commands = {
        "code-server": [BIN / "dagster", "code-server", "start", "-h", "127.0.0.1", "-p", str(code_port),
                        "-m", "restsync_dagster.definitions", "--location-name", "restsync"],
        "daemon": [BIN / "dagster-daemon", "run", "-w", ROOT / "deploy" / "workspace.yaml"],
        "webserver": [BIN / "dagster-webserver", "-w", ROOT / "deploy" / "workspace.yaml", "-h", "127.0.0.1", "-p", str(web_port)],
    }
    procs: list[subprocess.Popen] = []
    try:
        for name, command in commands.items():
            # Only the code server reads the definitions folder; webserver and daemon get it over gRPC.
            proc_env = dict(env, RESTSYNC_DEFINITIONS_DIR=str(definitions)) if name == "code-server" else env
            with open(logs / f"{name}.log", "w") as log:
                procs.append(subprocess.Popen([str(c) for c in command], cwd=tmp_path, env=proc_env, stdout=log,
                                              stderr=subprocess.STDOUT))
        run = _wait("finished scheduled run", lambda: _scheduled_run(f"http://127.0.0.1:{web_port}"), 420, procs)
    except AssertionError:
        for log in sorted(logs.iterdir()):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")
        raise
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert run["status"] == "SUCCESS"
    commit = DeltaTable(str(lake / "shop" / "customers")).history(1)[0]
    assert commit["restsync.run_id"] == run["runId"]

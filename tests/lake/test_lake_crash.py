"""A sync killed with SIGKILL mid-write leaves nothing behind once the next run (or vacuum) starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from restsync_dagster.lake import sync_table, vacuum
from restsync_dagster.lake.staging import STAGING
from tests.lake.helpers import make_table, read_rows

ROOT = Path(__file__).resolve().parents[2]


def parquet_files(uri: str) -> set[str]:
    found = set()
    for folder, _, files in os.walk(uri):
        if "_delta_log" not in folder:
            found.update(os.path.relpath(os.path.join(folder, f), uri) for f in files if f.endswith(".parquet"))
    return found


def referenced(uri: str) -> set[str]:
    return set(DeltaTable(uri).get_add_actions(flatten=True).column("path").to_pylist())


def kill_mid_write(uri: str, mode: str) -> set[str]:
    """Start a sync in a subprocess, SIGKILL it once it has part files on disk; returns them."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.lake.crash_sync", uri, mode], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not (parquet_files(uri) - (referenced(uri) if os.path.isdir(f"{uri}/_delta_log") else set())):
            assert proc.poll() is None, "the sync ended before it was killed"
            assert time.monotonic() < deadline, "no part file appeared"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return parquet_files(uri)


def table_for(mode: str):
    return make_table(append_only=True) if mode == "append" else make_table(primary_key=["id"])


@pytest.mark.parametrize("mode", ["append", "merge"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-table", "existing-table"])
def test_the_next_run_removes_what_a_killed_sync_left(uri, mode, existing):
    seed = [{"id": 1, "v": "seed"}]
    if existing:
        sync_table(iter([seed]), table=table_for(mode), transformations=[], table_uri=uri, storage_options={}, run_id="seed")
    leftovers = kill_mid_write(uri, mode)
    assert leftovers and os.listdir(f"{uri}/{STAGING}")

    sync_table(iter([[{"id": 2, "v": "next"}]]), table=table_for(mode), transformations=[], table_uri=uri, storage_options={}, run_id="next")
    assert not os.path.exists(f"{uri}/{STAGING}") or not os.listdir(f"{uri}/{STAGING}")
    assert parquet_files(uri) == referenced(uri)
    expected = ([1] if existing else []) + [2]
    assert [r["id"] for r in read_rows(uri)] == expected


def test_vacuum_removes_what_a_killed_sync_left(uri):
    sync_table(iter([[{"id": 1, "v": "seed"}]]), table=table_for("merge"), transformations=[], table_uri=uri, storage_options={}, run_id="seed")
    kill_mid_write(uri, "merge")
    removed = vacuum(uri, retention_hours=168)
    assert any(path.startswith(STAGING) for path in removed)
    assert not os.listdir(f"{uri}/{STAGING}")
    assert parquet_files(uri) == referenced(uri)
    assert [r["id"] for r in read_rows(uri)] == [1]

"""A sync killed with SIGKILL mid-write leaves nothing behind once the next run (or vacuum) starts."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from restsync_dagster.errors import LakeError
from restsync_dagster.lake import DeltaWriter, sync_table, vacuum
from restsync_dagster.lake.parts import Store
from restsync_dagster.lake.staging import LEASE, STAGING, Lease, sweep
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



def test_a_live_run_keeps_its_staging_folder(uri):
    live = DeltaWriter(uri, mode="merge", run_id="live", primary_key=["id"])
    live.write(pl.DataFrame({"id": [1]}))
    assert sweep(uri) == []
    assert os.path.exists(os.path.join(uri, live._lease.folder, LEASE))  # noqa: SLF001
    live.abort()
    assert not os.listdir(f"{uri}/{STAGING}")


def test_a_lease_dropped_without_release_stops_its_heartbeat(uri):
    lease = Lease(Store(uri), run_id="dropped", heartbeat_s=0.01)
    thread = lease._thread  # noqa: SLF001
    del lease
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_run_whose_staging_was_swept_while_it_stalled_commits_nothing(uri):
    stalled = DeltaWriter(uri, mode="append", run_id="stalled")
    stalled.write(pl.DataFrame({"id": [1]}))
    Store(uri).delete_dir(stalled._lease.folder)  # noqa: SLF001 - what a sweeper does to a stale lease
    with pytest.raises(LakeError, match="staged files were removed by another run while it stalled"):
        stalled.commit()
    assert not os.path.exists(f"{uri}/_delta_log")

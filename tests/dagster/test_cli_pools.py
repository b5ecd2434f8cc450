"""`restsync sync` runs (in-process ``dg.materialize``) take the connection's pool slots like daemon runs."""

from __future__ import annotations

import threading
import time

import dagster as dg
import httpx

from restsync_dagster.dagster.run import materialize_pipeline
from tests.dagster.conftest import ORDERS, make_project


def test_cli_runs_wait_for_the_connection_pool_slot(tmp_path, demo_reset):
    base = demo_reset.base_url
    connection = {"id": "demo", "type": "rest", "base_url": base, "rate_limit": {"max_concurrency": 1}}
    project = make_project(tmp_path, base, [ORDERS], {"connections/demo.yaml": connection})
    (tmp_path / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    pipeline = project.pipelines["shop"]
    instance.event_log_storage.set_concurrency_slots("restsync/demo", 1)  # as materialize_pipeline does
    assert instance.event_log_storage.claim_concurrency_slot("restsync/demo", "other-run", "other_step").is_claimed

    results: list = []
    thread = threading.Thread(
        target=lambda: results.extend(materialize_pipeline(project, pipeline, list(pipeline.tables), dagster_instance=instance))
    )
    thread.start()
    deadline = time.monotonic() + 60
    while not _pending(instance):
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    assert httpx.get(f"{base}/_admin/stats").json()["requests"] == 0  # waiting on the slot, not syncing
    instance.event_log_storage.free_concurrency_slots_for_run("other-run")
    thread.join(60)
    assert results and all(r.success for r in results)
    assert httpx.get(f"{base}/_admin/stats").json()["requests"] > 0


def _pending(instance: dg.DagsterInstance) -> bool:
    info = instance.event_log_storage.get_concurrency_info("restsync/demo")
    return bool(info.pending_step_count)

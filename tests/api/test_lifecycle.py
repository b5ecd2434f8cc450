"""A pipeline's whole life through the API, with schedule state checked in the Dagster instance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.test_utils import create_run_for_test

from tests.api.conftest import Api, pipeline_doc


def _dagster_schedule_list(api: Api) -> str:
    """What `dagster schedule list -w workspace.yaml` shows for this DAGSTER_HOME."""
    env = {**os.environ, "DAGSTER_HOME": str(api.home), "RESTSYNC_DEFINITIONS_DIR": str(api.definitions)}
    dagster = Path(sys.executable).with_name("dagster")
    out = subprocess.run(
        [str(dagster), "schedule", "list", "-w", str(api.workspace)], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_create_validate_start_get_replace_stop_archive(api: Api):
    doc = pipeline_doc("Orders Sync")
    text = yaml.safe_dump(doc, sort_keys=False)

    created = api.request("POST", "/pipelines", content=text, headers={"Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "orders_sync"
    assert created.headers["location"].endswith("/api/public/v1/pipelines/orders_sync")
    path = api.definitions / "pipelines" / "orders_sync.yaml"
    assert path.read_text() == text

    check = api.request("POST", "/pipelines/orders_sync/definition/validate", json=doc)
    assert check.status_code == 200 and check.json() == {"valid": True, "id": "orders_sync", "changed": False}

    started = api.request("POST", "/pipelines/orders_sync/start")
    assert started.status_code == 200, started.text
    assert started.json()["state"] == "running"
    assert started.json()["schedules"] == [
        {"name": "orders_sync_sync_schedule", "cron_schedule": "*/15 * * * *", "status": "running"}
    ]

    meta = api.request("GET", "/pipelines/orders_sync").json()
    assert meta["state"] == "running" and meta["schedules_error"] is None
    assert meta["source_connection_id"] == "demo_public" and meta["destination_connection_id"] == "lake"
    assert meta["tables"] == [
        {"name": "customers", "key": "customers", "asset_key": ["orders_sync", "customers"], "last_materialization_at": None}
    ]
    assert meta["last_run"] is None

    changed = {**doc, "description": "now with a better description"}
    first = api.request("PUT", "/pipelines/orders_sync/definition", json=changed)
    assert first.status_code == 200 and first.json()["changed"] is True
    mtime = path.stat().st_mtime_ns
    second = api.request("PUT", "/pipelines/orders_sync/definition", json=changed)
    assert second.status_code == 200 and second.json()["changed"] is False
    assert path.stat().st_mtime_ns == mtime
    assert yaml.safe_load(path.read_text())["description"] == "now with a better description"

    # The replaced document still has the same schedule, and its state survived the reload.
    assert "Schedule: orders_sync_sync_schedule [RUNNING]" in _dagster_schedule_list(api)

    stopped = api.request("POST", "/pipelines/orders_sync/stop")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert api.request("GET", "/pipelines/orders_sync").json()["schedules"][0]["status"] == "stopped"

    archived = api.request("DELETE", "/pipelines/orders_sync")
    assert archived.status_code == 200, archived.text
    target = api.definitions / archived.json()["archived_to"]
    assert target.parent == api.definitions / ".archive" and target.exists() and not path.exists()
    assert yaml.safe_load(target.read_text())["name"] == "Orders Sync"

    for method, suffix in [("GET", ""), ("GET", "/definition"), ("POST", "/start"), ("DELETE", "")]:
        gone = api.request(method, f"/pipelines/orders_sync{suffix}")
        assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    assert "orders_sync" not in [p["id"] for p in api.request("GET", "/pipelines").json()["data"]]


def test_force_stop_cancels_runs_in_flight_and_metadata_shows_the_last_run(api: Api):
    instance = DagsterInstance.from_config(str(api.home))
    tags = {"restsync/pipeline": "demo_shop"}
    done = create_run_for_test(instance, job_name="demo_shop_sync", status=DagsterRunStatus.SUCCESS, tags=tags)
    running = create_run_for_test(instance, job_name="demo_shop_sync", status=DagsterRunStatus.STARTED, tags=tags)
    other = create_run_for_test(
        instance, job_name="demo_auth_tour_sync", status=DagsterRunStatus.STARTED, tags={"restsync/pipeline": "demo_auth_tour"}
    )

    meta = api.request("GET", "/pipelines/demo_shop").json()
    assert meta["last_run"]["run_id"] == running.run_id and meta["last_run"]["status"] == "STARTED"
    # demo_shop ships with `sync.enabled: false`: its schedule starts stopped.
    assert meta["state"] == "stopped"

    graceful = api.request("POST", "/pipelines/demo_shop/stop")
    assert graceful.status_code == 200 and graceful.json()["canceled_runs"] == []
    assert instance.get_run_by_id(running.run_id).status == DagsterRunStatus.STARTED

    forced = api.request("POST", "/pipelines/demo_shop/stop", params={"force": "true"})
    assert forced.status_code == 200, forced.text
    assert forced.json()["canceled_runs"] == [running.run_id]
    assert instance.get_run_by_id(running.run_id).status == DagsterRunStatus.CANCELED
    assert instance.get_run_by_id(done.run_id).status == DagsterRunStatus.SUCCESS
    assert instance.get_run_by_id(other.run_id).status == DagsterRunStatus.STARTED

    assert api.request("POST", "/pipelines/demo_shop/stop", params={"force": "maybe"}).status_code == 422
    instance.dispose()


def test_schedules_of_a_pipeline_whose_key_prefixes_another(api: Api):
    """`demo` must not pick up `demo_shop_sync_schedule` (tagged for demo_shop)."""
    assert api.request("POST", "/pipelines", json=pipeline_doc("demo")).status_code == 201
    started = api.request("POST", "/pipelines/demo/start").json()
    assert [s["name"] for s in started["schedules"]] == ["demo_sync_schedule"]
    assert api.request("GET", "/pipelines/demo_shop").json()["state"] == "stopped"

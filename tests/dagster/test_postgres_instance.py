"""Sync, schedule and backfill flows on a Dagster instance whose run, event and schedule storage is
PostgreSQL (a throwaway local cluster), as a deployment that outgrew SQLite runs them."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import dagster as dg
import polars as pl
import pytest

from restsync_dagster.dagster.factory import build_definitions
from restsync_dagster.dagster.run import materialize_pipeline
from tests.dagster.conftest import CUSTOMERS, EVENTS, ORDERS, make_project
from tests.pgserver import PASSWORD, example_storage

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_instance(postgres, monkeypatch):
    """A fresh database per test, configured by the storage block of ``dagster.yaml.example``."""
    db = postgres.create_database(f"dagster_{uuid.uuid4().hex[:8]}")
    for name, value in postgres.environment(db).items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test(overrides={"storage": example_storage()}) as instance:
        yield instance, db


def _rows(postgres, db: str, sql: str, *args) -> list[tuple]:
    connection = postgres.connect(db)
    try:
        cursor = connection.cursor()
        cursor.execute(sql, args)
        return cursor.fetchall()
    finally:
        connection.close()


def _stored_text(postgres, db: str) -> str:
    """Everything Dagster stored: run bodies, every event, schedule ticks."""
    parts = [r[0] for r in _rows(postgres, db, "SELECT run_body FROM runs")]
    parts += [r[0] for r in _rows(postgres, db, "SELECT event FROM event_logs")]
    parts += [r[0] or "" for r in _rows(postgres, db, "SELECT tick_body FROM job_ticks")]
    return "\n".join(parts)


def test_sync_runs_and_events_land_in_postgres(demo_reset, tmp_path, postgres, pg_instance, monkeypatch):
    instance, db = pg_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    monkeypatch.setenv("RS_TEST_API_KEY", "demo-key")
    orders = dict({k: v for k, v in ORDERS.items() if k != "path"}, url=f"{demo_reset.base_url}/auth/api_key/keyset/orders",
                  auth={"type": "api_key", "param": "api_key", "key": "{{ env.RS_TEST_API_KEY }}"})
    project = make_project(tmp_path, demo_reset.base_url, [CUSTOMERS, orders])
    pipeline = project.pipeline("shop")
    (first,) = materialize_pipeline(project, pipeline, list(pipeline.tables), dagster_instance=instance)
    (second,) = materialize_pipeline(project, pipeline, list(pipeline.tables), dagster_instance=instance)
    assert first.success and second.success, first.get_run_failure_event() or second.get_run_failure_event()

    stored = _rows(postgres, db, "SELECT run_id, status FROM runs ORDER BY create_timestamp")
    assert stored == [(first.run_id, "SUCCESS"), (second.run_id, "SUCCESS")]
    latest = instance.get_latest_materialization_event(dg.AssetKey(["shop", "customers"]))
    metadata = latest.asset_materialization.metadata
    assert latest.run_id == second.run_id
    assert metadata["restsync/cursor_before"].value == metadata["restsync/cursor_after"].value != ""
    assert metadata["restsync/rows_synced"].value == 0  # the second run asked only for newer rows
    text = _stored_text(postgres, db)
    assert "ASSET_MATERIALIZATION" in text
    assert "demo-key" not in text and PASSWORD not in text


def test_schedule_tick_runs_its_partitions_on_postgres(demo_reset, tmp_path, postgres, pg_instance):
    instance, db = pg_instance
    open_ended = dict(EVENTS, partitions={"type": "daily", "start": "2026-01-01"})
    project = make_project(tmp_path, demo_reset.base_url, [open_ended], sync={"frequency": 60})
    defs = build_definitions(project=project)
    schedule = defs.resolve_schedule_def("shop_sync_schedule")
    context = dg.build_schedule_context(instance=instance, repository_def=defs.get_repository_def(),
                                        scheduled_execution_time=datetime(2026, 1, 5, 0, 0, tzinfo=timezone.utc))
    requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2026-01-04", "2026-01-05"]
    job = defs.resolve_job_def(schedule.job_name)
    for request in requests:
        result = job.execute_in_process(instance=instance, partition_key=request.partition_key, tags=request.tags)
        assert result.success
    key = dg.AssetKey(["shop", "events"])
    assert instance.get_materialized_partitions(key) == {"2026-01-04", "2026-01-05"}
    assert len(_rows(postgres, db, "SELECT run_id FROM runs WHERE status = 'SUCCESS'")) == 2


def test_range_backfill_then_rerun_on_postgres(demo_reset, tmp_path, postgres, pg_instance):
    instance, db = pg_instance
    project = make_project(tmp_path, demo_reset.base_url, [EVENTS])
    assets = list(build_definitions(project=project).get_repository_def().assets_defs_by_key.values())
    backfill = dg.materialize(assets, instance=instance, tags={"dagster/asset_partition_range_start": "2026-01-01",
                                                               "dagster/asset_partition_range_end": "2026-01-03"})
    rerun = dg.materialize(assets, instance=instance, partition_key="2026-01-02")
    assert backfill.success and rerun.success
    key = dg.AssetKey(["shop", "events"])
    assert instance.get_materialized_partitions(key) == {"2026-01-01", "2026-01-02", "2026-01-03"}
    counts = _rows(postgres, db, "SELECT partition, count(*) FROM event_logs WHERE dagster_event_type = "
                                 "'ASSET_MATERIALIZATION' GROUP BY partition ORDER BY partition")
    assert counts == [("2026-01-01", 1), ("2026-01-02", 2), ("2026-01-03", 1)]
    uri = backfill.asset_materializations_for_node("shop__events")[0].metadata["restsync/table_uri"].value
    table = pl.read_delta(uri)
    assert table.height == 3 * 144 == table.select("id").unique().height

"""Schedules from sync.frequency / sync.cron, evaluated with evaluate_tick."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from restsync_dagster.config import load_project
from restsync_dagster.config.cron import minutes_to_cron
from restsync_dagster.dagster.factory import build_definitions
from tests.support import base_docs, write_docs  # noqa: F401 (fixture)

UTC = timezone.utc


def _defs(tmp_path, docs, sync):
    docs["pipelines/p.yaml"]["sync"] = sync
    return build_definitions(project=load_project(write_docs(tmp_path / "d", docs)))


def _tick(schedule, when: datetime, defs: dg.Definitions | None = None):
    repo = defs.get_repository_def() if defs is not None else None
    return schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when, repository_def=repo))


@pytest.mark.parametrize(
    "minutes, cron",
    [(1, "* * * * *"), (5, "*/5 * * * *"), (15, "*/15 * * * *"), (60, "0 * * * *"), (1440, "0 0 * * *")],
)
def test_frequency_becomes_cron(minutes, cron, base_docs, tmp_path):
    defs = _defs(tmp_path, base_docs, {"frequency": minutes})
    schedule = defs.resolve_schedule_def("p_sync_schedule")
    assert schedule.cron_schedule == cron
    assert schedule.job_name == "p_sync"
    result = _tick(schedule, datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    assert len(result.run_requests) == 1


def test_cron_is_used_as_is(base_docs, tmp_path):
    defs = _defs(tmp_path, base_docs, {"cron": "30 6 * * 1-5"})
    schedule = defs.resolve_schedule_def("p_sync_schedule")
    assert schedule.cron_schedule == "30 6 * * 1-5"
    assert len(_tick(schedule, datetime(2026, 3, 2, 6, 30, tzinfo=UTC)).run_requests) == 1


@pytest.mark.parametrize("minutes", [7, 45, 90, 100, 2880])
def test_minutes_no_cron_expresses_are_exact(minutes):
    cron, every = minutes_to_cron(minutes)
    assert every == minutes
    from dagster._utils.schedules import cron_string_iterator

    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    ticks = cron_string_iterator(start, cron, "UTC")
    fired = []
    for _ in range(20000):
        tick = next(ticks)
        if int(tick.timestamp() // 60) % every == 0:
            fired.append(tick)
        if len(fired) == 6:
            break
    gaps = {(b - a) for a, b in zip(fired, fired[1:])}
    assert gaps == {timedelta(minutes=minutes)}


def test_odd_frequency_skips_ticks_between_runs(base_docs, tmp_path):
    defs = _defs(tmp_path, base_docs, {"frequency": 45})
    schedule = defs.resolve_schedule_def("p_sync_schedule")
    assert schedule.cron_schedule == "*/15 * * * *"
    epoch_aligned = datetime.fromtimestamp(45 * 60 * 600000, tz=UTC)
    assert len(_tick(schedule, epoch_aligned).run_requests) == 1
    assert _tick(schedule, epoch_aligned + timedelta(minutes=15)).skip_message


def test_enabled_sets_default_status(base_docs, tmp_path):
    on = _defs(tmp_path / "on", base_docs, {"frequency": 5})
    assert on.resolve_schedule_def("p_sync_schedule").default_status == dg.DefaultScheduleStatus.RUNNING
    off = _defs(tmp_path / "off", base_docs, {"frequency": 5, "enabled": False})
    assert off.resolve_schedule_def("p_sync_schedule").default_status == dg.DefaultScheduleStatus.STOPPED


def test_partitioned_schedule_syncs_current_window_and_the_one_that_closed(base_docs, tmp_path):
    table = base_docs["pipelines/p.yaml"]["tables"][0]
    table["partitions"] = {"type": "daily", "start": "2026-01-01"}
    table["params"] = {"from": "{{ partition.start }}", "to": "{{ partition.end }}"}
    defs = _defs(tmp_path, base_docs, {"frequency": 60})
    schedule = defs.resolve_schedule_def("p_sync_schedule")
    first = _tick(schedule, datetime(2026, 1, 5, 0, 0, tzinfo=UTC), defs)
    assert [r.partition_key for r in first.run_requests] == ["2026-01-04", "2026-01-05"]
    later = _tick(schedule, datetime(2026, 1, 5, 13, 0, tzinfo=UTC), defs)
    assert [r.partition_key for r in later.run_requests] == ["2026-01-05"]


def test_mixed_pipeline_gets_one_job_per_partitions_definition(base_docs, tmp_path):
    tables = base_docs["pipelines/p.yaml"]["tables"]
    tables.append(dict(tables[0], name="daily_items", partitions={"type": "daily", "start": "2026-01-01"}))
    defs = _defs(tmp_path, base_docs, {"frequency": 60})
    assert defs.resolve_job_def("p_sync").partitions_def is None
    assert defs.resolve_job_def("p_sync_daily").partitions_def is not None
    assert {s.name for s in defs.schedules} == {"p_sync_schedule", "p_sync_daily_schedule"}


def test_delta_destination_pair_gets_a_maintenance_job(base_docs, tmp_path):
    defs = _defs(tmp_path, base_docs, {"source_frequency": 15, "destination_frequency": 1440})
    assert defs.resolve_schedule_def("p_sync_schedule").cron_schedule == "*/15 * * * *"
    maintenance = defs.resolve_schedule_def("p_maintenance_schedule")
    assert maintenance.cron_schedule == "0 0 * * *" and maintenance.job_name == "p_maintenance"


def test_maintenance_job_compacts_and_vacuums(base_docs, tmp_path):
    import polars as pl
    from deltalake import DeltaTable, write_deltalake

    base_docs["connections/lake.yaml"]["path"] = str(tmp_path / "lake")
    defs = _defs(tmp_path, base_docs, {"source_frequency": 15, "destination_frequency": 60})
    uri = str(tmp_path / "lake" / "p" / "items")
    for i in range(5):
        write_deltalake(uri, pl.DataFrame({"id": [i], "name": [str(i)]}).to_arrow(), mode="append")
    assert len(DeltaTable(uri).file_uris()) == 5
    result = defs.resolve_job_def("p_maintenance").execute_in_process()
    assert result.success
    assert len(DeltaTable(uri).file_uris()) == 1
    assert pl.read_delta(uri).height == 5

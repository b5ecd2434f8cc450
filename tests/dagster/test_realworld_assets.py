"""Windows, fan-out, report jobs and row filters as Dagster assets, materialized against the demo API."""

from __future__ import annotations

import copy

from deltalake import DeltaTable

from restsync_dagster.lake import read_cursor
from tests.dagster.conftest import make_project
from tests.dagster.test_assets import _materialize, _metadata
from tests.engine.test_fan_out import SEARCH
from tests.engine.test_jobs import REPORT
from tests.engine.test_windows import EVENTS


def test_windows_fan_out_and_a_filtered_report_materialize(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTS_START", "2026-01-01")
    monkeypatch.setenv("SITES", '["a.example", "b.example"]')
    project = make_project(tmp_path, demo_reset.base_url, [EVENTS, SEARCH, REPORT], transformations=[
        {"type": "filter_rows", "table": "orders_report", "config": {"where": "status = 'paid'"}}])
    result = _materialize(project)
    assert result.success, result.get_run_failure_event()
    assert _metadata(result, "events")["dagster/row_count"] == 432
    assert _metadata(result, "events")["restsync/cursor_after"] == "2026-01-03T23:50:00Z"
    assert _metadata(result, "search")["dagster/row_count"] == 12
    report = _metadata(result, "orders_report")
    assert report["restsync/rows_synced"] == 2000 and report["dagster/row_count"] == 400
    statuses = DeltaTable(report["restsync/table_uri"]).to_pyarrow_table().column("status").to_pylist()
    assert set(statuses) == {"paid"}


def test_a_failing_window_fails_the_asset_after_committing_the_earlier_windows(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTS_START", "2026-01-01")
    table = copy.deepcopy(EVENTS)
    table["params"]["fail_since"] = "2026-01-02"
    project = make_project(tmp_path, demo_reset.base_url, [table])
    result = _materialize(project)
    assert not result.success
    failure = result.get_run_failure_event() or next(e for e in result.all_events if e.is_step_failure)
    assert "window 2 [2026-01-02T00:00:00Z .. 2026-01-03T00:00:00Z) failed" in str(failure.event_specific_data)
    uri = str(tmp_path / "lake" / "shop" / "events")
    assert DeltaTable(uri).to_pyarrow_table().num_rows == 144
    assert read_cursor(uri) == "2026-01-02T00:00:00Z"

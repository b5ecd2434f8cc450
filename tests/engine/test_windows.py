"""Incremental windows, date filters and rendered bounds, synced from the demo API into Delta."""

from __future__ import annotations

import httpx
import pytest
from deltalake import DeltaTable

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.errors import WindowError
from restsync_dagster.diagnostics import preview_table
from restsync_dagster.lake import read_cursor
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project

EVENTS = {
    "name": "events",
    "path": "/ranged/events",
    "params": {"since": "{{ window.start | epoch }}", "until": "{{ window.end | strftime('%Y-%m-%d') }}"},
    "response": {"root_key": "data"},
    "primary_key": ["id"],
    "incremental": {"cursor_field": "ts", "initial_value": "{{ env.EVENTS_START }}", "end": "2026-01-04", "window": "P1D"},
    "schema": [{"name": "id", "type": "long"}, {"name": "ts", "type": "timestamp"}, {"name": "type", "type": "string"}],
}


def _stats(demo) -> dict:
    return httpx.get(f"{demo.base_url}/_admin/stats").json()


def _sync(project, **kwargs):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table("events"), run_id="r1", client=client, secrets=secrets, **kwargs)


def test_windows_are_requested_one_after_another_with_filtered_bounds(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTS_START", "2026-01-01")
    project = make_project(tmp_path, demo_reset.base_url, [EVENTS])
    result = _sync(project)
    assert result.write.rows == 3 * 144
    stats = _stats(demo_reset)
    assert stats["by_path"]["/ranged/events"] == 3
    assert stats["last_params"]["/ranged/events"] == {"since": "1767398400", "until": "2026-01-04"}
    rows = DeltaTable(result.write.table_uri).to_pyarrow_table().column("id").to_pylist()
    assert sorted(rows) == list(range(1, 433))
    assert result.write.cursor_after == "2026-01-03T23:50:00Z"


def test_a_failing_window_commits_the_earlier_windows_and_names_itself(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTS_START", "2026-01-01")
    table = dict(EVENTS, params={**EVENTS["params"], "fail_since": "2026-01-03"},
                 incremental={**EVENTS["incremental"], "end": "2026-01-06"})
    project = make_project(tmp_path, demo_reset.base_url, [table])
    with pytest.raises(WindowError) as info:
        _sync(project)
    message = str(info.value)
    assert "window 3 [2026-01-03T00:00:00Z .. 2026-01-04T00:00:00Z) failed" in message
    assert "the cursor stops at 2026-01-03T00:00:00Z" in message
    assert _stats(demo_reset)["by_path"]["/ranged/events"] == 2 + 3  # two windows, then 1 try + 2 retries
    uri = str(tmp_path / "lake" / "shop" / "events")
    assert DeltaTable(uri).version() == info.value.committed_version == 0
    assert DeltaTable(uri).to_pyarrow_table().num_rows == 2 * 144
    assert read_cursor(uri) == "2026-01-03T00:00:00Z"


def test_a_failing_first_window_commits_nothing(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTS_START", "2026-01-01")
    table = dict(EVENTS, params={**EVENTS["params"], "fail_since": "2026-01-01"})
    project = make_project(tmp_path, demo_reset.base_url, [table])
    with pytest.raises(WindowError, match="window 1 .* failed.*nothing was committed"):
        _sync(project)
    assert not DeltaTable.is_deltatable(str(tmp_path / "lake" / "shop" / "events"))


def test_preview_lists_the_windows(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTS_START", "2026-01-01")
    project = make_project(tmp_path, demo_reset.base_url, [EVENTS])
    pipeline = project.pipeline("shop")
    preview = preview_table(project, pipeline, pipeline.table("events"))
    assert preview.decisions[0] == ("incremental windows: 3, first window 1 [2026-01-01T00:00:00Z .. 2026-01-02T00:00:00Z), "
                                    "last window 3 [2026-01-03T00:00:00Z .. 2026-01-04T00:00:00Z)")
    assert preview.decisions[1].startswith("request stream: window 1 [")
    assert preview.records == 144 and preview.pages == 1


def test_initial_value_and_end_are_rendered_without_windows(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTS_START", "2026-01-02")
    table = {
        "name": "events",
        "path": "/offset/events",
        "params": {"from": "{{ incremental.start | epoch }}", "to": "{{ incremental.end | epoch_ms // 1000 }}"},
        "pagination": {"type": "offset", "page_size": 1000},
        "response": {"root_key": "data"},
        "primary_key": ["id"],
        "incremental": {"cursor_field": "ts", "initial_value": "{{ env.EVENTS_START }}", "end": "2026-01-03T00:00:00Z"},
    }
    project = make_project(tmp_path, demo_reset.base_url, [table])
    result = _sync(project)
    assert result.write.rows == 144
    assert _stats(demo_reset)["last_params"]["/offset/events"]["from"] == "1767312000"
    assert result.write.cursor_after == "2026-01-02T23:50:00Z"

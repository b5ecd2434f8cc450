"""Fan-out: one request stream per combination of values, written as columns, from the demo API."""

from __future__ import annotations

import httpx
import polars as pl
import pytest
from deltalake import DeltaTable

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.errors import TemplateError
from restsync_dagster.diagnostics import preview_table
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project

SEARCH = {
    "name": "search",
    "path": "/search/analytics",
    "params": {"site": "{{ fan.site_url }}", "type": "{{ fan.search_type }}"},
    "fan_out": {"site_url": "{{ env.SITES }}", "search_type": ["web", "news"]},
    "response": {"root_key": "rows"},
    "primary_key": ["site_url", "search_type", "query"],
    "schema": [
        {"name": "site_url", "type": "string"},
        {"name": "search_type", "type": "string"},
        {"name": "query", "type": "string"},
        {"name": "clicks", "type": "long"},
    ],
}


def _sync(project):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table("search"), run_id="r1", client=client, secrets=secrets)


def test_one_stream_per_combination_with_values_as_key_columns(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("SITES", '["https://a.example/", "sc-domain:b.example"]')
    project = make_project(tmp_path, demo_reset.base_url, [SEARCH])
    result = _sync(project)
    assert httpx.get(f"{demo_reset.base_url}/_admin/stats").json()["by_path"]["/search/analytics"] == 4
    frame = pl.from_arrow(DeltaTable(result.write.table_uri).to_pyarrow_table())
    combos = frame.group_by("site_url", "search_type").len().sort("site_url", "search_type").rows()
    assert combos == [("https://a.example/", "news", 3), ("https://a.example/", "web", 3),
                      ("sc-domain:b.example", "news", 3), ("sc-domain:b.example", "web", 3)]
    assert frame.select(pl.struct("site_url", "search_type", "query").n_unique()).item() == 12
    again = _sync(project)
    assert again.table_rows == 12


def test_env_value_that_is_not_a_json_list_fails_naming_the_fan_name(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("SITES", "a.example,b.example")
    project = make_project(tmp_path, demo_reset.base_url, [SEARCH])
    with pytest.raises(TemplateError, match="fan_out.site_url: expected the template to give a JSON list") as info:
        _sync(project)
    assert "a.example" not in str(info.value)


def test_preview_shows_the_fan_out_values(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("SITES", '["a.example"]')
    project = make_project(tmp_path, demo_reset.base_url, [SEARCH])
    pipeline = project.pipeline("shop")
    preview = preview_table(project, pipeline, pipeline.table("search"), pages=2)
    assert preview.decisions[0] == "request stream: fan site_url=a.example search_type=web"
    assert "request stream: fan site_url=a.example search_type=news" in preview.decisions
    assert preview.records == 6

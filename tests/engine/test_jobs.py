"""Asynchronous report jobs against the demo API's report trio, synced into Delta."""

from __future__ import annotations

import copy

import httpx
import polars as pl
import pytest
from deltalake import DeltaTable

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.errors import JobError
from restsync_dagster.diagnostics import preview_table
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project

REPORT = {
    "name": "orders_report",
    "job": {
        "create": {"path": "/reports", "id_path": "report.id",
                   "body": {"resource": "orders", "format": "csv", "compression": "gzip", "files": 3, "polls": 2}},
        "poll": {"path": "/reports/{{ job.id }}", "status_path": "report.status", "done": ["done"],
                 "failed": ["failed"], "interval_s": 0.01, "timeout_s": 30},
        "download": {"urls_path": "report.files", "format": "csv"},
    },
    "primary_key": ["id"],
    "schema": [{"name": "id", "type": "long"}, {"name": "status", "type": "string"}, {"name": "total_cents", "type": "long"}],
}


def _report(**create_body):
    table = copy.deepcopy(REPORT)
    table["job"]["create"]["body"].update(create_body)
    return table


def _sync(project):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table("orders_report"), run_id="r1", client=client, secrets=secrets)


def _stats(demo) -> dict:
    return httpx.get(f"{demo.base_url}/_admin/stats").json()["by_path"]


def _orders(demo) -> list[dict]:
    pages = [httpx.get(f"{demo.base_url}/offset/orders", params={"limit": 1000, "offset": o}).json()["data"] for o in (0, 1000)]
    return pages[0] + pages[1]


def test_create_poll_download_gzipped_csv_files(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [REPORT])
    result = _sync(project)
    stats = _stats(demo_reset)
    assert stats["/reports"] == 1 and stats["/reports/rep-1"] == 3
    assert [stats[f"/reports/rep-1/files/{n}"] for n in (1, 2, 3)] == [1, 1, 1]
    frame = pl.from_arrow(DeltaTable(result.write.table_uri).to_pyarrow_table())
    orders = _orders(demo_reset)
    assert frame.height == result.write.rows == 2000
    assert frame["total_cents"].sum() == sum(o["total_cents"] for o in orders)


def test_json_lines_files_keep_nested_values(demo_reset, tmp_path):
    table = _report(format="jsonl", compression="none", files=2, polls=0)
    table["job"]["download"]["format"] = "jsonl"
    del table["schema"]
    project = make_project(tmp_path, demo_reset.base_url, [table])
    result = _sync(project)
    assert result.write.rows == 2000 and _stats(demo_reset)["/reports/rep-1"] == 1
    assert sorted(DeltaTable(result.write.table_uri).to_pyarrow_table().column("id").to_pylist()) == list(range(1, 2001))


def test_a_failed_job_fails_the_run_with_its_id_and_status_and_commits_nothing(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [_report(fail=True, polls=1)])
    with pytest.raises(JobError, match="report job 'rep-1' failed with status 'failed' after 2 poll"):
        _sync(project)
    assert not DeltaTable.is_deltatable(str(tmp_path / "lake" / "shop" / "orders_report"))


def test_a_job_that_never_finishes_times_out(demo_reset, tmp_path):
    table = _report(polls=10_000)
    table["job"]["poll"].update({"timeout_s": 0.3, "backoff": 1})
    project = make_project(tmp_path, demo_reset.base_url, [table])
    with pytest.raises(JobError, match=r"report job 'rep-1' was not done within timeout_s=0.3 \(last status 'running'"):
        _sync(project)
    assert 0 < _stats(demo_reset)["/reports/rep-1"] < 10_000
    assert not DeltaTable.is_deltatable(str(tmp_path / "lake" / "shop" / "orders_report"))


def test_preview_shows_the_job_polls(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [REPORT])
    pipeline = project.pipeline("shop")
    preview = preview_table(project, pipeline, pipeline.table("orders_report"))
    assert preview.decisions[0].startswith("page 1: job rep-1: 3 poll(s) (running → running → done); file 1/3: 667 records")

"""Independent tables of one `restsync sync` run sync at once, through the run's one request budget."""

from __future__ import annotations

import os

import dagster as dg
import httpx
from deltalake import DeltaTable

from restsync_dagster.dagster.run import materialize_pipeline
from tests.dagster.conftest import make_project

SLOW = {"delay": "0.2"}
CUSTOMERS = {"name": "customers", "path": "/offset/customers", "params": SLOW, "response": {"root_key": "data"},
             "primary_key": ["id"], "pagination": {"type": "offset", "page_size": 500}, "max_pages": 3}
ORDERS = {"name": "orders", "path": "/offset/orders", "params": SLOW, "response": {"root_key": "data"},
          "primary_key": ["id"], "pagination": {"type": "offset", "page_size": 500}, "max_pages": 3}


def _run(tmp_path, base_url, concurrency, tables=(CUSTOMERS, ORDERS)):
    connection = {"id": "demo", "type": "rest", "base_url": base_url, "rate_limit": {"max_concurrency": concurrency}}
    project = make_project(tmp_path, base_url, list(tables), {"connections/demo.yaml": connection})
    (tmp_path / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    pipeline = project.pipelines["shop"]
    results = materialize_pipeline(project, pipeline, list(pipeline.tables), dagster_instance=instance)
    assert len(results) == 1 and results[0].success
    return results[0]


def test_two_independent_tables_of_a_run_overlap_within_the_budget(tmp_path, demo_reset):
    result = _run(tmp_path, demo_reset.base_url, 2)
    stats = httpx.get(f"{demo_reset.base_url}/_admin/stats").json()
    assert stats["requests"] == 6
    assert stats["peak_in_flight"] == 2  # each table walks one page at a time: the two tables overlapped
    assert {e.asset_key.path[-1] for e in result.get_asset_materialization_events()} == {"customers", "orders"}
    for name in ("customers", "orders"):
        assert DeltaTable(str(tmp_path / "lake" / "shop" / name)).to_pyarrow_table().num_rows == 1_500


def test_a_budget_of_one_keeps_the_tables_of_a_run_one_request_at_a_time(tmp_path, demo_reset):
    _run(tmp_path, demo_reset.base_url, 1)
    stats = httpx.get(f"{demo_reset.base_url}/_admin/stats").json()
    assert stats["requests"] == 6 and stats["peak_in_flight"] == 1


def _deployed_job() -> dg.JobDefinition:
    from restsync_dagster.config import load_project
    from restsync_dagster.dagster.factory import build_definitions

    defs = build_definitions(project=load_project(os.environ["RESTSYNC_TEST_DEFS"]))
    both = dg.Definitions.merge(defs, dg.Definitions(jobs=[dg.define_asset_job("both_tables")]))
    return both.resolve_job_def("both_tables")


def test_a_deployed_run_syncs_its_independent_tables_at_once(tmp_path, demo_reset, monkeypatch):
    connection = {"id": "demo", "type": "rest", "base_url": demo_reset.base_url, "rate_limit": {"max_concurrency": 2}}
    # Each table requests its pages two at a time (a total): with a process per step each would have its
    # own budget of 2 and the API would see 4 in flight.
    tables = [dict(t, pagination=dict(t["pagination"], total_path="total")) for t in (CUSTOMERS, ORDERS)]
    make_project(tmp_path, demo_reset.base_url, tables, {"connections/demo.yaml": connection})
    monkeypatch.setenv("RESTSYNC_TEST_DEFS", str(tmp_path / "defs"))
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        result = dg.execute_job(dg.reconstructable(_deployed_job), instance=instance)
        assert result.success
    stats = httpx.get(f"{demo_reset.base_url}/_admin/stats").json()
    assert stats["requests"] == 6 and stats["peak_in_flight"] == 2

"""REST destinations through Dagster: staged REST → REST and reverse ETL from a Delta source."""

from __future__ import annotations

import dagster as dg
import httpx

from restsync_dagster.config import load_project
from restsync_dagster.dagster.factory import build_definitions
from tests.dagster.conftest import CONTACTS, make_project
from tests.support import write_docs

REQUEST = {"path": "/receiver/contacts/#{id}", "method": "PUT", "static_fields": {"source": "restsync"}}


def _project(tmp_path, base_url, sync):
    return make_project(
        tmp_path, base_url, [CONTACTS],
        destination={"connection": {"id": "out"}, "request": REQUEST},
        staging={"connection": {"id": "lake"}},
        sync=sync,
        extra_docs={"connections/out.yaml": {"id": "out", "type": "rest", "base_url": base_url}},
    )


def _run(defs, job, instance):
    return defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False)


def test_rest_to_rest_delivers_once_per_change(demo_reset, tmp_path):
    base = demo_reset.base_url
    defs = build_definitions(project=_project(tmp_path, base, {"frequency": 30}))
    assert {j.name for j in defs.jobs} == {"shop_sync"}  # delivery runs with the sync
    with dg.instance_for_test() as instance:
        first = _run(defs, "shop_sync", instance)
        assert first.success, first.get_run_failure_event()
        (mat,) = first.asset_materializations_for_node("shop__contacts__delivery")
        assert mat.metadata["restsync/delivered"].value == 50
        received = httpx.get(f"{base}/receiver/contacts").json()["data"]
        assert len(received) == 50 and received[0]["source"] == "restsync"
        second = _run(defs, "shop_sync", instance)
        (mat,) = second.asset_materializations_for_node("shop__contacts__delivery")
        assert mat.metadata["restsync/requests"].value == 0
        assert mat.metadata["restsync/skipped_unchanged"].value == 50


def test_pair_frequencies_give_a_delivery_job_on_destination_frequency(demo, tmp_path):
    defs = build_definitions(project=_project(tmp_path, demo.base_url, {"source_frequency": 15, "destination_frequency": 60}))
    assert defs.resolve_schedule_def("shop_sync_schedule").cron_schedule == "*/15 * * * *"
    deliver = defs.resolve_schedule_def("shop_deliver_schedule")
    assert deliver.cron_schedule == "0 * * * *" and deliver.job_name == "shop_deliver"
    graph = defs.get_repository_def().asset_graph
    node = graph.get(dg.AssetKey(["shop", "contacts", "delivery"]))
    assert dg.AssetKey(["shop", "contacts"]) in node.parent_keys


def test_reverse_etl_from_a_delta_source(demo_reset, tmp_path):
    import polars as pl

    base = demo_reset.base_url
    lake = tmp_path / "lake"
    pl.DataFrame({"id": [1, 2, 3], "email": ["a@x.io", "b@x.io", "c@x.io"]}).write_delta(str(lake / "crm" / "people"))
    docs = {
        "connections/lake.yaml": {"id": "lake", "type": "delta", "path": str(lake)},
        "connections/out.yaml": {"id": "out", "type": "rest", "base_url": base},
        "pipelines/r.yaml": {
            "definition_version": 1, "name": "r", "source": {"connection": {"id": "lake"}},
            "destination": {"connection": {"id": "out"}, "request": {
                "path": "/receiver/contacts", "request_mode": "batch", "batch_size": 2, "nested_attribute": "records"}},
            "staging": {"connection": {"id": "lake"}},
            "sync": {"frequency": 60}, "tables": [{"name": "crm/people", "primary_key": ["id"]}],
        },
    }
    defs = build_definitions(project=load_project(write_docs(tmp_path / "defs", docs)))
    with dg.instance_for_test() as instance:
        result = _run(defs, "r_deliver", instance)
    assert result.success, result.get_run_failure_event()
    (mat,) = result.asset_materializations_for_node("r__crm_people__delivery")
    assert mat.metadata["restsync/delivered"].value == 3 and mat.metadata["restsync/requests"].value == 2
    assert sorted(c["id"] for c in httpx.get(f"{base}/receiver/contacts").json()["data"]) == [1, 2, 3]


def test_default_staging_does_not_depend_on_the_working_directory(demo_reset, tmp_path, monkeypatch):
    base = demo_reset.base_url
    project = make_project(
        tmp_path, base, [CONTACTS],
        destination={"connection": {"id": "out"}, "request": REQUEST},
        sync={"frequency": 30},
        extra_docs={"connections/out.yaml": {"id": "out", "type": "rest", "base_url": base}},
    )
    defs = build_definitions(project=project)
    with dg.instance_for_test() as instance:
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
        for folder in ("first", "second"):
            (tmp_path / folder).mkdir()
            monkeypatch.chdir(tmp_path / folder)
            assert _run(defs, "shop_sync", instance).success
    sent = [r for r in httpx.get(f"{base}/receiver/requests").json()["requests"] if r["method"] == "PUT"]
    assert len(sent) == 50 and len({r["path"] for r in sent}) == 50
    assert (tmp_path / "home" / "restsync" / "staging" / "shop").is_dir()
    assert not (tmp_path / "first" / ".restsync").exists()

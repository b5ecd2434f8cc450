"""Hook sensors, the automation condition for new tables, and the Component."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import dagster as dg
import pytest
from werkzeug import Response

from restsync_dagster.dagster.factory import build_definitions
from tests.dagster.conftest import CUSTOMERS, ORDERS, component_defs, make_project

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hook-secret-7f3a9c"


def _hooked_project(tmp_path, base_url, hook_url_env, monkeypatch, events, table_params=None):
    monkeypatch.setenv("RESTSYNC_TEST_HOOK_URL", hook_url_env)
    table = dict(ORDERS, params=table_params or {})
    hook_doc = {"id": "ops", "type": "webhook", "url": "{{ env.RESTSYNC_TEST_HOOK_URL }}", "max_retries": 1,
                "headers": {"X-Token": "{{ env.RESTSYNC_TEST_HOOK_URL }}"}}
    return make_project(tmp_path, base_url, [table], extra_docs={"hooks/ops.json": hook_doc},
                        hooks=[{"id": "ops", "events": events}])


def _run(project, instance):
    defs = build_definitions(project=project)
    job = defs.resolve_job_def("shop_sync")
    return defs, job.execute_in_process(instance=instance, raise_on_error=False)


def _sensor_context(instance, result, sensor_name, status_event):
    run = instance.get_run_by_id(result.run_id)
    events = [e.dagster_event for e in instance.all_logs(result.run_id) if e.dagster_event and e.dagster_event.event_type_value == status_event]
    return dg.build_run_status_sensor_context(
        sensor_name=sensor_name, dagster_instance=instance, dagster_run=run, dagster_event=events[-1]
    )


def test_failed_run_posts_the_hook_without_secrets(demo_reset, tmp_path, monkeypatch, httpserver, caplog):
    httpserver.expect_request(f"/hooks/{SECRET}", method="POST").respond_with_data("ok")
    url = httpserver.url_for(f"/hooks/{SECRET}")
    project = _hooked_project(tmp_path, demo_reset.base_url, url, monkeypatch, ["pipeline_failed"],
                              table_params={"fail_status": 404})
    with dg.instance_for_test() as instance:
        defs, result = _run(project, instance)
        assert not result.success
        sensor = defs.resolve_sensor_def("shop__ops__pipeline_failed")
        ctx = _sensor_context(instance, result, sensor.name, "PIPELINE_FAILURE").for_run_failure()
        caplog.set_level(logging.DEBUG)
        outcome = sensor(ctx)
    (request, _response), = httpserver.log
    body = request.get_json()
    assert body["event"] == "pipeline_failed" and body["pipeline"] == "shop" and body["run_id"] == result.run_id
    assert body["url"].endswith(f"/runs/{result.run_id}")
    assert "404" in body["error"]
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))  # the receiver's own log
    assert SECRET not in json.dumps(body) + str(outcome) + ours


def test_canceled_run_fires_pipeline_stopped(demo_reset, tmp_path, monkeypatch, httpserver):
    httpserver.expect_request("/stopped", method="POST").respond_with_data("ok")
    project = _hooked_project(tmp_path, demo_reset.base_url, httpserver.url_for("/stopped"), monkeypatch, ["pipeline_stopped"])
    defs = build_definitions(project=project)
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(defs.resolve_job_def("shop_sync"))
        instance.report_run_canceled(run)
        sensor = defs.resolve_sensor_def("shop__ops__pipeline_stopped")
        events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_CANCELED"]
        ctx = dg.build_run_status_sensor_context(sensor_name=sensor.name, dagster_instance=instance,
                                                 dagster_run=instance.get_run_by_id(run.run_id), dagster_event=events[-1])
        sensor(ctx)
    (request, _), = httpserver.log
    assert request.get_json()["event"] == "pipeline_stopped"


def test_failing_receiver_does_not_break_the_sensor(demo_reset, tmp_path, monkeypatch, httpserver):
    httpserver.expect_request(f"/down/{SECRET}").respond_with_response(Response("boom", status=500))
    project = _hooked_project(tmp_path, demo_reset.base_url, httpserver.url_for(f"/down/{SECRET}"), monkeypatch,
                              ["pipeline_failed"], table_params={"fail_status": 404})
    with dg.instance_for_test() as instance:
        defs, result = _run(project, instance)
        sensor = defs.resolve_sensor_def("shop__ops__pipeline_failed")
        ctx = _sensor_context(instance, result, sensor.name, "PIPELINE_FAILURE").for_run_failure()
        outcome = sensor(ctx)
    assert len(httpserver.log) == 2  # first try + one retry
    assert "not delivered" in str(outcome) and "500" in str(outcome)
    assert SECRET not in str(outcome)


def test_new_table_is_requested_by_the_automation_condition(demo_reset, tmp_path):
    base = demo_reset.base_url
    old = make_project(tmp_path / "v1", base, [ORDERS], sync={"frequency": 60, "auto_sync_new_tables": True})
    new = make_project(tmp_path / "v2", base, [ORDERS, dict(CUSTOMERS, incremental=None, params={})],
                       sync={"frequency": 60, "auto_sync_new_tables": True})
    new.connections["lake"] = old.connections["lake"]
    with dg.instance_for_test() as instance:
        old_defs = build_definitions(project=old)
        first = dg.evaluate_automation_conditions(defs=old_defs, instance=instance)
        assert first.total_requested == 1
        dg.materialize(list(old_defs.get_repository_def().assets_defs_by_key.values()), instance=instance)
        second = dg.evaluate_automation_conditions(defs=old_defs, instance=instance, cursor=first.cursor)
        assert second.total_requested == 0
        new_defs = build_definitions(project=new)
        third = dg.evaluate_automation_conditions(defs=new_defs, instance=instance, cursor=second.cursor)
        requested = {key for r in third.results for key in ([r.key] if r.true_subset.size else [])}
        assert requested == {dg.AssetKey(["shop", "customers"])}
    sensors = {s.name: s for s in new_defs.sensors}
    assert sensors["restsync_automation"].default_status == dg.DefaultSensorStatus.RUNNING


def test_no_automation_sensor_unless_asked(demo, tmp_path):
    defs = build_definitions(project=make_project(tmp_path, demo.base_url, [ORDERS]))
    assert "restsync_automation" not in {s.name for s in defs.sensors}


def test_component_loads_the_same_assets_as_the_workspace():
    with component_defs() as defs:
        from_component = set(defs.resolve_all_asset_keys())
    from_workspace = set(build_definitions(ROOT / "definitions_yaml").resolve_all_asset_keys())
    assert from_component == from_workspace and len(from_workspace) >= 11


@pytest.mark.parametrize("launched_by", ["ui_asset_job", "restsync_sync"])
def test_hooks_fire_for_every_run_that_touches_the_pipeline(demo_reset, tmp_path, monkeypatch, httpserver, launched_by):
    httpserver.expect_request("/failed", method="POST").respond_with_data("ok")
    project = _hooked_project(tmp_path, demo_reset.base_url, httpserver.url_for("/failed"), monkeypatch,
                              ["pipeline_failed"], table_params={"fail_status": 404})
    defs = build_definitions(project=project)
    key = dg.AssetKey(["shop", "orders"])
    with dg.instance_for_test() as instance:
        if launched_by == "ui_asset_job":
            job = defs.resolve_implicit_global_asset_job_def()
            result = job.execute_in_process(instance=instance, asset_selection=[key], raise_on_error=False)
        else:
            assets = list(defs.get_repository_def().assets_defs_by_key.values())
            result = dg.materialize(assets, selection=[key], instance=instance, raise_on_error=False)
        assert not result.success
        sensor = defs.resolve_sensor_def("shop__ops__pipeline_failed")
        sensor(_sensor_context(instance, result, sensor.name, "PIPELINE_FAILURE").for_run_failure())
    (request, _), = httpserver.log
    assert request.get_json()["run_id"] == result.run_id


def test_hooks_ignore_runs_of_other_pipelines(demo_reset, tmp_path, monkeypatch, httpserver):
    httpserver.expect_request("/failed", method="POST").respond_with_data("ok")
    project = _hooked_project(tmp_path, demo_reset.base_url, httpserver.url_for("/failed"), monkeypatch,
                              ["pipeline_failed"])
    other = dict(ORDERS, name="other_orders", params={"fail_status": 404})
    project_b = make_project(tmp_path / "b", demo_reset.base_url, [other], name="billing")
    with dg.instance_for_test() as instance:
        assets = list(build_definitions(project=project_b).get_repository_def().assets_defs_by_key.values())
        result = dg.materialize(assets, instance=instance, raise_on_error=False)
        assert not result.success
        sensor = build_definitions(project=project).resolve_sensor_def("shop__ops__pipeline_failed")
        ctx = _sensor_context(instance, result, sensor.name, "PIPELINE_FAILURE").for_run_failure()
        assert isinstance(sensor(ctx), dg.SkipReason)
    assert httpserver.log == []

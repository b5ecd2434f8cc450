"""No env-derived secret reaches a Dagster event, metadata or error, even when the key is in the URL."""

from __future__ import annotations

import dagster as dg

from restsync_dagster.dagster.factory import build_definitions
from tests.dagster.conftest import ORDERS, make_project


def _all_text(instance: dg.DagsterInstance, run_id: str) -> str:
    parts = []
    for record in instance.all_logs(run_id):
        parts.append(record.user_message or "")
        parts.append(str(record.dagster_event) if record.dagster_event else "")
    return "\n".join(parts)


def test_api_key_in_query_param_never_reaches_events(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("RS_TEST_API_KEY", "demo-key")
    ok_table = {k: v for k, v in ORDERS.items() if k != "path"}
    ok_table = dict(ok_table, url=f"{demo_reset.base_url}/auth/api_key/keyset/orders",
                    auth={"type": "api_key", "param": "api_key", "key": "{{ env.RS_TEST_API_KEY }}"})
    bad_table = dict(ok_table, name="broken", url=f"{demo_reset.base_url}/auth/api_key/keyset/nothing")
    project = make_project(tmp_path, demo_reset.base_url, [ok_table, bad_table])
    defs = build_definitions(project=project)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("shop_sync").execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success  # the broken table fails with a 404
        assert result.asset_materializations_for_node("shop__orders")  # the good one synced with the key
        text = _all_text(instance, result.run_id)
    assert "404" in text
    assert "demo-key" not in text

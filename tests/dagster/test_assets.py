"""Tables as assets, materialized on a real Dagster instance against the demo API."""

from __future__ import annotations

import dagster as dg
import httpx
import polars as pl
from deltalake import DeltaTable

from restsync_dagster.dagster.factory import build_definitions
from tests.dagster.conftest import CUSTOMERS, EVENTS, ORDER_ITEMS, ORDERS, make_project

SPEC_METADATA = {
    "dagster/row_count",
    "dagster/column_schema",
    "restsync/preview",
    "restsync/pages",
    "restsync/requests",
    "restsync/retries",
    "restsync/rate_limit_wait_s",
    "restsync/bytes_received",
    "restsync/cursor_before",
    "restsync/cursor_after",
    "restsync/table_uri",
    "restsync/table_version",
}


def _materialize(project, selection=None, instance=None, **kwargs):
    defs = build_definitions(project=project)
    assets = list(defs.get_repository_def().assets_defs_by_key.values())
    return dg.materialize(
        assets,
        selection=selection,
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        **kwargs,
    )


def _metadata(result, key):
    mats = result.asset_materializations_for_node(f"shop__{key}")
    assert mats, f"no materialization of {key}"
    mat = mats[-1]
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}


def test_materialize_reports_spec_metadata_and_checks_pass(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [CUSTOMERS])
    result = _materialize(project)
    assert result.success, result.get_run_failure_event()
    meta = _metadata(result, "customers")
    assert SPEC_METADATA <= set(meta)
    assert meta["dagster/row_count"] == 10_000
    assert meta["restsync/pages"] == 10 and meta["restsync/requests"] == 10
    assert meta["restsync/bytes_received"] > 1_000_000
    assert [c.name for c in meta["dagster/column_schema"].columns][:5] == ["id", "name", "email", "city", "updated_at"]
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {"primary_key_unique_not_null", "schema_matches_declared", "cursor_not_backwards"}
    assert all(c.passed for c in checks), [(c.check_name, c.metadata) for c in checks]
    assert DeltaTable(meta["restsync/table_uri"]).version() == meta["restsync/table_version"] == 0


def test_incremental_second_run_requests_only_new_rows(demo_reset, tmp_path):
    base = demo_reset.base_url
    project = make_project(tmp_path, base, [CUSTOMERS])
    first = _materialize(project)
    cursor = _metadata(first, "customers")["restsync/cursor_after"]
    httpx.post(f"{base}/_admin/touch", json={"resource": "customers", "ids": [3, 30, 300]}).raise_for_status()
    second = _materialize(project)
    meta = _metadata(second, "customers")
    assert meta["restsync/cursor_before"] == cursor
    assert meta["restsync/rows_synced"] == 3
    assert meta["dagster/row_count"] == 10_000
    stats = httpx.get(f"{base}/_admin/stats").json()
    sent = stats["last_params"]["/offset/customers"]["updated_since"]
    assert sent.replace("+00:00", "Z").startswith(cursor.replace("+00:00", "Z")[:19])
    table = pl.read_delta(meta["restsync/table_uri"])
    assert str(table["updated_at"].max().isoformat()).startswith(meta["restsync/cursor_after"][:19])
    assert table["id"].n_unique() == 10_000


def test_partitioned_backfill_then_rerun_is_idempotent(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [EVENTS])
    instance = dg.DagsterInstance.ephemeral()
    backfill = _materialize(
        project,
        instance=instance,
        tags={"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-03"},
    )
    assert backfill.success, backfill.get_run_failure_event()
    assert len(backfill.asset_materializations_for_node("shop__events")) == 3  # one per partition, one run
    uri = _metadata(backfill, "events")["restsync/table_uri"]
    before = pl.read_delta(uri).sort("id")
    assert before.height == 3 * 144
    assert sorted(before["_restsync_partition"].unique().to_list()) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    rerun = _materialize(project, instance=instance, partition_key="2026-01-02")
    assert rerun.success
    after = pl.read_delta(uri).sort("id")
    assert after.height == before.height
    assert after.select("id", "ts").equals(before.select("id", "ts"))


def test_server_dying_mid_sync_leaves_table_untouched_and_rerun_converges(demo_reset, tmp_path):
    base = demo_reset.base_url
    project = make_project(tmp_path, base, [dict(CUSTOMERS, incremental=None, params={})])
    ok = _materialize(project)
    uri = _metadata(ok, "customers")["restsync/table_uri"]
    version = DeltaTable(uri).version()
    httpx.post(f"{base}/_admin/touch", json={"resource": "customers", "ids": [1, 9_999]}).raise_for_status()
    dying = make_project(tmp_path / "dying", base, [dict(CUSTOMERS, incremental=None, params={"fail_after_pages": 3})])
    dying.connections["lake"] = project.connections["lake"]
    failed = _materialize(dying)
    assert not failed.success
    failure = failed.get_run_failure_event()
    assert failure is not None
    assert DeltaTable(uri).version() == version
    rerun = _materialize(project)
    assert rerun.success
    table = pl.read_delta(uri)
    assert table.height == table["id"].n_unique() == 10_000


def test_child_table_requests_once_per_parent_row(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [ORDERS, ORDER_ITEMS])
    result = _materialize(project)
    assert result.success, result.get_run_failure_event()
    items = _metadata(result, "order_items")
    assert items["restsync/requests"] == 2_000
    table = pl.read_delta(items["restsync/table_uri"])
    assert table["order_id"].n_unique() == 2_000
    assert table.select("order_id", "line").is_duplicated().sum() == 0


def test_asset_specs_follow_the_spec(demo, tmp_path):
    project = make_project(tmp_path, demo.base_url, [ORDERS, ORDER_ITEMS, EVENTS], owners=["team@example.com"])
    defs = build_definitions(project=project)
    graph = defs.get_repository_def().asset_graph
    items = graph.get(dg.AssetKey(["shop", "order_items"]))
    assert items.group_name == "shop"
    assert set(items.kinds) >= {"rest", "delta"}
    assert dg.AssetKey(["shop", "orders"]) in items.parent_keys
    node = defs.get_repository_def().assets_defs_by_key[dg.AssetKey(["shop", "events"])]
    assert node.partitions_def is not None
    assert node.backfill_policy == dg.BackfillPolicy.single_run()
    assert node.specs_by_key[dg.AssetKey(["shop", "events"])].owners == ["team@example.com"]
    assert {op.pool for op in [node.op]} == {"restsync/demo"}


def test_max_per_run_gives_a_multi_run_backfill_policy(demo, tmp_path):
    weekly_runs = dict(EVENTS, name="events_parallel", partitions=dict(EVENTS["partitions"], max_per_run=3))
    defs = build_definitions(project=make_project(tmp_path, demo.base_url, [EVENTS, weekly_runs]))
    by_key = defs.get_repository_def().assets_defs_by_key
    assert by_key[dg.AssetKey(["shop", "events_parallel"])].backfill_policy == dg.BackfillPolicy.multi_run(3)
    assert by_key[dg.AssetKey(["shop", "events"])].backfill_policy == dg.BackfillPolicy.single_run()


def test_child_of_a_history_mode_parent_reads_current_parent_rows(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [dict(ORDERS, path="/keyset/orders", max_records=20), ORDER_ITEMS],
                           transformations=[{"type": "history_mode", "table": "orders"}])
    result = _materialize(project)
    assert result.success, result.get_run_failure_event()
    assert _metadata(result, "order_items")["restsync/requests"] == 20

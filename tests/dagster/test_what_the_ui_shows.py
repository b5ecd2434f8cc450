"""What a Dagster user sees: run tags, per-partition metadata, standard keys, descriptions, lineage."""

from __future__ import annotations

import dagster as dg

from restsync_dagster.dagster.factory import build_definitions
from tests.dagster.conftest import CUSTOMERS, EVENTS, ORDER_ITEMS, ORDERS, make_project

RANGE = {"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-03"}


def _assets(defs):
    return list(defs.get_repository_def().assets_defs_by_key.values())


def _values(metadata):
    return {k: getattr(v, "value", v) for k, v in metadata.items()}


def test_a_run_launched_from_the_ui_carries_the_pipeline_tag(demo_reset, tmp_path):
    defs = build_definitions(project=make_project(tmp_path, demo_reset.base_url, [ORDERS]))
    with dg.instance_for_test() as instance:
        job = defs.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(["shop", "orders"])])
        assert result.success
        assert "restsync/pipeline" not in job.tags
        assert instance.get_run_by_id(result.run_id).tags["restsync/pipeline"] == "shop"


def test_a_multi_partition_run_records_each_partitions_own_counts(demo_reset, tmp_path):
    defs = build_definitions(project=make_project(tmp_path, demo_reset.base_url, [EVENTS]))
    with dg.instance_for_test() as instance:
        result = dg.materialize(_assets(defs), instance=instance, tags=RANGE)
        assert result.success
        mats = {m.partition: _values(m.metadata) for m in result.asset_materializations_for_node("shop__events")}
    assert sorted(mats) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert {m["dagster/partition_row_count"] for m in mats.values()} == {144}
    assert {m["restsync/rows_synced"] for m in mats.values()} == {144}
    assert {m["restsync/pages"] for m in mats.values()} == {3}
    assert sorted(m["restsync/table_version"] for m in mats.values()) == [0, 1, 2]
    assert {m["dagster/row_count"] for m in mats.values()} == {3 * 144}


def test_materialization_uses_standard_keys_and_readable_values(demo_reset, tmp_path):
    notes = {"name": "notes", "type": "json", "path": "address"}
    customers = dict(CUSTOMERS, schema=[*CUSTOMERS["schema"], notes])
    defs = build_definitions(project=make_project(tmp_path, demo_reset.base_url, [customers]))
    with dg.instance_for_test() as instance:
        result = dg.materialize(_assets(defs), instance=instance)
        assert result.success
        meta = _values(result.asset_materializations_for_node("shop__customers")[-1].metadata)
    assert meta["dagster/uri"] == meta["restsync/table_uri"] == str(tmp_path / "lake" / "shop" / "customers")
    assert meta["dagster/table_name"] == "shop.customers"
    assert meta["dagster/row_count"] == 10_000
    assert meta["restsync/cursor_before"] == "none yet"
    types = {c.name: c.type for c in meta["dagster/column_schema"].columns}
    assert types["notes"] == "json" and types["name"] == "string"
    for key, value in meta.items():
        if not isinstance(value, dg.TableSchema):
            assert value is not None and "None" not in str(value), key


def test_each_table_has_its_own_description_and_code_reference(tmp_path):
    own = dict(CUSTOMERS, description="Everyone who ever bought something")
    project = make_project(tmp_path, "http://127.0.0.1:9", [own, ORDERS, ORDER_ITEMS], description="The demo shop")
    specs = {s.key.path[-1]: s for s in build_definitions(project=project).resolve_all_asset_specs()}
    assert specs["customers"].description == "Everyone who ever bought something"
    assert specs["orders"].description == ("`orders`: `GET /keyset/orders` on connection `demo`; keyset pagination; "
                                           "write mode: merge on id.")
    assert "one request per row of `orders`" in specs["order_items"].description
    assert not any("The demo shop" in s.description for s in specs.values())
    text = (tmp_path / "defs" / "pipelines" / "shop.yaml").read_text().splitlines()
    for name in ("customers", "orders", "order_items"):
        (ref,) = specs[name].metadata["dagster/code_references"].code_references
        assert ref.file_path == str((tmp_path / "defs" / "pipelines" / "shop.yaml").resolve())
        assert f"name: {name}" in text[ref.line_number - 1]


def test_reverse_etl_of_a_table_another_pipeline_writes_depends_on_that_asset(demo_reset, tmp_path):
    base = demo_reset.base_url
    people = dict(CUSTOMERS, name="people", incremental=None, params={}, max_records=5,
                  schema=[{"name": "id", "type": "long"}, {"name": "email", "type": "string"}])
    reverse = {
        "definition_version": 1, "name": "r", "source": {"connection": {"id": "lake"}},
        "destination": {"connection": {"id": "out"}, "request": {"path": "/receiver/contacts", "request_mode": "batch",
                                                                   "batch_size": 10, "nested_attribute": "records"}},
        "staging": {"connection": {"id": "lake"}},
        "sync": {"frequency": 60}, "tables": [{"name": "crm/people", "primary_key": ["id"]}, {"name": "elsewhere/x", "primary_key": ["id"]}],
    }
    extra = {"connections/out.yaml": {"id": "out", "type": "rest", "base_url": base}, "pipelines/r.yaml": reverse}
    project = make_project(tmp_path, base, [people], extra_docs=extra, name="crm")
    defs = build_definitions(project=project)
    graph = defs.resolve_asset_graph()
    delivery = dg.AssetKey(["r", "crm_people", "delivery"])
    assert graph.get(delivery).parent_keys == {dg.AssetKey(["crm", "people"])}
    assert not graph.has(dg.AssetKey(["r", "crm_people"]))
    assert graph.get(dg.AssetKey(["r", "elsewhere_x", "delivery"])).parent_keys == {dg.AssetKey(["r", "elsewhere_x"])}
    with dg.instance_for_test() as instance:
        job = defs.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(["crm", "people"]), delivery])
        assert result.success
    (mat,) = result.asset_materializations_for_node("r__crm_people__delivery")
    assert mat.metadata["restsync/delivered"].value == 5


def _requested(evaluation):
    return {r.key: r.true_subset.size for r in evaluation.results if r.true_subset.size}


def test_a_new_partitioned_table_syncs_its_latest_partition_only(demo_reset, tmp_path):
    auto = {"frequency": 60, "auto_sync_new_tables": True}
    defs = build_definitions(project=make_project(tmp_path, demo_reset.base_url, [ORDERS, EVENTS], sync=auto))
    events = dg.AssetKey(["shop", "events"])
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert _requested(first) == {dg.AssetKey(["shop", "orders"]): 1, events: 1}
        (result,) = [r for r in first.results if r.key == events]
        assert result.true_subset.expensively_compute_partition_keys() == {"2026-01-09"}  # the last window before `end`


def test_a_partitioned_table_that_has_data_is_not_new(demo_reset, tmp_path):
    auto = {"frequency": 60, "auto_sync_new_tables": True}
    defs = build_definitions(project=make_project(tmp_path, demo_reset.base_url, [EVENTS], sync=auto))
    with dg.instance_for_test() as instance:
        assert dg.materialize(_assets(defs), instance=instance, partition_key="2026-01-05").success
        evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert _requested(evaluation) == {}

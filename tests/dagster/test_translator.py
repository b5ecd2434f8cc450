"""A user's RestSyncTranslator subclass decides keys, groups and tags; descriptions reach the UI."""

from __future__ import annotations

import dagster as dg

from restsync_dagster import RestSyncTranslator
from restsync_dagster.dagster.factory import build_definitions
from restsync_dagster.dagster.translator import TableContext
from tests.dagster.conftest import ORDER_ITEMS, ORDERS, component_defs, make_project


class PrefixedTranslator(RestSyncTranslator):
    def get_asset_spec(self, context: TableContext) -> dg.AssetSpec:
        spec = super().get_asset_spec(context)
        return spec.replace_attributes(
            key=spec.key.with_prefix("raw"), group_name="landing"
        ).merge_attributes(tags={"team": "data"})


def test_a_subclass_changes_keys_groups_and_tags(tmp_path):
    project = make_project(tmp_path, "http://127.0.0.1:9", [ORDERS, ORDER_ITEMS],
                           destination={"connection": {"id": "out"}, "request": {"path": "/in/#{id}", "method": "PUT"}},
                           staging={"connection": {"id": "lake"}},
                           extra_docs={"connections/out.yaml": {"id": "out", "type": "rest", "base_url": "http://127.0.0.1:9"}})
    defs = build_definitions(project=project, translator=PrefixedTranslator())
    keys = set(defs.resolve_all_asset_keys())
    orders, items = dg.AssetKey(["raw", "shop", "orders"]), dg.AssetKey(["raw", "shop", "order_items"])
    assert {orders, items, dg.AssetKey(["raw", "shop", "orders", "delivery"])} <= keys
    assert not any(k.path[0] == "shop" for k in keys)
    graph = defs.resolve_asset_graph()
    assert graph.get(items).parent_keys == {orders}
    assert orders in graph.get(dg.AssetKey(["raw", "shop", "orders", "delivery"])).parent_keys
    spec = defs.resolve_assets_def(orders).specs_by_key[orders]
    assert spec.group_name == "landing" and spec.tags["team"] == "data"


def test_descriptions_of_tables_and_columns_reach_the_asset(tmp_path):
    described = dict(ORDERS, schema=[{"name": "id", "type": "long", "description": "Order number"},
                                     {"name": "total", "type": "double"}])
    own = dict(ORDER_ITEMS, description="Lines of each order")
    project = make_project(tmp_path, "http://127.0.0.1:9", [described, own], description="The demo shop")
    defs = build_definitions(project=project)
    orders = defs.resolve_assets_def(dg.AssetKey(["shop", "orders"])).specs_by_key[dg.AssetKey(["shop", "orders"])]
    items_key = dg.AssetKey(["shop", "order_items"])
    items = defs.resolve_assets_def(items_key).specs_by_key[items_key]
    assert "The demo shop" not in orders.description and orders.description.startswith("`orders`: `GET /keyset/orders`")
    assert items.description.startswith("Lines of each order")
    columns = {c.name: c.description for c in orders.metadata["dagster/column_schema"].columns}
    assert columns == {"id": "Order number", "total": None}


def test_the_component_takes_a_translator_by_python_path():
    with component_defs(translator="tests.dagster.test_translator:PrefixedTranslator") as defs:
        keys = set(defs.resolve_all_asset_keys())
    assert keys and all(k.path[0] == "raw" for k in keys if len(k.path) > 1)

"""A connection's resource owns its client: overriding it in ``materialize()`` redirects the assets."""

from __future__ import annotations

import dagster as dg
import httpx

from restsync_dagster.dagster.factory import build_definitions
from restsync_dagster.dagster.resources import DeltaConnectionResource, RestConnectionResource, resource_key
from restsync_dagster.demo.server import DemoServer
from tests.dagster.conftest import ORDERS, make_project


def _requests(server: DemoServer) -> int:
    return httpx.get(f"{server.base_url}/_admin/stats").json()["requests"]


def test_an_overridden_base_url_is_the_one_the_asset_reads(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [ORDERS])
    defs = build_definitions(project=project)
    key = resource_key("demo")
    default = defs.resources[key]
    assert isinstance(default, RestConnectionResource) and default.base_url == demo_reset.base_url
    with DemoServer(port=0) as other:
        override = RestConnectionResource(**{**default.model_dump(), "base_url": other.base_url})
        result = dg.materialize(defs.assets, resources={**defs.resources, key: override},
                                instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
        assert result.success, result.get_run_failure_event()
        served_by_other = _requests(other)
    mats = result.asset_materializations_for_node("shop__orders")
    assert mats[-1].metadata["restsync/requests"].value == served_by_other > 0
    assert _requests(demo_reset) == 0


def test_a_resource_without_a_run_has_no_client(tmp_path):
    project = make_project(tmp_path, "http://127.0.0.1:9", [ORDERS])
    resource = build_definitions(project=project).resources[resource_key("demo")]
    try:
        resource.client
    except Exception as exc:
        assert "opened when a run starts" in str(exc)
    else:
        raise AssertionError("a client outside a run")


def test_an_overridden_delta_path_is_where_the_table_lands(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [ORDERS])
    defs = build_definitions(project=project)
    key = resource_key("lake")
    moved = DeltaConnectionResource(**{**defs.resources[key].model_dump(), "path": str(tmp_path / "elsewhere")})
    result = dg.materialize(defs.assets, resources={**defs.resources, key: moved},
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success, result.get_run_failure_event()
    assert (tmp_path / "elsewhere" / "shop" / "orders" / "_delta_log").is_dir()
    assert not (tmp_path / "lake").exists()

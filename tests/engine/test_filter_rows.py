"""filter_rows: rows that do not match the polars SQL condition never reach the Delta table."""

from __future__ import annotations

import httpx
import pytest
from deltalake import DeltaTable

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.errors import SchemaError
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project
from tests.support import offset_table

ORDERS = offset_table("orders", "/offset/orders", page_size=1000)
WHERE = "status != 'cancelled' AND total_cents >= 10000"


def _sync(project):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table("orders"), run_id="r1", client=client, secrets=secrets)


def test_rows_not_matching_are_dropped(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [ORDERS],
                           transformations=[{"type": "filter_rows", "table": "orders", "config": {"where": WHERE}}])
    result = _sync(project)
    source = httpx.get(f"{demo_reset.base_url}/offset/orders", params={"limit": 1000, "offset": 0}).json()["data"]
    source += httpx.get(f"{demo_reset.base_url}/offset/orders", params={"limit": 1000, "offset": 1000}).json()["data"]
    expected = sorted(o["id"] for o in source if o["status"] != "cancelled" and o["total_cents"] >= 10000)
    assert 0 < len(expected) < 2000
    assert result.write.rows == 2000
    ids = DeltaTable(result.write.table_uri).to_pyarrow_table().column("id").to_pylist()
    assert sorted(ids) == expected


def test_a_condition_on_a_column_the_api_does_not_send_fails_the_run(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [ORDERS],
                           transformations=[{"type": "filter_rows", "config": {"where": "state != 'x'"}}])
    with pytest.raises(SchemaError, match=r"transformations\[0\] \(filter_rows\): the condition \"state != 'x'\" cannot be applied"):
        _sync(project)
    assert not DeltaTable.is_deltatable(str(tmp_path / "lake" / "shop" / "orders"))

"""Request streams (one per parent row or fan-out value) run concurrently within the connection's
`max_concurrency`, and the table equals the one a sequential walk writes."""

from __future__ import annotations

import httpx
import pytest
from deltalake import DeltaTable

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.errors import HttpError
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project

ORDERS = {"name": "orders", "path": "/offset/orders", "response": {"root_key": "data"}, "primary_key": ["id"],
          "pagination": {"type": "offset", "page_size": 60}, "max_pages": 1}
ITEMS = {"name": "items", "path": "/orders/{{ parent.order_id }}/items", "params": {"delay": "0.05"},
         "response": {"root_key": "items"}, "parent": {"table": "orders", "fields": {"id": "order_id"}},
         "primary_key": ["order_id", "line"]}


def _project(tmp_path, base_url, concurrency, items=ITEMS):
    conn = {"id": "demo", "type": "rest", "base_url": base_url,
            "rate_limit": {"max_concurrency": concurrency, "backoff_s": 0.05, "max_retries": 1}}
    return make_project(tmp_path, base_url, [ORDERS, items], extra_docs={"connections/demo.yaml": conn})


def _sync(project, name):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table(name), run_id="r1", client=client, secrets=secrets)


def _stats(demo):
    return httpx.get(f"{demo.base_url}/_admin/stats").json()


def _rows(result):
    return DeltaTable(result.write.table_uri).to_pyarrow_table().drop_columns(
        ["_restsync_loaded_at", "_restsync_run_id"]).sort_by([("order_id", "ascending"), ("line", "ascending")]).to_pylist()


@pytest.mark.parametrize("concurrency", [1, 4])
def test_child_requests_run_concurrently_within_max_concurrency(demo_reset, tmp_path, concurrency):
    project = _project(tmp_path / str(concurrency), demo_reset.base_url, concurrency)
    _sync(project, "orders")
    httpx.post(f"{demo_reset.base_url}/_admin/reset").raise_for_status()
    result = _sync(project, "items")
    stats = _stats(demo_reset)
    assert result.fetch.requests == 60 and stats["requests"] == 60
    assert stats["peak_in_flight"] == concurrency
    assert {r["order_id"] for r in _rows(result)} == set(range(1, 61))


def test_concurrent_streams_write_what_a_sequential_walk_writes(demo_reset, tmp_path):
    one = _project(tmp_path / "one", demo_reset.base_url, 1)
    four = _project(tmp_path / "four", demo_reset.base_url, 4)
    for project in (one, four):
        _sync(project, "orders")
    assert _rows(_sync(one, "items")) == _rows(_sync(four, "items"))


def test_a_stream_failing_for_good_leaves_the_table_as_it_was(demo_reset, tmp_path):
    project = _project(tmp_path, demo_reset.base_url, 4)
    _sync(project, "orders")
    first = _sync(project, "items")
    failing = dict(ITEMS, params={"fail_status": "500", "fault_key": "items", "fail_times": "1000"})
    broken = _project(tmp_path, demo_reset.base_url, 4, items=failing)
    with pytest.raises(HttpError, match="500"):
        _sync(broken, "items")
    assert DeltaTable(first.write.table_uri).version() == first.write.version

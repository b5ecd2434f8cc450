"""`skip_statuses`: a child endpoint's 404 for a parent that is gone yields no rows and never fails;
`error_path`: a 200 carrying GraphQL-style errors is a failed request."""

from __future__ import annotations

import orjson
import pytest
from deltalake import DeltaTable
from pytest_httpserver import HTTPServer
from werkzeug import Response

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.errors import HttpError
from restsync_dagster.http import RequestStats, iter_pages
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project
from tests.http.helpers import table

# customers 1991..2010 stand in for orders: orders 1..2000 exist, the rest answer 404
PARENTS = {"name": "orders", "path": "/offset/customers", "response": {"root_key": "data"},
           "pagination": {"type": "offset", "page_size": 20, "start": 1990}, "max_pages": 1,
           "schema": [{"name": "id", "type": "long"}]}
ITEMS = {"name": "items", "path": "/orders/{{ parent.order_id }}/items", "response": {"root_key": "items"},
         "parent": {"table": "orders", "fields": {"id": "order_id"}}, "primary_key": ["order_id", "line"]}


def sync(project, name):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table(name), run_id="r1", client=client, secrets=secrets)


@pytest.mark.parametrize("where", ["table", "connection"])
def test_a_404_for_a_missing_parent_yields_no_rows_and_is_counted(demo_reset, tmp_path, where):
    items = dict(ITEMS, response={**ITEMS["response"], "skip_statuses": [404]}) if where == "table" else ITEMS
    conn = {"id": "demo", "type": "rest", "base_url": demo_reset.base_url, "rate_limit": {"backoff_s": 0.05, "max_retries": 2}}
    if where == "connection":
        conn["skip_statuses"] = [404]
    project = make_project(tmp_path, demo_reset.base_url, [PARENTS, items], extra_docs={"connections/demo.yaml": conn})
    assert sync(project, "orders").write.rows == 20
    result = sync(project, "items")
    assert result.fetch.requests_skipped == 10 and result.fetch.requests == 20
    rows = DeltaTable(result.write.table_uri).to_pyarrow_table(columns=["order_id"]).column("order_id").to_pylist()
    assert set(rows) == set(range(1991, 2001))
    assert result.write.rows == len(rows)


def test_without_skip_statuses_the_404_fails_the_sync(demo_reset, tmp_path):
    project = make_project(tmp_path, demo_reset.base_url, [PARENTS, ITEMS])
    sync(project, "orders")
    with pytest.raises(HttpError, match=r"returned 404 Not Found"):
        sync(project, "items")


def test_a_table_can_skip_nothing_although_its_connection_skips(demo_reset, tmp_path):
    conn = {"id": "demo", "type": "rest", "base_url": demo_reset.base_url, "skip_statuses": [404]}
    items = dict(ITEMS, response={**ITEMS["response"], "skip_statuses": []})
    project = make_project(tmp_path, demo_reset.base_url, [PARENTS, items], extra_docs={"connections/demo.yaml": conn})
    sync(project, "orders")
    with pytest.raises(HttpError, match=r"404"):
        sync(project, "items")


def test_graphql_errors_in_a_200_are_retried_then_fail(httpserver: HTTPServer, make_client):
    body = {"data": None, "errors": [{"message": "Cannot query field 'nme' on type 'Customer'"}]}
    httpserver.expect_request("/graphql", method="POST").respond_with_json(body)
    client = make_client(httpserver.url_for("/"), rate_limit={"backoff_s": 0.01, "max_retries": 2})
    t = table(name="customers", path="/graphql", method="POST", body={"query": "{ customers { nme } }"},
              response={"root_key": "data.customers", "error_path": "errors"})
    stats = RequestStats()
    with pytest.raises(HttpError) as caught:
        list(iter_pages(client, t, stats=stats))
    assert stats.requests == 3
    assert "the body has errors at 'errors'" in str(caught.value) and "Cannot query field" in str(caught.value)


def test_an_empty_errors_list_is_no_error(httpserver: HTTPServer, make_client):
    httpserver.expect_request("/graphql", method="POST").respond_with_json({"data": {"customers": [{"id": 1}]}, "errors": []})
    client = make_client(httpserver.url_for("/"))
    t = table(name="customers", path="/graphql", method="POST", body={"query": "{ customers { id } }"},
              response={"root_key": "data.customers", "error_path": "errors"})
    assert [p.records for p in iter_pages(client, t)] == [[{"id": 1}]]


def test_stop_on_empty_page_ends_a_cursor_that_never_runs_out(httpserver: HTTPServer, make_client):
    pages = {None: {"data": [{"id": 1}], "next": "c1"}, "c1": {"data": [{"id": 2}], "next": "c2"},
             "c2": {"data": [], "next": "c3"}}
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: Response(orjson.dumps(pages.get(r.args.get("cursor"), pages["c2"])), content_type="application/json"))
    client = make_client(httpserver.url_for("/"))
    t = table(name="items", path="/items", response={"root_key": "data"},
              pagination={"type": "cursor", "cursor_field": "next", "stop_on_empty_page": True})
    walked = list(iter_pages(client, t))
    assert [len(p.records) for p in walked] == [1, 1, 0]
    assert walked[-1].decision.endswith("empty page and stop_on_empty_page: stop")
    assert len(httpserver.log) == 3

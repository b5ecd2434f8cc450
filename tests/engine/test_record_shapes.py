"""Record shapes synced into Delta against the demo API: exploded nested lists, list-index paths,
JSON lines, header rows and compressed bodies."""

from __future__ import annotations

import gzip

import httpx
import pytest
from deltalake import DeltaTable
from pytest_httpserver import HTTPServer

from restsync_dagster.errors import HttpError, ResponseError
from restsync_dagster.http import iter_pages
from restsync_dagster.demo.data import make_items
from tests.engine.test_body_pagination import ids, requests_to, sync
from tests.dagster.conftest import make_project
from tests.http.helpers import table as http_table

ID = [{"name": "id", "type": "long"}]


def columns(result, *names):
    return DeltaTable(result.write.table_uri).to_pyarrow_table(columns=list(names)).sort_by([(n, "ascending") for n in names]).to_pylist()


def test_explode_makes_one_row_per_nested_element_with_the_parent_fields(demo_reset, tmp_path):
    table = {"name": "activity", "path": "/shapes/orders_activity", "params": {"limit": 20},
             "response": {"root_key": "data", "explode": "activity"}, "primary_key": ["parent_id", "line"],
             "schema": [{"name": "parent_id", "type": "long"}, {"name": "line", "type": "long"},
                        {"name": "sku", "type": "string"}, {"name": "status", "type": "string", "path": "parent_status"}]}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "activity")
    expected = [(o, item["line"], item["sku"]) for o in range(1, 21) for item in make_items(o)]
    rows = columns(result, "parent_id", "line", "sku", "status")
    assert [(r["parent_id"], r["line"], r["sku"]) for r in rows] == expected
    assert result.write.rows == len(expected) > 20
    assert all(r["status"] for r in rows)


def test_list_index_paths_in_the_schema(demo_reset, tmp_path):
    table = {"name": "orders", "path": "/shapes/orders_activity", "params": {"limit": 10},
             "response": {"root_key": "data"}, "primary_key": ["id"],
             "schema": [{"name": "id", "type": "long"}, {"name": "first_sku", "type": "string", "path": "activity.0.sku"},
                        {"name": "last_line", "type": "long", "path": "activity.-1.line"}]}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "orders")
    rows = columns(result, "id", "first_sku", "last_line")
    assert rows == [{"id": o, "first_sku": make_items(o)[0]["sku"], "last_line": make_items(o)[-1]["line"]}
                    for o in range(1, 11)]


@pytest.mark.parametrize("fmt, path, root_key", [("jsonl", "/shapes/customers.jsonl", None),
                                                  ("header_rows", "/shapes/header_rows", "report.rows")])
def test_jsonl_and_header_rows_page_with_offsets(demo_reset, tmp_path, fmt, path, root_key):
    table = {"name": "customers", "path": path, "response": {"format": fmt, "root_key": root_key},
             "pagination": {"type": "offset", "page_size": 100}, "max_records": 250, "primary_key": ["id"],
             "schema": [{"name": "id", "type": "long"}, {"name": "email", "type": "string"}]}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "customers")
    assert ids(result) == list(range(1, 251))
    assert all("@" in r["email"] for r in columns(result, "id", "email"))
    assert requests_to(demo_reset, path) == 3


@pytest.mark.parametrize("how, compression", [("gzip", "gzip"), ("zip", "zip"), ("encoding", None)])
def test_compressed_bodies(demo_reset, tmp_path, how, compression):
    table = {"name": "customers", "path": "/shapes/compressed", "params": {"compression": how, "limit": 30},
             "response": {"root_key": "data", "compression": compression}, "schema": ID, "primary_key": ["id"]}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "customers")
    assert ids(result) == list(range(1, 31))


def test_a_gzip_body_read_without_compression_fails_instead_of_giving_rows(demo_reset, make_client):
    client = make_client(demo_reset.base_url, rate_limit={"backoff_s": 0.01, "max_retries": 1})
    t = http_table(name="customers", path="/shapes/compressed", response={"root_key": "data"})
    with pytest.raises(HttpError, match="not valid JSON"):
        list(iter_pages(client, t))
    assert gzip.decompress(httpx.get(f"{demo_reset.base_url}/shapes/compressed?limit=2").content).startswith(b'{"data"')


def test_header_rows_with_a_short_row_names_the_page(httpserver: HTTPServer, make_client):
    httpserver.expect_request("/report").respond_with_json({"rows": [["id", "name"], [1, "a"], [2]]})
    t = http_table(name="report", path="/report", response={"root_key": "rows", "format": "header_rows"})
    with pytest.raises(ResponseError, match=r"table 'report', page 1: format header_rows: row 2 has 1 values, expected 2"):
        list(iter_pages(make_client(httpserver.url_for("/")), t))


def test_preview_decisions_show_the_explode(demo_reset, make_client):
    t = http_table(name="activity", path="/shapes/orders_activity", params={"limit": 3},
                   response={"root_key": "data", "explode": "activity"})
    pages = list(iter_pages(make_client(demo_reset.base_url), t))
    rows = sum(len(make_items(o)) for o in range(1, 4))
    assert pages[0].decision.endswith(f"; explode 'activity': 3 records → {rows} rows")
    assert len(pages[0].records) == rows

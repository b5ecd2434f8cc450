"""Pagination values in the JSON body or a header, and `{{ page.* }}` in a GraphQL query, synced
into Delta against the demo API."""

from __future__ import annotations

import httpx
from deltalake import DeltaTable

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project

ID = [{"name": "id", "type": "long"}]


def sync(project, name):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table(name), run_id="r1", client=client, secrets=secrets)


def ids(result) -> list[int]:
    return sorted(DeltaTable(result.write.table_uri).to_pyarrow_table(columns=["id"]).column("id").to_pylist())


def requests_to(demo, path: str) -> int:
    return httpx.get(f"{demo.base_url}/_admin/stats").json()["by_path"].get(path, 0)


def test_keyset_values_in_a_nested_body_path(demo_reset, tmp_path):
    table = {"name": "customers", "path": "/body/customers", "method": "POST", "body": {"expand": ["address"]},
             "response": {"root_key": "data"}, "schema": ID, "primary_key": ["id"], "max_records": 250,
             "pagination": {"type": "keyset", "page_size": 100,
                            "inject": {"into": "body", "path": "pagination.starting_after"},
                            "size_inject": {"into": "body", "path": "pagination.limit"}}}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "customers")
    assert ids(result) == list(range(1, 251))
    assert requests_to(demo_reset, "/body/customers") == 3


def test_page_number_and_size_in_headers(demo_reset, tmp_path):
    table = {"name": "customers", "path": "/header/customers", "response": {"root_key": "data"},
             "schema": ID, "primary_key": ["id"],
             "pagination": {"type": "page_number", "page_size": 400, "max_pages": 3,
                            "inject": {"into": "header", "path": "X-Page"},
                            "size_inject": {"into": "header", "path": "X-Page-Size"}}}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "customers")
    assert ids(result) == list(range(1, 1201))
    assert requests_to(demo_reset, "/header/customers") == 3


QUERY = '{ orders(first: {{ page.size }}{% if page.cursor %}, after: "{{ page.cursor }}"{% endif %}) { nodes { id } } }'


def test_graphql_cursor_pages_through_a_templated_query(demo_reset, tmp_path):
    table = {"name": "orders", "path": "/graphql", "method": "POST", "body": {"query": QUERY},
             "response": {"root_key": "data.orders.nodes", "error_path": "errors"}, "schema": ID, "primary_key": ["id"],
             "pagination": {"type": "cursor", "cursor_field": "data.orders.pageInfo.endCursor", "page_size": 500,
                            "size_inject": {"into": "body", "path": "variables.first"},
                            "inject": {"into": "body", "path": "variables.after"}}}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "orders")
    assert ids(result) == list(range(1, 2001))
    # 4 full pages, then a fifth that is empty and has no end cursor
    assert requests_to(demo_reset, "/graphql") == 5


def test_graphql_page_number_in_the_query_text(demo_reset, tmp_path):
    query = "{ orders(page: {{ page.number }}, first: {{ page.size }}) { nodes { id } } }"
    table = {"name": "orders", "path": "/graphql", "method": "POST", "body": {"query": query},
             "response": {"root_key": "data.orders.nodes"}, "schema": ID, "primary_key": ["id"],
             "pagination": {"type": "page_number", "page_size": 300, "start_page": 1,
                            "size_inject": {"into": "body", "path": "size"}, "inject": {"into": "body", "path": "page"}}}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "orders")
    assert ids(result) == list(range(1, 2001))
    assert requests_to(demo_reset, "/graphql") == 7


def test_page_offset_in_params_without_inject(demo_reset, tmp_path):
    table = {"name": "customers", "path": "/offset/customers", "params": {"offset": "{{ page.offset }}"},
             "response": {"root_key": "data"}, "schema": ID, "primary_key": ["id"], "max_pages": 2,
             "pagination": {"type": "offset", "page_size": 50, "offset_param": "ignored"}}
    result = sync(make_project(tmp_path, demo_reset.base_url, [table]), "customers")
    assert ids(result) == list(range(1, 101))

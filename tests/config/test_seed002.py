"""Pipelines written as ETL model documents (MODEL: etl, CONFIG.inputs / transform / outputs) load as
pipelines, report errors at their own lines, and sync."""

from __future__ import annotations

import textwrap

import dagster as dg
import httpx
import pytest
from deltalake import DeltaTable

from restsync_dagster.config import load_project
from restsync_dagster.dagster.factory import build_definitions
from restsync_dagster.demo.server import DemoServer
from restsync_dagster.lake import table_uri
from restsync_dagster.errors import ConfigError

CUSTOMER_SYNC = """\
MODEL: etl
VERSION: "1.0.0"

CONFIG:
  inputs:
    crm_customers:
      format: rest_api
      url: "{base}/next/customers"
      auth:
        type: bearer
        token: "{{{{ env.CRM_TOKEN }}}}"
      pagination:
        type: next_link
        link_field: next
      response:
        root_key: results

  transform:
    type: noop

  outputs:
    customers_delta:
      format: delta
      path: {lake}
      mode: overwrite
"""


def write(tmp_path, name: str, text: str):
    root = tmp_path / "defs"
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    (root / "pipelines" / name).write_text(text)
    return root


def test_the_documented_example_loads_as_a_pipeline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write(tmp_path, "crm_sync.yaml", CUSTOMER_SYNC.format(base="https://crm.example.com/api/v2",
                                                                lake="s3://datalake/crm/customers/"))
    project = load_project(root)
    pipeline = project.pipeline("crm_sync")
    (table,) = pipeline.tables
    assert table.name == "crm_customers" and table.url == "https://crm.example.com/api/v2/next/customers"
    assert table.pagination.type == "next_link" and table.response.root_key == "results"
    assert table.auth.type == "bearer"
    source = project.connection(pipeline.source.connection.id)
    assert source.base_url == "https://crm.example.com"
    destination = project.connection(pipeline.destination.connection.id)
    assert destination.type == "delta" and destination.path == "s3://datalake/crm/customers"
    assert table_uri(destination.path, pipeline.key, table.key, table.location) == "s3://datalake/crm/customers"


BROKEN = """\
MODEL: etl
CONFIG:
  inputs:
    orders:
      format: rest_api
      url: https://shop.example.com/orders
      pagination:
        type: offset
        page_size: 0
    refunds:
      format: graphql
      url: https://shop.example.com/refunds
  outputs:
    lake:
      format: delta
      path: /tmp/lake
      mode: upsert
"""


def test_errors_point_at_the_original_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write(tmp_path, "shop.yaml", BROKEN)
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    lines = sorted(str(i) for i in caught.value.issues)
    assert lines == [
        "defs/pipelines/shop.yaml:11: CONFIG.inputs.refunds.format: expected format: rest_api, got 'graphql'",
        "defs/pipelines/shop.yaml:17: CONFIG.outputs.lake.mode: expected mode overwrite or append, got 'upsert'",
        "defs/pipelines/shop.yaml:9: CONFIG.inputs.orders.pagination.page_size: expected a number > 0, got 0",
    ]


@pytest.fixture(scope="module")
def demo():
    with DemoServer(port=0) as server:
        yield server


def test_a_pasted_document_syncs_and_delivers(demo, tmp_path, monkeypatch):
    httpx.post(f"{demo.base_url}/_admin/reset").raise_for_status()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CRM_TOKEN", "demo-token")
    lake = tmp_path / "lake" / "crm" / "customers"
    root = write(tmp_path, "crm_sync.yaml", CUSTOMER_SYNC.format(base=f"{demo.base_url}/auth/bearer", lake=lake))
    (root / "pipelines" / "push.yaml").write_text(textwrap.dedent(f"""\
        MODEL: etl
        CONFIG:
          inputs:
            contacts:
              format: rest_api
              url: {demo.base_url}/offset/customers
              pagination: {{type: offset, page_size: 100}}
              max_records: 250
              response: {{root_key: data}}
              schema:
                - {{name: id, type: long}}
                - {{name: email, type: string}}
          outputs:
            receiver:
              format: rest_api
              url: {demo.base_url}/receiver/contacts
              batch_size: 100
              key: [id]
        """))
    project = load_project(root)
    defs = build_definitions(project=project)
    result = dg.materialize(list(defs.get_repository_def().assets_defs_by_key.values()),
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success, result.get_run_failure_event()
    assert DeltaTable(str(lake)).to_pyarrow_table().num_rows == 10_000
    received = httpx.get(f"{demo.base_url}/receiver/contacts").json()
    assert received["total"] == 250

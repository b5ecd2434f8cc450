"""A demo API on a free port and a definitions folder pointing at it, for Dagster-level tests."""

from __future__ import annotations

import copy
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from restsync_dagster.config import load_project
from restsync_dagster.demo.server import DemoServer
from tests.support import offset_table, pipeline_doc, write_docs


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer(port=0) as server:
        yield server


@pytest.fixture
def demo_reset(demo) -> DemoServer:
    httpx.post(f"{demo.base_url}/_admin/reset").raise_for_status()
    return demo


CUSTOMERS = {
    "name": "customers",
    "path": "/offset/customers",
    "params": {"updated_since": "{{ incremental.start }}"},
    "pagination": {"type": "offset", "page_size": 1000, "total_path": "total"},
    "response": {"root_key": "data"},
    "primary_key": ["id"],
    "incremental": {"cursor_field": "updated_at", "initial_value": "2025-01-01T00:00:00Z"},
    "schema": [
        {"name": "id", "type": "long", "nullable": False},
        {"name": "name", "type": "string"},
        {"name": "email", "type": "string"},
        {"name": "city", "type": "string", "path": "address.city"},
        {"name": "updated_at", "type": "timestamp"},
    ],
}
ORDERS = {
    "name": "orders",
    "path": "/keyset/orders",
    "pagination": {"type": "keyset", "record_field": "id", "param": "starting_after", "page_size": 500},
    "response": {"root_key": "data"},
    "primary_key": ["id"],
}
ORDER_ITEMS = {
    "name": "order_items",
    "path": "/orders/{{ parent.order_id }}/items",
    "parent": {"table": "orders", "fields": {"id": "order_id"}},
    "response": {"root_key": "items"},
    "primary_key": ["order_id", "line"],
}
EVENTS = {
    "name": "events",
    "path": "/cursor/events",
    "params": {"from": "{{ partition.start }}", "to": "{{ partition.end }}"},
    "pagination": {"type": "cursor", "cursor_field": "meta.next_cursor", "page_size": 50},
    "response": {"root_key": "data"},
    "append_only": True,
    "partitions": {"type": "daily", "start": "2026-01-01", "end": "2026-01-10"},
}

CONTACTS = offset_table("contacts", "/offset/customers", max_records=50, schema=[
    {"name": "id", "type": "long"}, {"name": "name", "type": "string"}, {"name": "email", "type": "string"}])
"""Customers as delivery tests read them: a keyed, declared table of 50 rows."""


def make_project(root: Path, base_url: str, tables: list[dict], extra_docs: dict | None = None, **pipeline: Any):
    docs = {
        "connections/demo.yaml": {"id": "demo", "type": "rest", "base_url": base_url,
                                  "rate_limit": {"backoff_s": 0.05, "max_retries": 2}},
        "connections/lake.yaml": {"id": "lake", "type": "delta", "path": str(root / "lake")},
        "pipelines/shop.yaml": {**pipeline_doc("shop", copy.deepcopy(tables), source="demo"), **pipeline},
    }
    docs.update(extra_docs or {})
    return load_project(write_docs(root / "defs", docs))


ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def component_defs(**attributes: str) -> Iterator[Any]:
    """The Definitions the RestSyncComponent builds over the shipped definitions folder in a dg project."""
    from dagster.components.testing import create_defs_folder_sandbox

    with create_defs_folder_sandbox() as sandbox:
        shutil.copytree(ROOT / "definitions_yaml", sandbox.project_root / "definitions_yaml")
        folder = sandbox.defs_folder_path / "restsync"
        folder.mkdir(parents=True)
        extra = "".join(f"  {name}: {value}\n" for name, value in attributes.items())
        (folder / "defs.yaml").write_text(
            "type: restsync_dagster.RestSyncComponent\n"
            "attributes:\n"
            '  definitions_dir: "{{ context.project_root }}/definitions_yaml"\n' + extra
        )
        with sandbox.build_all_defs() as defs:
            yield defs

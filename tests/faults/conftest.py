"""The fault suite's server (WireMock, started once per session) and a project syncing from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from deltalake import DeltaTable

from restsync_dagster.engine import TableSyncResult
from tests.faults.sync_once import sync_once
from tests.faults.wiremock import WireMock, missing_requirement
from tests.support import pipeline_doc, write_docs

PAGE = 10
SOURCE = [{"id": i, "name": f"item {i}"} for i in range(1, 26)]
"""The source: 25 rows served in pages of 10 at ``/items?offset=0|10|20``."""
TIMEOUT_S = 0.5
MAX_RETRIES = 3


@pytest.fixture(scope="session")
def wiremock(tmp_path_factory) -> Iterator[WireMock]:
    reason = missing_requirement()
    if reason:
        pytest.skip(f"fault suite skipped: {reason}")
    server = WireMock(tmp_path_factory.mktemp("wiremock")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(wiremock) -> WireMock:
    wiremock.reset()
    return wiremock


def page_request(offset: int) -> dict[str, Any]:
    return {"urlPath": "/items", "queryParameters": {"offset": {"equalTo": str(offset)}}}


def serve_source(server: WireMock, rows: list[dict[str, Any]] = SOURCE) -> None:
    for offset in range(0, len(rows) + 1, PAGE):
        server.stub(page_request(offset), {"status": 200, "jsonBody": {"data": rows[offset:offset + PAGE]}})


@dataclass
class Sync:
    """One pipeline with one table ``items`` read from WireMock into a Delta table under ``root``."""

    root: Path
    base_url: str
    primary_key: bool = True
    timeout_s: float = TIMEOUT_S

    def __post_init__(self) -> None:
        table: dict[str, Any] = {
            "name": "items",
            "path": "/items",
            "pagination": {"type": "offset", "page_size": PAGE},
            "response": {"root_key": "data"},
            "schema": [{"name": "id", "type": "long", "nullable": False}, {"name": "name", "type": "string"}],
        }
        if self.primary_key:
            table["primary_key"] = ["id"]
        docs = {
            "connections/api.yaml": {
                "id": "api", "type": "rest", "base_url": self.base_url, "timeout_s": self.timeout_s,
                "rate_limit": {"backoff_s": 0.01, "max_backoff_s": 2.5, "max_retries": MAX_RETRIES},
            },
            "connections/lake.yaml": {"id": "lake", "type": "delta", "path": str(self.root / "lake")},
            "pipelines/faults.yaml": pipeline_doc("faults", [table]),
        }
        self.definitions = write_docs(self.root / "defs", docs)
        self.uri = str(self.root / "lake" / "faults" / "items")

    def __call__(self, run_id: str = "run") -> TableSyncResult:
        return sync_once(self.definitions, run_id)

    def rows(self) -> list[dict[str, Any]]:
        """The table's rows without restsync's columns, by id; duplicates stay visible."""
        rows = DeltaTable(self.uri).to_pyarrow_table(columns=["id", "name"]).to_pylist()
        return sorted(rows, key=lambda r: r["id"])

    def version(self) -> int | None:
        try:
            return DeltaTable(self.uri).version()
        except Exception:  # noqa: BLE001 - no table yet
            return None


@pytest.fixture
def sync(tmp_path, server) -> Sync:
    return Sync(tmp_path, server.base_url)


@pytest.fixture
def sync_factory(tmp_path, server):
    def make(**kw: Any) -> Sync:
        return Sync(tmp_path, server.base_url, **kw)

    return make

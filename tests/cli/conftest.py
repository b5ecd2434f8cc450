"""A demo API on a free port, a definitions folder pointing at it and a DAGSTER_HOME, all in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from restsync_dagster.demo.server import DemoServer
from tests.cli.helpers import free_port
from tests.support import write_docs


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer(port=0) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "dagster_home"
    path.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(path))
    return path


@pytest.fixture
def defs(tmp_path: Path, demo: DemoServer) -> Path:
    return write_docs(tmp_path / "defs", {
        "connections/demo.yaml": {
            "id": "demo", "type": "rest", "base_url": demo.base_url,
            "ping": {"path": "/health", "success_path": "status", "success_values": ["ok"]},
        },
        "connections/down.yaml": {"id": "down", "type": "rest", "base_url": f"http://127.0.0.1:{free_port()}",
                                  "timeout_s": 2, "rate_limit": {"max_retries": 0}},
        "connections/lake.yaml": {"id": "lake", "type": "delta", "path": str(tmp_path / "lake")},
        "pipelines/shop.yaml": {
            "definition_version": 1,
            "name": "shop",
            "source": {"connection": {"id": "demo"}},
            "destination": {"connection": {"id": "lake"}},
            "sync": {"frequency": 60, "enabled": False},
            "tables": [{
                "name": "customers",
                "path": "/offset/customers",
                "pagination": {"type": "offset", "page_size": 20},
                "response": {"root_key": "data"},
                "max_records": 50,
                "primary_key": ["id"],
            }],
        },
    })


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()

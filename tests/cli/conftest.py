"""A demo API on a free port, a definitions folder pointing at it and a DAGSTER_HOME, all in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from restsync_dagster.demo.server import DemoServer
from tests.cli.helpers import free_port
from tests.dagster.conftest import make_project
from tests.support import offset_table


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
    """Pipeline ``shop`` (50 customers, pages of 20) from connection ``demo`` into ``lake``; ``down`` refuses."""
    table = offset_table("customers", "/offset/customers", page_size=20, max_records=50)
    extra = {
        "connections/demo.yaml": {"id": "demo", "type": "rest", "base_url": demo.base_url,
                                  "ping": {"path": "/health", "success_path": "status", "success_values": ["ok"]}},
        "connections/down.yaml": {"id": "down", "type": "rest", "base_url": f"http://127.0.0.1:{free_port()}",
                                  "timeout_s": 2, "rate_limit": {"max_retries": 0}},
    }
    project = make_project(tmp_path, demo.base_url, [table], extra, sync={"frequency": 60, "enabled": False})
    return project.root


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()

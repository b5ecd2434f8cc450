from __future__ import annotations

import pytest


@pytest.fixture
def uri(tmp_path) -> str:
    """Where a table lands: <delta root>/<pipeline key>/<table key>."""
    return str(tmp_path / "lake" / "demo" / "orders")

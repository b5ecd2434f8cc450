"""Real servers on 127.0.0.1 for the HTTP engine tests: httpbin (werkzeug, threaded) and the
``httpserver`` fixture of pytest-httpserver; ``helpers.ScriptedServer`` covers faults no WSGI app
can produce (a dropped connection, a body cut short)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    from httpbin import app

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="httpbin")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)




@pytest.fixture(autouse=True)
def _dagster_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rotated refresh tokens are kept under $DAGSTER_HOME: never the repository's."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))

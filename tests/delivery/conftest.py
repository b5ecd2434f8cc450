"""Real servers on 127.0.0.1 for the delivery tests.

* ``json_server`` — the npm package json-server 0.17 (a real third-party REST server), one process
  per test over a fresh ``db.json``. It is installed by ``npm ci`` at the repo root; without it the
  tests are skipped locally and fail in CI (``CI`` set), where it must be present.
* ``httpbin`` — httpbin's WSGI app on a werkzeug thread server, wrapped so each echo it answers is
  kept for the test to compare byte for byte.
* ``httpserver`` — pytest-httpserver, for receivers that fail, reject or count on purpose.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server

from tests.delivery.helpers import Lake

ROOT = Path(__file__).resolve().parents[2]
JSON_SERVER = ROOT / "node_modules" / ".bin" / "json-server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def json_server(tmp_path: Path) -> Iterator[str]:
    if not JSON_SERVER.exists():
        message = f"{JSON_SERVER.relative_to(ROOT)} is missing: run `npm ci` (or `npm install`) at the repo root"
        if os.environ.get("CI"):
            pytest.fail(message + " — CI must run the json-server tests", pytrace=False)
        pytest.skip(message)
    db = tmp_path / "db.json"
    db.write_text(json.dumps({"contacts": []}))
    port = _free_port()
    log = (tmp_path / "json-server.log").open("wb")
    proc = subprocess.Popen(
        [str(JSON_SERVER), "--port", str(port), "--host", "127.0.0.1", "--quiet", str(db)],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail(f"json-server exited with {proc.returncode}: {(tmp_path / 'json-server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/contacts", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("json-server did not answer within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


class EchoRecorder:
    """WSGI middleware keeping every JSON echo httpbin answers, plus the request URI as sent
    (``raw_uri``: httpbin's own ``url`` is rebuilt from the decoded path)."""

    def __init__(self, app: Any):
        self.app = app
        self.echoes: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = b"".join(self.app(environ, start_response))
        try:
            echo = json.loads(body)
        except ValueError:
            echo = {"raw": body.decode("latin-1")}
        if isinstance(echo, dict):
            echo["raw_uri"] = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        with self._lock:
            self.echoes.append(echo)
        return [body]


@pytest.fixture(scope="session")
def _httpbin() -> Iterator[tuple[str, EchoRecorder]]:
    from httpbin import app

    recorder = EchoRecorder(app)
    server = make_server("127.0.0.1", 0, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="httpbin-delivery")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", recorder
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def httpbin(_httpbin: tuple[str, EchoRecorder]) -> tuple[str, EchoRecorder]:
    url, recorder = _httpbin
    recorder.echoes.clear()
    return url, recorder


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path)

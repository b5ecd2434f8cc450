"""Pages known up front (a total on the first page) are requested concurrently within the
connection's `max_concurrency` and `requests_per_second`, and the table equals a sequential walk's."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from deltalake import DeltaTable

from restsync_dagster.engine import open_client, run_table_sync
from restsync_dagster.errors import HttpError
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project

OFFSET = {"name": "customers", "path": "/offset/customers", "params": {"delay": "0.05"},
          "response": {"root_key": "data"}, "primary_key": ["id"],
          "pagination": {"type": "offset", "page_size": 500, "total_path": "total"}}
PAGES = {"name": "customers", "path": "/page/customers", "params": {"delay": "0.05"},
         "response": {"root_key": "data"}, "primary_key": ["id"],
         "pagination": {"type": "page_number", "page_size": 500, "total_pages_path": "total_pages"}}


def _project(tmp_path, base_url, table, rate_limit):
    conn = {"id": "demo", "type": "rest", "base_url": base_url,
            "rate_limit": {"backoff_s": 0.05, "max_retries": 1, **rate_limit}}
    return make_project(tmp_path, base_url, [table], extra_docs={"connections/demo.yaml": conn})


def _sync(project):
    pipeline = project.pipeline("shop")
    secrets = Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return run_table_sync(project, pipeline, pipeline.table("customers"), run_id="r1", client=client,
                              secrets=secrets)


def _stats(demo):
    return httpx.get(f"{demo.base_url}/_admin/stats").json()


def _rows(result):
    return DeltaTable(result.write.table_uri).to_pyarrow_table().drop_columns(
        ["_restsync_loaded_at", "_restsync_run_id"]).sort_by("id").to_pylist()


@pytest.mark.parametrize("table", [OFFSET, PAGES], ids=["offset", "page_number"])
def test_pages_run_concurrently_once_each_and_match_a_sequential_walk(demo_reset, tmp_path, table):
    sequential = _sync(_project(tmp_path / "one", demo_reset.base_url, table, {"max_concurrency": 1}))
    assert _stats(demo_reset)["peak_in_flight"] == 1
    httpx.post(f"{demo_reset.base_url}/_admin/reset").raise_for_status()
    concurrent = _sync(_project(tmp_path / "four", demo_reset.base_url, table, {"max_concurrency": 4}))
    stats = _stats(demo_reset)
    assert stats["requests"] == concurrent.fetch.requests == 20
    assert stats["peak_in_flight"] == 4
    rows = _rows(concurrent)
    assert [r["id"] for r in rows] == list(range(1, 10_001))
    assert rows == _rows(sequential)


def test_caps_are_never_exceeded_by_requests_ahead(demo_reset, tmp_path):
    capped = dict(OFFSET, max_pages=5)
    result = _sync(_project(tmp_path / "pages", demo_reset.base_url, capped, {"max_concurrency": 4}))
    assert _stats(demo_reset)["requests"] == result.fetch.requests == 5
    httpx.post(f"{demo_reset.base_url}/_admin/reset").raise_for_status()
    capped = dict(OFFSET, max_records=1_200)
    result = _sync(_project(tmp_path / "records", demo_reset.base_url, capped, {"max_concurrency": 4}))
    assert _stats(demo_reset)["requests"] == result.fetch.requests == 3
    assert len(_rows(result)) == 1_200


def test_a_page_failing_for_good_leaves_the_table_as_it_was(demo_reset, tmp_path):
    first = _sync(_project(tmp_path, demo_reset.base_url, OFFSET, {"max_concurrency": 4}))
    failing = dict(OFFSET, params={"fail_after_pages": "7"})
    with pytest.raises(HttpError, match="500"):
        _sync(_project(tmp_path, demo_reset.base_url, failing, {"max_concurrency": 4}))
    assert DeltaTable(first.write.table_uri).version() == first.write.version
    assert len(_rows(first)) == 10_000


class _Timed(BaseHTTPRequestHandler):
    """Offset pages of 10 ids out of 200 with a total; every arrival time is recorded."""

    arrivals: list[float]
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            self.arrivals.append(time.monotonic())
        offset = int(parse_qs(urlparse(self.path).query)["offset"][0])
        body = json.dumps({"data": [{"id": i} for i in range(offset, min(offset + 10, 200))], "total": 200})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def timed_server():
    handler = type("Handler", (_Timed,), {"arrivals": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.arrivals
    finally:
        server.shutdown()
        server.server_close()


def test_requests_per_second_holds_with_concurrent_pages(timed_server, tmp_path):
    base_url, arrivals = timed_server
    table = {"name": "customers", "path": "/items", "response": {"root_key": "data"}, "primary_key": ["id"],
             "pagination": {"type": "offset", "page_size": 10, "total_path": "total"}}
    rps = 40
    result = _sync(_project(tmp_path, base_url, table, {"max_concurrency": 4, "requests_per_second": rps}))
    assert result.fetch.requests == len(arrivals) == 20
    # Requests are spaced 1/rps apart at the client: any window of one second holds at most rps + 1
    # arrivals (one extra for a window that starts on an arrival), never the burst of 4 at once.
    arrivals.sort()
    for i, start in enumerate(arrivals):
        in_window = sum(1 for t in arrivals[i:] if t - start < 0.25)
        assert in_window <= rps * 0.25 + 1

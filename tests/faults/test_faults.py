"""Syncs against a fault-injection server (WireMock): the Delta table always equals the source
exactly, and a sync that fails for good leaves the table at its version with a message naming the
cause (status or fault) and the page (``offset=10``)."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from email.utils import formatdate

import pytest

from restsync_dagster.errors import HttpError
from restsync_dagster.lake.staging import STAGING
from tests.faults.conftest import MAX_RETRIES, SOURCE, page_request, serve_source
from tests.faults.wiremock import ROOT
from tests.support import errors_in_threads

FAULTS = {
    "connection reset": ({"fault": "CONNECTION_RESET_BY_PEER"}, "Connection reset by peer"),
    "empty response": ({"fault": "EMPTY_RESPONSE"}, "Server disconnected without sending a response"),
    "malformed chunk": ({"fault": "MALFORMED_RESPONSE_CHUNK"}, "peer unexpectedly closed connection"),
    "random data then close": ({"fault": "RANDOM_DATA_THEN_CLOSE"}, "Server disconnected"),
    "delay past the timeout": ({"status": 200, "jsonBody": {"data": SOURCE[10:20]}, "fixedDelayMilliseconds": 1500}, "ReadTimeout"),
    "HTML with 200": ({"status": 200, "body": "<html><body>Down for maintenance</body></html>",
                       "headers": {"Content-Type": "text/html"}}, "expected JSON, got HTML"),
    "truncated JSON with 200": ({"status": 200, "body": '{"data": [{"id": 11, "na',
                                 "headers": {"Content-Type": "application/json"}}, "body is not valid JSON"),
    "500": ({"status": 500, "body": "internal error"}, "last status 500"),
}


def fail_then_recover(server, offset, responses):
    """Answer page ``offset`` with each of ``responses`` once, in order, then with the source."""
    for i, response in enumerate(responses):
        server.stub(page_request(offset), response, priority=1, scenario=f"page-{offset}",
                    state="Started" if i == 0 else f"failed-{i}", next_state=f"failed-{i + 1}")


def assert_exact(sync):
    assert sync.rows() == SOURCE


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_transient_fault_is_retried_and_the_table_is_exact(server, sync, fault):
    serve_source(server)
    fail_then_recover(server, 10, [FAULTS[fault][0]])
    result = sync()
    assert_exact(sync)
    assert result.fetch.retries == 1 and server.count(**page_request(10)) == 2


def test_a_burst_of_5xx_then_success(server, sync):
    serve_source(server)
    fail_then_recover(server, 10, [{"status": 500}, {"status": 502}, {"status": 503}])
    result = sync()
    assert_exact(sync)
    assert result.fetch.retries == MAX_RETRIES and server.count(**page_request(10)) == MAX_RETRIES + 1


@pytest.mark.parametrize("header", ["seconds", "HTTP-date"])
def test_retry_after_is_honoured(server, sync, header):
    serve_source(server)
    # An HTTP date has whole seconds and is fixed before the sync starts: far enough ahead that the
    # server's wait is still over a second when page 10 is reached on a busy machine.
    value = "1" if header == "seconds" else formatdate(time.time() + 4, usegmt=True)
    fail_then_recover(server, 10, [{"status": 429 if header == "seconds" else 503, "headers": {"Retry-After": value}}])
    result = sync()
    assert_exact(sync)
    assert result.fetch.retries == 1 and result.fetch.waited_s >= 0.9  # the server's wait, not the 0.01 s backoff


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_persistent_fault_after_a_good_sync_leaves_the_table_at_its_version(server, sync, fault):
    serve_source(server)
    sync("good")
    version = sync.version()
    server.reset()
    serve_source(server, [{**row, "name": "changed"} for row in SOURCE])  # visible if anything committed
    server.stub(page_request(10), FAULTS[fault][0], priority=1)
    with pytest.raises(HttpError) as caught:
        sync("failing")
    message = str(caught.value)
    assert FAULTS[fault][1] in message and "table 'items'" in message and "offset=10" in message
    assert f"failed after {MAX_RETRIES + 1} attempt(s)" in message
    assert server.count(**page_request(10)) == MAX_RETRIES + 1
    assert sync.version() == version
    assert_exact(sync)


def test_kill_9_mid_sync_then_rerun(server, sync_factory):
    sync = sync_factory(timeout_s=120)
    big = [{"id": i, "name": f"item {i}"} for i in range(1, 70_001)]  # more than a row group: a part file
    server.stub(page_request(0), {"status": 200, "jsonBody": {"data": big}})
    server.stub(page_request(10), {"status": 200, "jsonBody": {"data": []}, "fixedDelayMilliseconds": 60_000}, priority=1)
    proc = subprocess.Popen([sys.executable, "-m", "tests.faults.sync_once", str(sync.definitions), "killed"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not _parquet_files(sync.uri):
            assert proc.poll() is None and time.monotonic() < deadline, "the sync wrote no part file"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    server.reset()
    server.stub(page_request(0), {"status": 200, "jsonBody": {"data": big}})
    server.stub(page_request(10), {"status": 200, "jsonBody": {"data": []}})
    sync("rerun")
    rows = sync.rows()
    assert len(rows) == len(big) and rows[0] == big[0] and rows[-1] == big[-1]
    assert len({r["id"] for r in rows}) == len(big)
    assert not os.listdir(os.path.join(sync.uri, STAGING))


def test_two_concurrent_runs_of_a_new_table(server, sync):
    serve_source(server)
    server.stub(page_request(10), {"status": 200, "jsonBody": {"data": SOURCE[10:20]}, "fixedDelayMilliseconds": 200}, priority=1)
    assert not errors_in_threads([functools.partial(sync, f"run-{i}") for i in range(2)])
    assert_exact(sync)
    assert server.count(**page_request(0)) == 2 and sync.version() == 1


def _parquet_files(uri):
    return [f for _, _, files in os.walk(uri) for f in files if f.endswith(".parquet")]

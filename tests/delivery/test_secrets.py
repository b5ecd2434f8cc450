"""No secret (here a bearer token) in any exception, log record or staging table, even when the
receiver echoes the Authorization header back in its error bodies."""

from __future__ import annotations

import json
import logging

import polars as pl
import pytest

from restsync_dagster.errors import AuthError, DeliveryError
from tests.delivery.helpers import Lake, request
from tests.delivery.receivers import Receiver

TOKEN = "tok-5up3r-s3cr3t-value"


def echo_auth(request, status: int) -> str:
    return json.dumps({"error": "nope", "you_sent": request.headers.get("Authorization")})


def everything_written(lake: Lake) -> str:
    frames = [lake.log(), lake.rejects()]
    return "\n".join(json.dumps(f.to_dicts(), default=str) for f in frames if f is not None)


def test_no_token_in_errors_logs_or_tables(httpserver, make_client, lake: Lake, caplog):
    caplog.set_level(logging.DEBUG)
    # ids 1-2 are rejected (422), 3-4 fail for good (500), 5 is delivered
    receiver = Receiver(lambda n, records: {1: 422, 2: 422, 3: 500, 4: 500}.get(records[0]["id"], 200), body=echo_auth)
    httpserver.expect_request("/contacts/1").respond_with_handler(receiver)
    for i in range(2, 6):
        httpserver.expect_request(f"/contacts/{i}").respond_with_handler(receiver)
    client = make_client(httpserver.url_for("/"))
    req = request(path="/contacts/#{id}", method="PUT", auth={"type": "bearer", "token": TOKEN},
                  headers={"X-Trace": "#{email}"}, rate_limit={"max_retries": 1, "backoff_s": 0})
    lake.write(pl.DataFrame({"id": [1, 2, 3, 4, 5], "email": list("abcde")}))

    with pytest.raises(DeliveryError) as info:
        lake.run(client, req, stop_after_failures=None)
    result = info.value.result
    assert (result.delivered, result.rejected, result.pending) == (1, 2, 2)
    assert receiver.calls == 7  # 422s are not retried, 500s once
    text = str(info.value)
    assert "2 of 5 records rejected" in text and "2 of 5 records not delivered" in text
    written = everything_written(lake)
    assert "Bearer ***" in written  # the echoed header is there, masked
    for where in (text, repr(info.value), written, caplog.text):
        assert TOKEN not in where


def test_an_auth_failure_stops_the_run_without_the_token(httpserver, make_client, lake: Lake, caplog):
    caplog.set_level(logging.DEBUG)
    receiver = Receiver(lambda n, records: 200 if n < 2 else 401, body=echo_auth)
    httpserver.expect_request("/contacts").respond_with_handler(receiver)
    client = make_client(httpserver.url_for("/"))
    req = request(path="/contacts", auth={"type": "bearer", "token": TOKEN})
    lake.write(pl.DataFrame({"id": [1, 2, 3, 4, 5], "email": list("abcde")}))
    with pytest.raises(AuthError) as info:
        lake.run(client, req)
    assert info.value.status == 401 and receiver.calls == 3
    log = lake.log()
    assert log.filter(pl.col("status") == "delivered").height == 2  # what was accepted is logged
    for where in (str(info.value), everything_written(lake), caplog.text):
        assert TOKEN not in where

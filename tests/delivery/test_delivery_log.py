"""What a run sends, what it logs and what the next run sends: unchanged rows, changed rows,
5xx storms, rejects, a failure half-way, concurrency."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
import pytest
from pytest_httpserver import HTTPServer

from restsync_dagster.delivery import LOG_SCHEMA, REJECTS_SCHEMA
from restsync_dagster.errors import DeliveryError
from tests.delivery.helpers import FAST, Lake, request
from tests.delivery.receivers import Receiver


def contacts(n: int = 20) -> pl.DataFrame:
    return pl.DataFrame({"id": list(range(1, n + 1)), "email": [f"c{i}@example.org" for i in range(1, n + 1)],
                         "_restsync_loaded_at": [f"load-{i}" for i in range(n)]})


def touch(frame: pl.DataFrame, ids: list[int], suffix: str = ".new") -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col("id").is_in(ids)).then(pl.col("email") + suffix).otherwise(pl.col("email")).alias("email"))


def serve(httpserver: HTTPServer, receiver: Receiver, path: str = "/contacts") -> str:
    httpserver.expect_request(path).respond_with_handler(receiver)
    return httpserver.url_for("/")


@pytest.mark.parametrize("mode", ["single", "batch"])
def test_a_rerun_sends_nothing_and_a_change_sends_exactly_the_changed_rows(httpserver, make_client, lake: Lake, mode):
    receiver = Receiver()
    client = make_client(serve(httpserver, receiver))
    req = request(path="/contacts", request_mode=mode, batch_size=8)
    frame = contacts()
    lake.write(frame)

    first = lake.run(client, req)
    assert (first.considered, first.delivered) == (20, 20)
    assert receiver.calls == (20 if mode == "single" else 3)

    calls = receiver.calls
    again = lake.run(client, req)
    assert (again.sent, again.requests, again.skipped_unchanged, receiver.calls) == (0, 0, 20, calls)

    # System columns (a new load) are not content: still nothing to send.
    lake.write(frame.with_columns(pl.lit("reloaded").alias("_restsync_loaded_at")))
    assert lake.run(client, req).sent == 0 and receiver.calls == calls

    lake.write(touch(frame, [3, 11, 17]))
    changed = lake.run(client, req)
    assert (changed.sent, changed.delivered, changed.skipped_unchanged) == (3, 3, 17)
    assert sorted(receiver.sent_ids[-3:]) == [3, 11, 17]
    assert receiver.calls == calls + (3 if mode == "single" else 1)

    log = lake.log()
    assert log.schema == LOG_SCHEMA
    assert log.height == 23 and set(log["status"]) == {"delivered"}
    assert log["seq"].sort().to_list() == list(range(23))
    assert log.filter(pl.col("key") == "[3]").height == 2
    assert lake.run(client, req).sent == 0


@pytest.mark.parametrize("retries", [0, 2])
def test_a_receiver_failing_half_the_requests_ends_with_every_row_delivered_once(httpserver, make_client, lake: Lake, retries):
    state = {"healthy": False}
    receiver = Receiver(lambda n, records: 200 if state["healthy"] or n % 2 else 500)
    client = make_client(serve(httpserver, receiver))
    req = request(path="/contacts", rate_limit={"max_retries": retries, "backoff_s": 0})
    lake.write(contacts(10))

    if retries:
        # Each 500 is retried and the retry lands on an odd call: nothing is left pending.
        assert lake.run(client, req).delivered == 10
    else:
        with pytest.raises(DeliveryError, match=r"5 of 10 records not delivered \(.*500.*\); they stay pending") as info:
            lake.run(client, req)
        result = info.value.result
        assert (result.delivered, result.pending, result.rejected) == (5, 5, 0)
        assert lake.log()["status"].value_counts().sort("status").rows() == [("delivered", 5), ("pending", 5)]
        with pytest.raises(DeliveryError, match="of 5 records not delivered"):
            lake.run(client, req)  # still failing every other call
        state["healthy"] = True
        before = len(receiver.accepted)
        final = lake.run(client, req)
        assert final.sent == final.delivered == 10 - before  # only the pending ones
    assert dict(receiver.accepted) == {i: 1 for i in range(1, 11)}
    assert lake.run(client, req).sent == 0


def test_a_receiver_that_is_down_stops_the_run_early_and_the_next_run_catches_up(httpserver, make_client, lake: Lake):
    state = {"healthy": False}
    receiver = Receiver(lambda n, records: 200 if state["healthy"] else 503)
    client = make_client(serve(httpserver, receiver))
    req = request(path="/contacts", rate_limit=FAST)
    lake.write(contacts(10))
    with pytest.raises(DeliveryError, match="stopped after 3 failed requests in a row") as info:
        lake.run(client, req)
    assert info.value.result.stopped_early and receiver.calls == 3
    state["healthy"] = True
    assert lake.run(client, req).delivered == 10
    assert dict(receiver.accepted) == {i: 1 for i in range(1, 11)}


def reject_bad_emails(n: int, records: list[dict]) -> int:
    return 422 if any("bad" in r["email"] for r in records) else 201


def rejection_body(request, status: int) -> str:
    if status != 422:
        return "{}"
    return json.dumps({"errors": [{"field": "email", "message": "is not a valid address"}], "ids": [
        r["id"] for r in (lambda p: p if isinstance(p, list) else [p])(request.get_json())]})


def test_a_rejected_row_goes_to_the_rejects_table_and_is_not_resent_until_it_changes(httpserver, make_client, lake: Lake):
    receiver = Receiver(reject_bad_emails, body=rejection_body)
    base = serve(httpserver, receiver)
    client = make_client(base)
    req = request(path="/contacts")
    frame = contacts(5).with_columns(pl.when(pl.col("id") == 3).then(pl.lit("bad-address")).otherwise(pl.col("email")).alias("email"))
    lake.write(frame)

    with pytest.raises(DeliveryError) as info:
        lake.run(client, req)
    assert str(info.value) == (
        f"table 'contacts' → connection '{client.name}': 1 of 5 records rejected by POST {base}contacts "
        f"(HTTP 422: 1); see the rejects table at {lake.staging}/crm/contacts__rejects"
    )
    rejects = lake.rejects()
    assert rejects is not None and rejects.schema == REJECTS_SCHEMA
    (row,) = rejects.to_dicts()
    assert (row["key"], row["http_status"]) == ("[3]", 422)
    assert row["response_body"] == '{"errors": [{"field": "email", "message": "is not a valid address"}], "ids": [3]}'
    assert json.loads(row["record"]) == {"id": 3, "email": "bad-address"}
    assert row["url"] == f"{base}contacts" and "422" in row["error"]
    log = lake.log()
    assert log.filter(pl.col("status") == "rejected").select("key", "http_status").rows() == [("[3]", 422)]

    calls = receiver.calls
    rerun = lake.run(client, req)  # nothing new: the rejected row is not sent again
    assert (rerun.sent, rerun.skipped_rejected, rerun.skipped_unchanged, receiver.calls) == (0, 1, 4, calls)

    lake.write(frame.with_columns(pl.when(pl.col("id") == 3).then(pl.lit("c3@example.org")).otherwise(pl.col("email")).alias("email")))
    fixed = lake.run(client, req)
    assert (fixed.sent, fixed.delivered) == (1, 1)
    assert dict(receiver.accepted) == {i: 1 for i in range(1, 6)}


def test_a_rejected_batch_rejects_all_its_records(httpserver, make_client, lake: Lake):
    receiver = Receiver(reject_bad_emails, body=rejection_body)
    client = make_client(serve(httpserver, receiver))
    frame = contacts(6).with_columns(pl.when(pl.col("id") == 5).then(pl.lit("bad")).otherwise(pl.col("email")).alias("email"))
    lake.write(frame)
    with pytest.raises(DeliveryError, match=r"3 of 6 records rejected .* \(HTTP 422: 3\)"):
        lake.run(client, request(path="/contacts", request_mode="batch", batch_size=3))
    rejects = lake.rejects()
    assert rejects is not None and sorted(rejects["key"]) == ["[4]", "[5]", "[6]"]
    assert set(rejects["response_body"]) == {json.dumps({"errors": [{"field": "email", "message": "is not a valid address"}], "ids": [4, 5, 6]})}


def test_a_failure_half_way_keeps_the_log_of_what_was_delivered(httpserver, make_client, lake: Lake):
    receiver = Receiver()
    client = make_client(serve(httpserver, receiver))
    req = request(path="/contacts", rate_limit={"max_concurrency": 4})
    table = contacts(12).to_arrow()

    def crashing():
        yield from table.slice(0, 8).to_batches()
        raise RuntimeError("the source went away")

    with pytest.raises(RuntimeError, match="the source went away"):
        lake.run(client, req, batches=crashing())
    # Requests in flight finish and are logged; those queued but not started are dropped.
    accepted = sorted(receiver.accepted)
    assert 4 <= len(accepted) <= 8
    log = lake.log()
    assert sorted(json.loads(k)[0] for k in log["key"]) == accepted and set(log["status"]) == {"delivered"}

    lake.write(contacts(12))
    rest = lake.run(client, req)
    assert (rest.sent, rest.skipped_unchanged) == (12 - len(accepted), len(accepted))
    assert dict(receiver.accepted) == {i: 1 for i in range(1, 13)}


def test_concurrent_requests_keep_the_log_exact(make_client, lake: Lake):
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    try:
        state = {"healthy": False}
        receiver = Receiver(lambda n, records: 200 if state["healthy"] or records[0]["id"] % 3 else 500, delay_s=0.02)
        client = make_client(serve(server, receiver))
        req = request(path="/contacts", rate_limit={"max_concurrency": 8, "max_retries": 0, "backoff_s": 0})
        lake.write(contacts(60))
        with pytest.raises(DeliveryError, match="20 of 60 records not delivered"):
            lake.run(client, req, stop_after_failures=None)
        log = lake.log()
        delivered = {int(json.loads(k)[0]) for k in log.filter(pl.col("status") == "delivered")["key"]}
        assert delivered == set(receiver.accepted) and len(delivered) == 40
        state["healthy"] = True
        assert lake.run(client, req).sent == 20
        assert dict(receiver.accepted) == {i: 1 for i in range(1, 61)}
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def test_without_key_columns_each_distinct_row_is_sent_once(httpserver, make_client, lake: Lake):
    receiver = Receiver()
    client = make_client(serve(httpserver, receiver))
    req = request(path="/contacts", request_mode="one_request")
    lake.write(contacts(4))
    assert lake.run(client, req, key=[]).requests == 1
    assert lake.run(client, req, key=[]).sent == 0
    lake.write(touch(contacts(4), [2]))
    assert lake.run(client, req, key=[]).sent == 1
    assert receiver.seen == [[1, 2, 3, 4], [2]]


def test_polars_frames_are_accepted_and_a_null_key_fails_after_logging(httpserver, make_client, lake: Lake):
    receiver = Receiver()
    client = make_client(serve(httpserver, receiver))
    good = pl.DataFrame({"id": [1, 2], "email": ["a", "b"]})
    bad = pl.DataFrame({"id": [None], "email": ["c"]}, schema={"id": pl.Int64, "email": pl.String})
    with pytest.raises(DeliveryError, match=r"the delivery key \(id\) is null"):
        lake.run(client, request(path="/contacts"), batches=[good, pa.table({"id": [3], "email": ["x"]}), bad])
    assert lake.log().height == 3

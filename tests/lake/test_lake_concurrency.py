"""Concurrent writers of one Delta table: races to create it, appends, disjoint overwrites, merges."""

from __future__ import annotations

import threading

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake

from restsync_dagster.errors import CommitConflictError
from restsync_dagster.lake import DeltaWriter, read_cursor
from restsync_dagster.lake.commit import Intent, RetryPolicy, commit_with_retries
from tests.lake.helpers import read_rows

FAST = RetryPolicy(attempts=8, backoff_s=0.01, max_backoff_s=0.05)


def writer(uri, mode, run_id, **kw):
    return DeltaWriter(uri, mode=mode, run_id=run_id, retry=FAST, **kw)


def in_threads(writers, frames, **commit_kw):
    """Write each frame, then commit all writers at once (a barrier); returns results or errors."""
    barrier = threading.Barrier(len(writers))
    out: list = [None] * len(writers)

    def go(i):
        with writers[i] as w:
            w.write(frames[i])
            barrier.wait()
            try:
                out[i] = w.commit(**commit_kw)
            except Exception as exc:  # noqa: BLE001 - reported to the test
                out[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def ids(uri, column="id"):
    return sorted(r[column] for r in read_rows(uri, sort=None))


@pytest.mark.parametrize("mode", ["append", "merge", "overwrite_partition"])
def test_runs_racing_to_create_a_table_all_land(uri, mode):
    n = 4
    kw = {"primary_key": ["id"]} if mode == "merge" else {}
    writers = [
        writer(uri, "overwrite" if mode == "overwrite_partition" else mode, f"run-{i}",
               partition_key=f"p{i}" if mode == "overwrite_partition" else None, **kw)
        for i in range(n)
    ]
    frames = [pl.DataFrame({"id": [10 * i, 10 * i + 1]}) for i in range(n)]
    results = in_threads(writers, frames)
    assert all(not isinstance(r, Exception) for r in results), results
    assert ids(uri) == sorted(x for i in range(n) for x in (10 * i, 10 * i + 1))
    assert DeltaTable(uri).version() == n - 1
    assert sorted(r.version for r in results) == list(range(n))


def test_runs_racing_to_create_a_keyed_table_with_the_same_keys_keep_one_row_per_key(uri):
    """delta-rs would land a losing CREATE TABLE as the next version, adding its rows a second time."""
    n = 3
    results = in_threads([writer(uri, "merge", f"run-{i}", primary_key=["id"]) for i in range(n)],
                         [pl.DataFrame({"id": list(range(25)), "v": [f"run-{i}"] * 25}) for i in range(n)])
    assert all(not isinstance(r, Exception) for r in results), results
    assert ids(uri) == list(range(25))
    assert [c["operation"] for c in DeltaTable(uri).history()].count("CREATE TABLE") == 1


def test_concurrent_appends_to_an_existing_table_all_land(uri):
    write_deltalake(uri, pl.DataFrame({"id": [0]}).to_arrow())
    n = 4
    results = in_threads([writer(uri, "append", f"run-{i}") for i in range(n)],
                         [pl.DataFrame({"id": list(range(100 * i + 1, 100 * i + 51))}) for i in range(1, n + 1)])
    assert all(not isinstance(r, Exception) for r in results), results
    assert ids(uri) == [0] + [x for i in range(1, n + 1) for x in range(100 * i + 1, 100 * i + 51)]


def test_disjoint_partition_overwrites_both_land(uri):
    with writer(uri, "overwrite", "seed", partition_key="p0") as w:
        w.write(pl.DataFrame({"id": [1, 2]}))
        w.commit()
    # A run that opened the table before another partition was overwritten still commits.
    early = writer(uri, "overwrite", "early", partition_key="p1")
    results = in_threads([writer(uri, "overwrite", f"run-{i}", partition_key=f"p{i}") for i in (2, 3, 4)],
                         [pl.DataFrame({"id": [i * 10, i * 10 + 1]}) for i in (2, 3, 4)])
    assert all(not isinstance(r, Exception) for r in results), results
    with early:
        early.write(pl.DataFrame({"id": [10, 11]}))
        early.commit()
    rows = read_rows(uri, sort=["_restsync_partition", "id"])
    assert [(r["_restsync_partition"], r["id"]) for r in rows] == [
        ("p0", 1), ("p0", 2), ("p1", 10), ("p1", 11), ("p2", 20), ("p2", 21), ("p3", 30), ("p3", 31), ("p4", 40), ("p4", 41),
    ]


def test_two_overwrites_of_the_same_partition_fail_the_later_run_naming_both(uri):
    with writer(uri, "overwrite", "seed", partition_key="2026-01-01") as w:
        w.write(pl.DataFrame({"id": [1]}))
        w.commit()
    scheduled = writer(uri, "overwrite", "scheduled-run", partition_key="2026-01-01")
    manual = writer(uri, "overwrite", "manual-run", partition_key="2026-01-01")
    with manual:
        manual.write(pl.DataFrame({"id": [2, 3]}))
        manual.commit()
    before = DeltaTable(uri).version()
    with pytest.raises(CommitConflictError) as caught:
        with scheduled:
            scheduled.write(pl.DataFrame({"id": [4]}))
            scheduled.commit()
    message = str(caught.value)
    assert "run scheduled-run (overwrite of partition 2026-01-01)" in message
    assert "run manual-run (overwrite of partition 2026-01-01, 2 rows, version 1)" in message
    assert DeltaTable(uri).version() == before and ids(uri) == [2, 3]


def test_concurrent_merges_of_different_keys_all_land_and_keep_the_latest_cursor(uri):
    with writer(uri, "merge", "seed", primary_key=["id"]) as w:
        w.write(pl.DataFrame({"id": [1, 2], "v": ["a", "b"], "ts": [1, 2]}))
        w.commit(cursor_after=2)
    n = 4
    frames = [pl.DataFrame({"id": [1 + i, 100 + i], "v": [f"r{i}", f"n{i}"], "ts": [10 + i, 10 + i]}) for i in range(n)]
    # A run whose cursor is older than the one committed meanwhile keeps the newer cursor.
    slow = writer(uri, "merge", "slow", primary_key=["id"])
    results = in_threads([writer(uri, "merge", f"run-{i}", primary_key=["id"]) for i in range(n)], frames, cursor_after=20)
    assert all(not isinstance(r, Exception) for r in results), results
    with slow:
        slow.write(pl.DataFrame({"id": [500], "v": ["s"], "ts": [5]}))
        committed = slow.commit(cursor_before=2, cursor_after=5)
    assert committed.cursor_after == 20 and read_cursor(uri) == 20
    rows = read_rows(uri, drop_system=True)
    assert [r["id"] for r in rows] == sorted({1, 2, 3, 4, *range(100, 100 + n), 500})
    assert len(rows) == len({r["id"] for r in rows})


def test_concurrent_history_merges_of_different_keys_all_land(uri):
    with writer(uri, "history", "seed", primary_key=["id"]) as w:
        w.write(pl.DataFrame({"id": [1], "v": ["a"], "_restsync_loaded_at": [None]}, schema_overrides={"_restsync_loaded_at": pl.Datetime("us", "UTC")}))
        w.commit()
    n = 3
    frames = [
        pl.DataFrame({"id": [10 + i], "v": [f"x{i}"], "_restsync_loaded_at": [None]}, schema_overrides={"_restsync_loaded_at": pl.Datetime("us", "UTC")})
        for i in range(n)
    ]
    results = in_threads([writer(uri, "history", f"run-{i}", primary_key=["id"]) for i in range(n)], frames)
    assert all(not isinstance(r, Exception) for r in results), results
    assert ids(uri) == [1, 10, 11, 12]


def test_a_merge_that_keeps_losing_gives_up_naming_the_other_run(uri):
    write_deltalake(uri, pl.DataFrame({"id": [1]}).to_arrow())
    attempts = []

    def attempt(table):
        attempts.append(table.version())
        write_deltalake(uri, pl.DataFrame({"id": [2]}).to_arrow(), mode="append",
                        commit_properties=_props({"restsync.run_id": "busy-run", "restsync.mode": "append"}))
        source = pl.DataFrame({"id": [3]}).to_arrow()
        return table.merge(source, "t.id = s.id", source_alias="s", target_alias="t").when_not_matched_insert_all().execute()

    with pytest.raises(CommitConflictError) as caught:
        commit_with_retries(attempt, table_uri=uri, storage_options=None, intent=Intent("me", "merge"), since=0,
                            name="orders", policy=RetryPolicy(attempts=3, backoff_s=0.0))
    assert attempts == [0, 1, 2]
    assert "run me (merge by key) could not commit" in str(caught.value)
    assert "latest: run busy-run (append, version 3)" in str(caught.value)
    assert 3 not in ids(uri)


def test_a_merge_retried_on_a_fresh_snapshot_lands_once(uri):
    write_deltalake(uri, pl.DataFrame({"id": [1]}).to_arrow())
    attempts = []

    def attempt(table):
        attempts.append(table.version())
        if len(attempts) == 1:  # another run commits between this run's snapshot and its commit
            write_deltalake(uri, pl.DataFrame({"id": [2]}).to_arrow(), mode="append")
        source = pl.DataFrame({"id": [3]}).to_arrow()
        return table.merge(source, "t.id = s.id", source_alias="s", target_alias="t").when_not_matched_insert_all().execute()

    commit_with_retries(attempt, table_uri=uri, storage_options=None, intent=Intent("me", "merge"), since=0, name="orders", policy=FAST)
    assert attempts == [0, 1]
    assert ids(uri) == [1, 2, 3]


def _props(custom):
    from deltalake.transaction import CommitProperties

    return CommitProperties(custom_metadata=custom)


def test_two_full_refreshes_racing_to_create_a_table_keep_one_and_fail_the_other(uri):
    results = in_threads([writer(uri, "overwrite", f"run-{i}") for i in range(2)],
                         [pl.DataFrame({"id": [i, i + 10]}) for i in range(2)])
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], CommitConflictError)
    assert "(overwrite of the whole table) conflicts with run run-" in str(failed[0])
    winner = next(r for r in results if not isinstance(r, Exception))
    assert ids(uri) in ([0, 10], [1, 11]) and winner.version == 0 and DeltaTable(uri).version() == 0

"""Keyed writes that rewrite only the files holding synced keys: pruning by file statistics, the
Delta log they leave, equality with delta-rs' MERGE, and conflicts with concurrent commits."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError
from deltalake.transaction import CommitProperties

from restsync_dagster.errors import LakeError
from restsync_dagster.lake import DeltaWriter
from restsync_dagster.lake.parts import Store
from restsync_dagster.lake.rewrite import Rewrite
from tests.lake.test_lake_delta import data_files, referenced_files

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
AT = pl.Datetime("us", "UTC")


def sync(uri, mode, rows, *, day=0, engine="rewrite", key=("id",), run_id=None):
    """One sync of ``rows`` (dicts) loaded on day ``day``; the write result."""
    frame = pl.DataFrame(rows).with_columns(pl.lit(T0 + timedelta(days=day), dtype=AT).alias("_restsync_loaded_at"))
    with DeltaWriter(uri, mode=mode, run_id=run_id or f"day-{day}", primary_key=list(key), merge_engine=engine) as w:
        w.write(frame)
        return w.commit()


def ten_files(uri, mode):
    """A table of ids 0..99 in ten files of ten consecutive ids, one sync each."""
    for n in range(10):
        sync(uri, mode, [{"id": i, "v": f"a{i}"} for i in range(10 * n, 10 * n + 10)], run_id=f"build-{n}")
    return file_of_ids(uri)


def file_of_ids(uri):
    """Each live file's path by the (min, max) id it holds."""
    out = {}
    for path in referenced_files(uri):
        ids = pl.read_parquet(os.path.join(uri, path), columns=["id"]).get_column("id")
        out[(ids.min(), ids.max())] = path
    return out


def last_commit(uri):
    """The add and remove actions of the table's latest commit."""
    version = DeltaTable(uri).version()
    adds, removes = [], []
    with open(os.path.join(uri, "_delta_log", f"{version:020d}.json")) as log:
        for line in log:
            action = json.loads(line)
            if "add" in action:
                adds.append(action["add"]["path"])
            if "remove" in action:
                removes.append(action["remove"]["path"])
    return adds, removes


def never_committed(uri):
    """Data files on disk that no version of the table ever added (left by an aborted write)."""
    added = set()
    for name in os.listdir(os.path.join(uri, "_delta_log")):
        if name.endswith(".json"):
            with open(os.path.join(uri, "_delta_log", name)) as log:
                added.update(json.loads(line)["add"]["path"] for line in log if '"add"' in line)
    return data_files(uri) - added


def table_rows(uri):
    rows = DeltaTable(uri).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: json.dumps(r, default=str, sort_keys=True))


def test_an_upsert_touching_keys_of_one_file_of_ten_rewrites_that_file_only(uri):
    files = ten_files(uri, "merge")
    assert len(files) == 10
    result = sync(uri, "merge", [{"id": 31, "v": "b"}, {"id": 35, "v": "b"}, {"id": 100, "v": "new"}], day=1)
    adds, removes = last_commit(uri)
    assert removes == [files[(30, 39)]]
    assert len(adds) == 2 and (result.files_added, result.rows_updated, result.rows_inserted) == (2, 2, 1)
    assert set(files.values()) - {files[(30, 39)]} < referenced_files(uri)
    after = file_of_ids(uri)
    assert after[(30, 39)] not in files.values()
    assert pl.read_parquet(os.path.join(uri, after[(30, 39)])).height == 8  # the rewritten file lost 31 and 35
    rows = {r["id"]: r["v"] for r in table_rows(uri)}
    assert len(rows) == 101 and (rows[31], rows[35], rows[36], rows[100]) == ("b", "b", "a36", "new")
    assert never_committed(uri) == set()


def test_a_history_sync_rewrites_only_files_with_changed_keys(uri):
    files = ten_files(uri, "history")
    # 31 changed; 55 and 72 unchanged: their files are not rewritten and their rows not written again.
    result = sync(uri, "history", [{"id": 31, "v": "b"}, {"id": 55, "v": "a55"}, {"id": 72, "v": "a72"}, {"id": 100, "v": "new"}], day=1)
    adds, removes = last_commit(uri)
    assert removes == [files[(30, 39)]]
    assert len(adds) == 2 and (result.rows_updated, result.rows_inserted) == (1, 2)
    rows = table_rows(uri)
    assert len(rows) == 102
    versions = [(r["v"], r["_restsync_is_current"], r["_restsync_valid_to"]) for r in rows if r["id"] == 31]
    assert sorted(versions) == [("a31", False, T0 + timedelta(days=1)), ("b", True, None)]
    assert [r["_restsync_valid_from"] for r in rows if r["id"] == 55] == [T0]


def test_a_sync_with_keys_in_no_file_removes_nothing(uri):
    files = ten_files(uri, "merge")
    sync(uri, "merge", [{"id": 1000, "v": "x"}], day=1)
    adds, removes = last_commit(uri)
    assert (len(adds), removes) == (1, [])
    assert set(files.values()) < referenced_files(uri)


SYNCS = [
    [{"id": 1, "v": "a", "n": 1}, {"id": 2, "v": None, "n": 2}, {"id": 3, "v": "c", "n": None}],
    # duplicates in one sync (the last wins), a change to null, an unchanged row, a new key
    [{"id": 2, "v": "x", "n": 2}, {"id": 2, "v": "b", "n": 2}, {"id": 1, "v": None, "n": 1}, {"id": 3, "v": "c", "n": None}, {"id": 4, "v": "d", "n": 4}],
    # a new column (delta-rs evolves the schema), then syncs on the evolved table
    [{"id": 3, "v": "c", "n": None, "extra": 1.5}, {"id": 5, "v": "e", "n": 5, "extra": None}],
    [{"id": 1, "v": None, "n": 1}, {"id": 3, "v": "c3", "n": 3}, {"id": 6, "v": "f", "n": 6}, {"id": 3, "v": "c3", "n": 3}],
    [{"id": 1, "v": "a1", "n": 1, "extra": 2.0}, {"id": 5, "v": "e", "n": 5}],
]


@pytest.mark.parametrize("mode", ["merge", "history"])
def test_results_equal_delta_rs_merge(tmp_path, mode):
    tables = {engine: str(tmp_path / engine) for engine in ("rewrite", "delta-rs")}
    for day, rows in enumerate(SYNCS):
        results = {e: sync(uri, mode, rows, day=day, engine=e) for e, uri in tables.items()}
        counts = {e: (r.rows_written, r.rows_inserted, r.rows_updated) for e, r in results.items()}
        assert counts["rewrite"] == counts["delta-rs"], day
        assert table_rows(tables["rewrite"]) == table_rows(tables["delta-rs"]), day


def test_results_equal_delta_rs_merge_on_a_composite_string_key(tmp_path):
    key = ("region", "code")
    syncs = [
        [{"region": r, "code": f"k{i:03d}", "v": i} for r in ("eu", "us") for i in range(30)],
        [{"region": "us", "code": "k005", "v": -1}, {"region": "eu", "code": "k029", "v": -2}, {"region": "ap", "code": "k001", "v": 0}],
    ]
    tables = {engine: str(tmp_path / engine) for engine in ("rewrite", "delta-rs")}
    for mode in ("merge", "history"):
        for day, rows in enumerate(syncs):
            for engine, uri in tables.items():
                sync(f"{uri}-{mode}", mode, rows, day=day, engine=engine, key=key)
        assert table_rows(f"{tables['rewrite']}-{mode}") == table_rows(f"{tables['delta-rs']}-{mode}")


def test_a_concurrent_commit_to_the_same_file_fails_the_rewrite_and_leaves_the_table(uri, tmp_path):
    files = ten_files(uri, "merge")
    snapshot = DeltaTable(uri)
    source = str(tmp_path / "synced.parquet")
    pl.DataFrame({"id": [31], "v": ["mine"]}).with_columns(pl.lit(T0, dtype=AT).alias("_restsync_loaded_at")).write_parquet(source)
    schema = pl.Schema({"id": pl.Int64, "v": pl.String, "_restsync_loaded_at": AT})
    rewrite = Rewrite(snapshot, Store(uri), source, key=["id"], schema=schema, history=False, table_name="orders")
    outcome = rewrite.run()
    assert outcome.removes[0].path == files[(30, 39)] and outcome.candidates == 1
    sync(uri, "merge", [{"id": 32, "v": "theirs"}], day=1)  # another run rewrites the same file first
    before = DeltaTable(uri).version()
    with pytest.raises(CommitFailedError):
        rewrite.commit(outcome, CommitProperties())
    rewrite.abort()
    assert DeltaTable(uri).version() == before
    rows = {r["id"]: r["v"] for r in table_rows(uri)}
    assert (rows[31], rows[32]) == ("a31", "theirs")
    assert never_committed(uri) == set()


def test_concurrent_upserts_of_keys_in_one_file_both_land(uri):
    ten_files(uri, "merge")
    first = DeltaWriter(uri, mode="merge", run_id="first", primary_key=["id"])
    second = DeltaWriter(uri, mode="merge", run_id="second", primary_key=["id"])
    for writer, key in ((first, 33), (second, 34)):
        with writer:
            writer.write(pl.DataFrame({"id": [key], "v": [writer.run_id]}).with_columns(pl.lit(T0, dtype=AT).alias("_restsync_loaded_at")))
    with first:
        first.commit()
    with second:
        second.commit()  # opened before the first commit: rewritten on the fresh snapshot
    rows = {r["id"]: r["v"] for r in table_rows(uri)}
    assert (len(rows), rows[33], rows[34]) == (100, "first", "second")
    assert never_committed(uri) == set()


def test_a_failing_rewrite_leaves_the_table_and_no_files(uri):
    files = ten_files(uri, "merge")
    os.remove(os.path.join(uri, files[(50, 59)]))  # a data file lost from storage
    before = DeltaTable(uri).version()
    with pytest.raises(LakeError, match="Delta commit"):
        sync(uri, "merge", [{"id": 31, "v": "b"}, {"id": 52, "v": "b"}], day=1)
    assert DeltaTable(uri).version() == before
    assert never_committed(uri) == set()


def test_a_history_sync_that_changes_nothing_commits_once_without_files(uri):
    ten_files(uri, "history")
    before = DeltaTable(uri).version()
    result = sync(uri, "history", [{"id": 3, "v": "a3"}, {"id": 47, "v": "a47"}], day=1)
    assert (result.version, result.rows_inserted, result.rows_updated, result.files_added) == (before + 1, 0, 0, 0)
    assert last_commit(uri) == ([], [])
    assert len(table_rows(uri)) == 100

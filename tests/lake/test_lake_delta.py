"""Delta writes through ``sync_table`` on real tables: one commit per sync, every mode."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from deltalake import DeltaTable

from restsync_dagster.errors import LakeError, SchemaError
from restsync_dagster.lake import DeltaWriter, compact, read_cursor, sync_table
from restsync_dagster.lake import parts as parts_module
from tests.lake.helpers import make_table, make_transformations, read_rows, version

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def run(uri, pages, table=None, transformations=(), *, run_id="run", loaded_at=None, **kw):
    return sync_table(
        iter(pages),
        table=table or make_table(),
        transformations=list(transformations),
        table_uri=uri,
        storage_options={},
        run_id=run_id,
        loaded_at=loaded_at,
        **kw,
    )


def data_files(uri: str) -> set[str]:
    found = set()
    for folder, _, files in os.walk(uri):
        if "_delta_log" in folder:
            continue
        found.update(os.path.relpath(os.path.join(folder, f), uri) for f in files if f.endswith(".parquet"))
    return found


def referenced_files(uri: str) -> set[str]:
    return set(DeltaTable(uri).get_add_actions(flatten=True).column("path").to_pylist())


def test_append_adds_rows_one_commit_per_sync(uri):
    table = make_table(append_only=True)
    first = run(uri, [[{"id": 1, "v": "a"}], [{"id": 2, "v": "b"}]], table)
    assert (first.mode, first.version, first.rows, first.pages, first.batches) == ("append", 0, 2, 2, 2)
    second = run(uri, [[{"id": 1, "v": "a"}, {"id": 3, "v": "c"}]], table, run_id="run-2")
    assert second.version == 1
    assert [(r["id"], r["_restsync_run_id"]) for r in read_rows(uri, sort=["id", "_restsync_run_id"])] == [(1, "run"), (1, "run-2"), (2, "run"), (3, "run-2")]
    assert data_files(uri) == referenced_files(uri)


def test_merge_upserts_and_keeps_the_last_duplicate(uri):
    table = make_table(primary_key=["id"])
    first = run(uri, [[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], [{"id": 1, "v": "a-last"}]], table)
    assert (first.mode, first.version, first.rows, first.rows_written) == ("merge", 0, 3, 2)
    assert read_rows(uri, drop_system=True) == [{"id": 1, "v": "a-last"}, {"id": 2, "v": "b"}]
    second = run(uri, [[{"id": 2, "v": "b2"}, {"id": 3, "v": "c"}], [{"id": 3, "v": "c-last"}, {"id": 2, "v": "b-last"}]], table)
    assert (second.version, second.rows_written, second.rows_inserted, second.rows_updated) == (1, 2, 1, 1)
    assert read_rows(uri, drop_system=True) == [{"id": 1, "v": "a-last"}, {"id": 2, "v": "b-last"}, {"id": 3, "v": "c-last"}]


def test_merge_on_a_composite_key(uri):
    table = make_table(primary_key=["region", "id"])
    run(uri, [[{"region": "eu", "id": 1, "v": 1}, {"region": "us", "id": 1, "v": 2}]], table)
    run(uri, [[{"region": "us", "id": 1, "v": 3}]], table)
    assert [(r["region"], r["v"]) for r in read_rows(uri, sort=["region", "id"])] == [("eu", 1), ("us", 3)]


def test_overwrite_replaces_the_table_and_an_empty_sync_empties_it(uri):
    run(uri, [[{"id": 1}, {"id": 2}]])
    result = run(uri, [[{"id": 7}]])
    assert (result.mode, result.version) == ("overwrite", 1)
    assert [r["id"] for r in read_rows(uri)] == [7]
    empty = run(uri, [[]])
    assert (empty.committed, empty.version) == (True, 2)
    assert read_rows(uri) == []
    assert data_files(uri) >= referenced_files(uri) == set()


def test_empty_syncs_make_no_commit_in_append_and_merge(uri):
    for table in (make_table(append_only=True), make_table(primary_key=["id"])):
        run(uri, [[{"id": 1}]], table)
        before = version(uri)
        result = run(uri, [[], []], table)
        assert (result.committed, result.version, version(uri)) == (False, before, before)


def test_declared_schema_empty_overwrite_creates_an_empty_table(uri):
    table = make_table(schema=[{"name": "id", "type": "long"}, {"name": "at", "type": "timestamp"}])
    result = run(uri, [], table)
    assert result.version == 0
    assert DeltaTable(uri).schema().to_arrow().names[:2] == ["id", "at"]


def test_history_mode_over_three_syncs(uri):
    table = make_table(primary_key=["id"])
    history = make_transformations({"type": "history_mode"})
    t1, t2, t3 = T0, T0 + timedelta(days=1), T0 + timedelta(days=2)

    first = run(uri, [[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]], table, history, loaded_at=t1)
    assert (first.mode, first.version) == ("history", 0)
    second = run(uri, [[{"id": 1, "v": "a"}, {"id": 2, "v": "b2"}, {"id": 3, "v": "c"}]], table, history, loaded_at=t2)
    assert (second.version, second.rows_inserted, second.rows_updated) == (1, 2, 1)
    third = run(uri, [[{"id": 1, "v": "a1"}, {"id": 3, "v": "c"}], [{"id": 3, "v": "c3"}, {"id": 2, "v": "b2"}]], table, history, loaded_at=t3)
    assert (third.version, third.rows_inserted, third.rows_updated) == (2, 2, 2)

    rows = read_rows(uri, sort=["id", "_restsync_valid_from"])
    current = [(r["id"], r["v"], r["_restsync_valid_from"]) for r in rows if r["_restsync_is_current"]]
    closed = [(r["id"], r["v"], r["_restsync_valid_from"], r["_restsync_valid_to"]) for r in rows if not r["_restsync_is_current"]]
    assert current == [(1, "a1", t3), (2, "b2", t2), (3, "c3", t3)]
    assert closed == [(1, "a", t1, t3), (2, "b", t1, t2), (3, "c", t2, t3)]
    assert all(r["_restsync_valid_to"] is None for r in rows if r["_restsync_is_current"])


def test_history_mode_picks_up_new_columns(uri):
    table = make_table(primary_key=["id"])
    history = make_transformations({"type": "history_mode"})
    run(uri, [[{"id": 1, "v": "a"}]], table, history, loaded_at=T0)
    result = run(uri, [[{"id": 1, "v": "a", "extra": 5}]], table, history, loaded_at=T0 + timedelta(hours=1))
    assert result.added_columns == ["extra"]
    rows = read_rows(uri, sort=["id", "_restsync_valid_from"])
    assert [(r["v"], r["extra"], r["_restsync_is_current"]) for r in rows] == [("a", None, False), ("a", 5, True)]


def test_partition_overwrite_replaces_only_its_slice(uri):
    table = make_table(partitions={"type": "daily", "start": "2026-01-01"})
    days = ["2026-01-01", "2026-01-02", "2026-01-03"]
    for n, day in enumerate(days):
        result = run(uri, [[{"id": i, "day": day} for i in range(10 + n)]], table, partition_key=day)
        assert result.version == n
    assert len(read_rows(uri)) == 10 + 11 + 12

    rewrite = run(uri, [[{"id": 100, "day": "2026-01-02"}, {"id": 101, "day": "2026-01-02"}]], table, partition_key="2026-01-02")
    assert (rewrite.mode, rewrite.version) == ("overwrite", 3)
    rows = read_rows(uri)
    by_day = {d: sorted(r["id"] for r in rows if r["_restsync_partition"] == d) for d in days}
    assert by_day == {"2026-01-01": list(range(10)), "2026-01-02": [100, 101], "2026-01-03": list(range(12))}

    again = run(uri, [[{"id": 100, "day": "2026-01-02"}, {"id": 101, "day": "2026-01-02"}]], table, partition_key="2026-01-02")
    assert again.version == 4
    assert len(read_rows(uri)) == 10 + 2 + 12


def test_partition_keys_with_odd_characters(uri):
    table = make_table(partitions={"type": "hourly", "start": "2026-01-01"})
    run(uri, [[{"id": 1}]], table, partition_key="2026-01-01-05:00")
    run(uri, [[{"id": 2}]], table, partition_key="2026-01-01-06:00")
    run(uri, [[{"id": 3}]], table, partition_key="2026-01-01-05:00")
    assert [(r["id"], r["_restsync_partition"]) for r in read_rows(uri)] == [(2, "2026-01-01-06:00"), (3, "2026-01-01-05:00")]


def test_incremental_cursor_lives_in_the_commit_metadata(uri):
    table = make_table(primary_key=["id"], incremental={"cursor_field": "updated_at"}, schema=[
        {"name": "id", "type": "long"}, {"name": "updated_at", "type": "timestamp"},
    ])
    first = run(uri, [[{"id": 1, "updated_at": "2026-01-01T10:00:00Z"}, {"id": 2, "updated_at": 1767265200}]], table)
    assert first.cursor_after == "2026-01-01T11:00:00Z"
    assert DeltaTable(uri).history(1)[0]["restsync.cursor"] == "2026-01-01T11:00:00Z"
    assert read_cursor(uri, {}) == "2026-01-01T11:00:00Z"

    compact(uri)  # a maintenance commit carries no cursor; reading walks past it
    assert read_cursor(uri) == "2026-01-01T11:00:00Z"

    empty = run(uri, [[]], table, cursor_before=read_cursor(uri))
    assert (empty.committed, empty.cursor_after) == (False, "2026-01-01T11:00:00Z")

    older = run(uri, [[{"id": 2, "updated_at": "2026-01-01T09:00:00Z"}]], table, cursor_before=read_cursor(uri))
    assert older.cursor_after == "2026-01-01T11:00:00Z"  # a lookback never moves the cursor backwards
    newer = run(uri, [[{"id": 3, "updated_at": "2026-01-02T00:00:00.5+01:00"}]], table, cursor_before=read_cursor(uri))
    assert newer.cursor_after == read_cursor(uri) == "2026-01-01T23:00:00.500000Z"
    assert read_cursor(str(os.path.join(uri, "..", "missing"))) is None


def test_numeric_cursor(uri):
    table = make_table(append_only=True, incremental={"cursor_field": "seq"})
    run(uri, [[{"seq": 5}, {"seq": 9}]], table)
    assert read_cursor(uri) == 9


def _failing(pages, error=RuntimeError("connection reset")):
    yield from pages
    raise error


@pytest.mark.parametrize(
    "table_fields",
    [{"primary_key": ["id"]}, {"append_only": True}, {}, {"primary_key": ["id"], "history": True}],
    ids=["merge", "append", "overwrite", "history"],
)
def test_a_failure_mid_stream_leaves_the_table_as_it_was(uri, table_fields):
    history = make_transformations({"type": "history_mode"}) if table_fields.pop("history", False) else []
    table = make_table(**table_fields)
    run(uri, [[{"id": i, "v": "old"} for i in range(5)]], table, history)
    before_version, before_rows, before_files = version(uri), read_rows(uri), data_files(uri)

    big_pages = [[{"id": i, "v": "new"} for i in range(p * 50_000, (p + 1) * 50_000)] for p in range(3)]
    with pytest.raises(RuntimeError, match="connection reset"):
        sync_table(_failing(big_pages), table=table, transformations=history, table_uri=uri, storage_options={}, run_id="bad")
    assert version(uri) == before_version
    assert read_rows(uri) == before_rows
    assert data_files(uri) == before_files  # uncommitted part files were cleaned up

    rerun = run(uri, big_pages[:1] + big_pages[:1], table, history, run_id="rerun")
    assert rerun.version == before_version + 1
    if table.primary_key:
        ids = [r["id"] for r in read_rows(uri, sort=None) if r.get("_restsync_is_current", True)]
        assert len(ids) == len(set(ids)) == 50_000


def test_a_failure_on_the_first_sync_creates_no_table(uri):
    with pytest.raises(RuntimeError):
        sync_table(_failing([[{"id": 1}]]), table=make_table(), transformations=[], table_uri=uri, storage_options={}, run_id="r")
    assert not DeltaTable.is_deltatable(uri)
    assert data_files(uri) == set()


def test_a_schema_error_mid_stream_leaves_the_table_as_it_was(uri):
    table = make_table(append_only=True, schema=[{"name": "id", "type": "long"}])
    run(uri, [[{"id": 1}]], table)
    with pytest.raises(SchemaError, match="row 3 of this sync"):
        run(uri, [[{"id": 2}, {"id": 3}], [{"id": "three"}]], table)
    assert version(uri) == 0 and [r["id"] for r in read_rows(uri)] == [1]


def test_null_primary_key_is_rejected(uri):
    with pytest.raises(SchemaError, match=r"primary key \(id\) is null in row 2"):
        run(uri, [[{"id": 1}, {"id": None, "v": 1}]], make_table(primary_key=["id"]))
    assert not DeltaTable.is_deltatable(uri)


def test_primary_key_after_a_rename(uri):
    table = make_table(primary_key=["id"])
    rename = make_transformations({"type": "rename_fields", "config": {"mapping": {"id": "order_id"}}})
    run(uri, [[{"id": 1, "v": 1}]], table, rename)
    run(uri, [[{"id": 1, "v": 2}]], table, rename)
    assert read_rows(uri, sort="order_id", drop_system=True) == [{"order_id": 1, "v": 2}]


def test_schema_evolution_on_append_adds_columns_and_struct_fields(uri):
    table = make_table(append_only=True)
    run(uri, [[{"id": 1, "addr": {"city": "P"}}]], table)
    result = run(uri, [[{"id": 2, "addr": {"city": "L", "zip": "69"}, "note": "n"}]], table)
    assert result.version == 1
    assert sorted(result.added_columns) == ["addr.zip", "note"]
    assert read_rows(uri, drop_system=True) == [
        {"id": 1, "addr": {"city": "P", "zip": None}, "note": None},
        {"id": 2, "addr": {"city": "L", "zip": "69"}, "note": "n"},
    ]
    assert data_files(uri) == referenced_files(uri)


def test_columns_added_within_one_sync(uri):
    result = run(uri, [[{"id": 1}], [{"id": 2, "late": True}]], make_table(append_only=True))
    assert result.version == 0
    assert read_rows(uri, drop_system=True) == [{"id": 1, "late": None}, {"id": 2, "late": True}]


def test_types_widen_to_the_table_and_conflicts_fail(uri):
    table = make_table(append_only=True)
    run(uri, [[{"id": 1, "price": 1.5}]], table)
    run(uri, [[{"id": 2, "price": 2}]], table)  # inferred long this time: cast to the table's double
    assert [r["price"] for r in read_rows(uri)] == [1.5, 2.0]
    with pytest.raises(SchemaError, match="'price' is double in the Delta table but this sync typed it struct"):
        run(uri, [[{"id": 3, "price": {"amount": 3}}]], table)
    assert version(uri) == 1


def test_partitioning_cannot_change_silently(uri):
    run(uri, [[{"id": 1}]], make_table(append_only=True))
    with pytest.raises(LakeError, match="partitioned by nothing"):
        run(uri, [[{"id": 1}]], make_table(partitions={"type": "daily", "start": "2026-01-01"}), partition_key="2026-01-01")


def test_history_mode_needs_a_key():
    with pytest.raises(LakeError, match="needs a primary_key"):
        DeltaWriter("/tmp/unused", mode="history", run_id="r")


def test_bounded_part_files_are_committed_together(uri):
    with DeltaWriter(uri, mode="append", run_id="r", rows_per_file=1000) as writer:
        writer._parts.rows_per_group = 500  # noqa: SLF001 - small row groups so files rotate mid-sync
        for p in range(5):
            writer.write(pl.DataFrame({"id": range(p * 700, (p + 1) * 700)}))
        result = writer.commit()
    assert (result.version, result.rows_written) == (0, 3500)
    assert result.files_added >= 2
    assert DeltaTable(uri).to_pyarrow_table().num_rows == 3500


def test_object_store_code_path(uri, monkeypatch):
    """Part files go through deltalake's DeltaStorageHandler when the URI is not a local path."""
    monkeypatch.setattr(parts_module, "local_path", lambda _uri: None)
    file_uri = "file://" + uri
    os.makedirs(uri, exist_ok=True)
    run(file_uri, [[{"id": 1}, {"id": 2}]], make_table(append_only=True))
    run(file_uri, [[{"id": 3}]], make_table(append_only=True))
    assert [r["id"] for r in read_rows(uri)] == [1, 2, 3]


def test_partition_overwrite_deduplicates_by_key(uri):
    table = make_table(primary_key=["id"], partitions={"type": "daily", "start": "2026-01-01"})
    run(uri, [[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], [{"id": 1, "v": "a-last"}]], table, partition_key="2026-01-01")
    run(uri, [[{"id": 1, "v": "other day"}]], table, partition_key="2026-01-02")
    rows = read_rows(uri, sort=["_restsync_partition", "id"])
    assert [(r["_restsync_partition"], r["id"], r["v"]) for r in rows] == [
        ("2026-01-01", 1, "a-last"), ("2026-01-01", 2, "b"), ("2026-01-02", 1, "other day"),
    ]


def test_append_into_a_partition_with_a_new_column(uri):
    with DeltaWriter(uri, mode="append", run_id="r", partition_key="p1") as writer:
        writer.write(pl.DataFrame({"id": [1]}))
        writer.commit()
    with DeltaWriter(uri, mode="append", run_id="r", partition_key="p2") as writer:
        writer.write(pl.DataFrame({"id": [2], "extra": ["x"]}))
        result = writer.commit()
    assert (result.version, result.added_columns) == (1, ["extra"])
    assert [(r["id"], r["extra"], r["_restsync_partition"]) for r in read_rows(uri)] == [(1, None, "p1"), (2, "x", "p2")]
    assert data_files(uri) == referenced_files(uri)

"""``sync_table`` reporting, reading tables back, and maintenance."""

from __future__ import annotations

import base64
import json
import os

import polars as pl
import pytest
from deltalake import DeltaTable

from restsync_dagster.errors import LakeError, SchemaError
from restsync_dagster.lake import (
    DeltaWriter,
    compact,
    iter_table_batches,
    read_table_keys,
    sync_table,
    table_uri,
    vacuum,
    write_mode,
)
from tests.lake.helpers import make_table, make_transformations, read_rows


def test_table_uri_follows_the_spec_layout():
    assert table_uri("s3://bucket/lake/", "shop", "public_orders") == "s3://bucket/lake/shop/public_orders"
    assert table_uri("/data/lake", "shop", "orders") == "/data/lake/shop/orders"


@pytest.mark.parametrize(
    ("fields", "history", "partition", "mode"),
    [
        ({}, False, None, "overwrite"),
        ({"append_only": True}, False, None, "append"),
        ({"primary_key": ["id"]}, False, None, "merge"),
        ({"primary_key": ["id"]}, True, None, "history"),
        ({"primary_key": ["id"], "append_only": True}, False, "2026-01-01", "overwrite"),
    ],
)
def test_write_mode(fields, history, partition, mode):
    assert write_mode(make_table(**fields), history_mode=history, partition_key=partition) == mode


def test_sync_reports_counts_preview_schema_and_metadata(uri):
    table = make_table(
        primary_key=["id"],
        schema=[
            {"name": "id", "type": "long"},
            {"name": "email", "type": "string"},
            {"name": "at", "type": "timestamp"},
            {"name": "blob", "type": "binary"},
            {"name": "geo", "type": "struct", "fields": [{"name": "lat", "type": "double"}]},
        ],
    )
    transformations = make_transformations(
        {"type": "toggle_case", "config": {"fields": ["email"], "case": "lower"}},
        {"type": "rename_fields", "config": {"mapping": {"email": "mail"}}},
    )
    pages = [[{"id": i, "email": f"U{i}@X.ORG", "at": 1767225600 + i, "blob": "aGk=", "geo": {"lat": i}} for i in range(p * 7, p * 7 + 7)] for p in range(3)]
    result = sync_table(iter(pages + [[]]), table=table, transformations=transformations, table_uri=uri, storage_options={}, run_id="r-42")
    assert (result.rows, result.rows_written, result.pages, result.batches, result.version) == (21, 21, 4, 3, 0)
    assert result.elapsed_s > 0
    assert len(result.preview) == 10
    assert result.preview[0] == {
        "id": 0,
        "mail": "u0@x.org",
        "at": "2026-01-01T00:00:00Z",
        "blob": base64.b64encode(b"hi").decode(),
        "geo": {"lat": 0.0},
        "_restsync_loaded_at": result.preview[0]["_restsync_loaded_at"],
        "_restsync_run_id": "r-42",
    }
    json.dumps(result.preview)  # usable as Dagster JSON metadata as is
    assert result.schema == [
        ("id", "long"),
        ("mail", "string"),
        ("at", "timestamp[us, UTC]"),
        ("blob", "binary"),
        ("geo", "struct<lat: double>"),
        ("_restsync_loaded_at", "timestamp[us, UTC]"),
        ("_restsync_run_id", "string"),
    ]
    commit = DeltaTable(uri).history(1)[0]
    assert commit["restsync.run_id"] == "r-42" and commit["restsync.rows"] == 21
    assert "restsync.cursor" not in commit


def test_cursor_field_must_exist(uri):
    table = make_table(append_only=True, incremental={"cursor_field": "updated"})
    with pytest.raises(SchemaError, match="cursor_field 'updated' is not a column"):
        sync_table(iter([[{"id": 1}]]), table=table, transformations=[], table_uri=uri, storage_options={}, run_id="r")
    assert not DeltaTable.is_deltatable(uri)


def test_cursor_inside_a_struct(uri):
    table = make_table(append_only=True, incremental={"cursor_field": "meta.version"})
    result = sync_table(iter([[{"meta": {"version": 3}}, {"meta": {"version": 8}}]]), table=table, transformations=[],
                        table_uri=uri, storage_options={}, run_id="r")
    assert result.cursor_after == 8


def _history_table(uri):
    table = make_table(primary_key=["id"])
    history = make_transformations({"type": "history_mode"})
    for pages in ([[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]], [[{"id": 1, "v": "a2"}]]):
        sync_table(iter(pages), table=table, transformations=history, table_uri=uri, storage_options={}, run_id="r")


def test_read_table_keys_streams_current_rows(uri):
    _history_table(uri)
    assert sorted(read_table_keys(uri, ["id", "v"]), key=lambda r: r["id"]) == [{"id": 1, "v": "a2"}, {"id": 2, "v": "b"}]
    assert list(read_table_keys(uri + "_missing", ["id"])) == []
    with pytest.raises(LakeError, match="has no column 'nope'; columns are id, v"):
        list(read_table_keys(uri, ["nope"]))


def test_iter_table_batches(uri):
    _history_table(uri)
    current = pl.concat([pl.from_arrow(b) for b in iter_table_batches(uri, columns=["id"])])
    everything = pl.concat([pl.from_arrow(b) for b in iter_table_batches(uri, current_only=False, batch_size=1)])
    assert sorted(current["id"].to_list()) == [1, 2]
    assert everything.height == 3 and "_restsync_valid_to" in everything.columns


def test_compact_and_vacuum_remove_what_a_crashed_sync_left(uri):
    table = make_table(append_only=True)
    for i in range(4):
        sync_table(iter([[{"id": i}]]), table=table, transformations=[], table_uri=uri, storage_options={}, run_id="r")
    crashed = DeltaWriter(uri, mode="append", run_id="crash")
    crashed._parts.rows_per_group = 1  # noqa: SLF001 - flush to disk at once, as a long sync would
    crashed.write(pl.DataFrame({"id": [99]}))  # the process "dies" here: no commit, no abort
    leftovers = list(crashed._parts.files)  # noqa: SLF001
    assert leftovers and os.path.exists(os.path.join(uri, leftovers[0]))

    metrics = compact(uri)
    assert metrics["numFilesRemoved"] == 4
    deleted = vacuum(uri, retention_hours=0)
    assert any(leftovers[0] in path for path in deleted)
    assert not os.path.exists(os.path.join(uri, leftovers[0]))
    assert [r["id"] for r in read_rows(uri)] == [0, 1, 2, 3]

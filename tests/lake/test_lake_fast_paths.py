"""The fast paths of typing and writing: cached system columns, the ISO timestamp fast parse, and the
background Parquet writer (its errors must still surface and abort the sync cleanly)."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import polars as pl
import pyarrow.parquet as pq
import pytest

from restsync_dagster.config.pipeline import SchemaField
from restsync_dagster.errors import LakeError, SchemaError
from restsync_dagster.lake import Typer, sync_table
from restsync_dagster.lake.casts import to_timestamp
from tests.lake.helpers import make_table, read_rows

UTC = timezone.utc
LOADED = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def typer(schema: list[dict] | None) -> Typer:
    fields = None if schema is None else [SchemaField.model_validate(f) for f in schema]
    return Typer(table_name="orders", schema=fields, run_id="run-1", loaded_at=LOADED)


def test_system_columns_on_pages_of_any_size():
    t = typer(None)
    for size in (3, 5000, 0, 1, 2000, 70_000):
        frame = t.type_page([{"id": i} for i in range(size)])
        assert frame.height == size
        assert frame.schema["_restsync_loaded_at"] == pl.Datetime("us", "UTC")
        assert frame["_restsync_loaded_at"].unique().to_list() in ([LOADED], [])
        assert frame["_restsync_run_id"].unique().to_list() in (["run-1"], [])
    assert t.type_page([{}, {}]).columns == ["id", "_restsync_loaded_at", "_restsync_run_id"]
    assert typer(None).type_page([{}, {}]).shape == (2, 2)


def test_timestamp_fast_path_and_fallbacks_mixed_in_one_page():
    values = ["2024-01-02T03:04:05Z", "2024-01-02T05:04:05.5+02:00", " 2024-01-02T03:04:05Z ", "2024-01-02 03:04:05",
              "2024-01-02", "1704164645", "1704164645123", "2024-01-02t03:04:05z", None]
    out = to_timestamp(pl.Series("x", values))
    assert out.dtype == pl.Datetime("us", "UTC")
    base = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert out.to_list() == [base, base.replace(microsecond=500000), base, base, datetime(2024, 1, 2, tzinfo=UTC),
                             base, base.replace(microsecond=123000), base, None]
    only_iso = to_timestamp(pl.Series("x", ["2024-01-02T03:04:05Z", None]))
    assert only_iso.dtype == pl.Datetime("us", "UTC") and only_iso.to_list() == [base, None]
    assert to_timestamp(pl.Series("x", [None, None], dtype=pl.String)).dtype == pl.Datetime("us", "UTC")


def test_timestamp_error_still_names_table_column_row_and_page():
    t = typer([{"name": "at", "type": "timestamp"}])
    t.type_page([{"at": "2024-01-02T03:04:05Z"}] * 3)
    with pytest.raises(SchemaError) as info:
        t.type_page([{"at": "2024-01-02T03:04:05Z"}, {"at": "1704164645"}, {"at": "soon"}])
    message = str(info.value)
    assert "'orders'" in message and "'at'" in message and "'soon'" in message
    assert "row 6 of this sync (page 2)" in message


class Boom(RuntimeError):
    pass


def test_a_failing_background_write_aborts_the_sync(uri, monkeypatch):
    sync_table(iter([[{"id": 0}]]), table=make_table(append_only=True), transformations=[], table_uri=uri,
               storage_options={}, run_id="r0")
    before = {f for _, _, files in os.walk(uri) for f in files if f.endswith(".parquet")}

    def boom(self, table, *args, **kwargs):
        raise Boom("disk full")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", boom)
    with pytest.raises((Boom, LakeError), match="disk full"):
        sync_table(iter([[{"id": i} for i in range(10)]]), table=make_table(append_only=True), transformations=[],
                   table_uri=uri, storage_options={}, run_id="r1")
    after = {f for _, _, files in os.walk(uri) for f in files if f.endswith(".parquet")}
    assert after == before  # the failed sync's part files were deleted
    monkeypatch.undo()
    assert [r["id"] for r in read_rows(uri)] == [0]


def test_background_writes_keep_every_row_across_files(uri):
    from restsync_dagster.lake import DeltaWriter

    with DeltaWriter(uri, mode="append", run_id="r", rows_per_file=1000) as writer:
        writer._parts.rows_per_group = 300  # noqa: SLF001 - many row groups and files
        for start in range(0, 5000, 250):
            writer.write(pl.DataFrame({"id": list(range(start, start + 250))}))
        result = writer.commit()
    assert result.committed and result.files_added >= 5
    assert [r["id"] for r in read_rows(uri)] == list(range(5000))

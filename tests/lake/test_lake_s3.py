"""The lake engine on an S3-compatible object store (a local moto server): every write mode, reads,
the cursor and maintenance behave exactly as on a local folder."""

from __future__ import annotations

import polars as pl
import pytest
from deltalake import DeltaTable

from restsync_dagster.errors import LakeError
from restsync_dagster.lake import DeltaWriter, compact, iter_table_batches, read_cursor, read_table_keys, sync_table, vacuum
from tests.lake.helpers import make_table, make_transformations


@pytest.fixture
def lake(s3):
    root = s3.prefix()
    return root, s3.storage_options()


def _sync(uri, options, pages, *, partition_key=None, transformations=(), run_id="r", **fields):
    return sync_table(iter(pages), table=make_table(**fields), transformations=list(transformations), table_uri=uri,
                      storage_options=options, run_id=run_id, partition_key=partition_key)


def _rows(uri, options, *columns):
    frame = pl.from_arrow(DeltaTable(uri, storage_options=options).to_pyarrow_table())
    return sorted(frame.select(columns or [c for c in frame.columns if not c.startswith("_restsync_")]).rows())


def test_append_and_overwrite(lake):
    root, options = lake
    uri = f"{root}/demo/events"
    for i in range(2):
        result = _sync(uri, options, [[{"id": i, "v": "a"}], [{"id": i + 10, "v": "b"}]], append_only=True)
        assert (result.version, result.rows_written) == (i, 2)
    assert _rows(uri, options) == [(0, "a"), (1, "a"), (10, "b"), (11, "b")]

    full = f"{root}/demo/snapshot"
    _sync(full, options, [[{"id": 1}, {"id": 2}]])
    result = _sync(full, options, [[{"id": 3, "extra": "x"}]])
    assert result.version == 1 and _rows(full, options) == [(3, "x")]


def test_partition_overwrite_replaces_only_its_partition(lake):
    root, options = lake
    uri = f"{root}/demo/daily"
    _sync(uri, options, [[{"id": 1}, {"id": 2}]], partition_key="2026-01-01")
    _sync(uri, options, [[{"id": 3}]], partition_key="2026-01-02")
    _sync(uri, options, [[{"id": 4}]], partition_key="2026-01-01")
    assert _rows(uri, options, "_restsync_partition", "id") == [("2026-01-01", 4), ("2026-01-02", 3)]


def test_merge_deduplicates_and_upserts(lake):
    root, options = lake
    uri = f"{root}/demo/customers"
    _sync(uri, options, [[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 1, "v": "a2"}]], primary_key=["id"])
    result = _sync(uri, options, [[{"id": 2, "v": "b2"}, {"id": 3, "v": "c"}]], primary_key=["id"])
    assert (result.rows_inserted, result.rows_updated) == (1, 1)
    assert _rows(uri, options) == [(1, "a2"), (2, "b2"), (3, "c")]


def test_history_mode_and_reads_back(lake):
    root, options = lake
    uri = f"{root}/demo/prices"
    history = make_transformations({"type": "history_mode"})
    for pages in ([[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]], [[{"id": 1, "v": "a2"}, {"id": 2, "v": "b"}]]):
        _sync(uri, options, pages, primary_key=["id"], transformations=history)
    assert _rows(uri, options, "id", "v", "_restsync_is_current") == [(1, "a", False), (1, "a2", True), (2, "b", True)]
    assert sorted(map(tuple, (r.values() for r in read_table_keys(uri, ["id", "v"], options)))) == [(1, "a2"), (2, "b")]
    batches = list(iter_table_batches(uri, options, current_only=False))
    assert sum(b.num_rows for b in batches) == 3


def test_incremental_cursor_is_read_back(lake):
    root, options = lake
    uri = f"{root}/demo/changes"
    _sync(uri, options, [[{"id": 1, "at": 5}, {"id": 2, "at": 9}]], append_only=True, incremental={"cursor_field": "at"})
    assert read_cursor(uri, options) == 9


def test_failed_sync_leaves_no_object_behind(lake, s3):
    root, options = lake
    uri = f"{root}/demo/broken"
    _sync(uri, options, [[{"id": 1}]], append_only=True)
    before = s3.keys(root)

    def pages():
        yield [{"id": i} for i in range(50)]
        raise RuntimeError("the API went away")

    writer_rows = 1  # flush every frame to the object store before the failure
    with pytest.raises(RuntimeError), DeltaWriter(uri, mode="append", run_id="x", storage_options=options) as writer:
        writer._parts.rows_per_group = writer_rows  # noqa: SLF001
        for page in pages():
            writer.write(pl.DataFrame(page))
    assert sorted(s3.keys(root)) == sorted(before)


def test_compact_and_vacuum(lake, s3):
    root, options = lake
    uri = f"{root}/demo/small"
    for i in range(4):
        _sync(uri, options, [[{"id": i}]], append_only=True)
    crashed = DeltaWriter(uri, mode="append", run_id="crash", storage_options=options)
    crashed._parts.rows_per_group = 1  # noqa: SLF001
    crashed.write(pl.DataFrame({"id": [99]}))
    crashed._parts._wait()  # noqa: SLF001 - the process "dies" once the part is on the store
    crashed._parts._writer.close()  # noqa: SLF001
    crashed._parts._sink.close()  # noqa: SLF001
    leftover = crashed._parts.files[0]  # noqa: SLF001
    assert any(k.endswith(leftover) for k in s3.keys(root))

    assert compact(uri, options)["numFilesRemoved"] == 4
    deleted = vacuum(uri, options, retention_hours=0)
    assert any(leftover in path for path in deleted)
    assert not any(k.endswith(leftover) for k in s3.keys(root))
    assert _rows(uri, options) == [(0,), (1,), (2,), (3,)]


def test_maintenance_of_a_missing_table_names_it(lake):
    root, options = lake
    with pytest.raises(LakeError, match="there is no Delta table"):
        compact(f"{root}/demo/nothing", options)

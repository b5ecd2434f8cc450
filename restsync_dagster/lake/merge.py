"""Keyed writes: deduplicating a staged sync, upserts, and type-2 history, each one Delta commit.

A keyed sync is first staged as local Parquet files with a sequence number (``SEQ``), then
deduplicated by key keeping the last occurrence: only the key columns are grouped (in slices of the
key hash), the surviving rows are marked in a one-bit-per-row bitmap, and the rows stream through
it a row group at a time. The result feeds ``lake.rewrite``, or ``DeltaTable.merge(...,
streamed_exec=True)`` when the sync adds columns (whose own memory, delta-rs' hash join, grows with
the source and the files it rewrites).

History mode is a single merge whose source holds every synced row once with a merge
key (it closes the current version of a changed row, or inserts a new key) plus, for changed keys
only, a second copy with a null merge key (which never matches, so it is inserted as the new
current version). Which keys changed is decided before the merge by comparing a hash of the
non-``_restsync_*`` columns of the synced row with the table's current row, joining on the key.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.table import TableMerger
from deltalake.transaction import CommitProperties

from .evolve import cast_to, conform
from .parts import release_memory
from .spec import IS_CURRENT, LOADED_AT, VALID_TO, is_system

SEQ = "__restsync_seq"
CHANGED = "__restsync_changed"
READ_BATCH_ROWS = 64 * 1024


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def dedupe(files: list[str], key: list[str], schema: pl.Schema, out_path: str, *, rows: int, passes: int = 1) -> int:
    """Write the last row (highest ``SEQ``) of each key of the staged ``files`` to ``out_path``.

    Only the key and ``SEQ`` columns are read to find the rows to keep, in ``passes`` slices of the
    key hash so the group-by holds a slice of the keys at a time; the rows kept are marked in a
    bitmap indexed by ``SEQ`` (one bit per staged row). The rows are then streamed a row group at a
    time through that bitmap. ``schema`` is the union of the staged files' schemas; returns the rows
    written.
    """
    keep = pl.repeat(False, rows, dtype=pl.Boolean, eager=True)
    keys = pl.concat([pl.scan_parquet(f).select(*key, SEQ) for f in files], how="vertical_relaxed")
    for slice_ in range(passes):
        part = keys if passes == 1 else keys.filter(pl.struct(key).hash(seed=0) % passes == slice_)
        last = part.group_by(key).agg(pl.col(SEQ).max()).collect(engine="streaming").get_column(SEQ)
        keep.scatter(last, True)
        del last
    kept = 0
    writer = pq.ParquetWriter(out_path, pl.DataFrame(schema=schema).drop(SEQ).to_arrow().schema, compression="lz4")
    try:
        for batch in iter_parquet(files):
            frame = conform(pl.DataFrame(batch), schema, table="", fill_missing=True).select(list(schema))
            frame = frame.filter(keep.gather(frame.get_column(SEQ))).drop(SEQ)
            if frame.height:
                writer.write_table(frame.to_arrow())
                kept += frame.height
            del frame
            release_memory()
    finally:
        writer.close()
    return kept


def iter_parquet(paths: list[str]) -> Iterator[pa.RecordBatch]:
    """The row groups of local Parquet files, one at a time.

    Reading row group by row group keeps memory at one row group; pyarrow's dataset scanner and
    ``iter_batches`` read ahead and held 2-6x more in measurements here.
    """
    for path in paths:
        parquet = pq.ParquetFile(path, pre_buffer=False)
        for i in range(parquet.num_row_groups):
            yield from parquet.read_row_group(i).to_batches()


def reader(paths: list[str]) -> pa.RecordBatchReader:
    """A ``RecordBatchReader`` over local Parquet files with one schema, a row group at a time."""
    schema = pq.read_schema(paths[0])
    return pa.RecordBatchReader.from_batches(schema, iter_parquet(paths))


def _merger(table: DeltaTable, source: list[str], predicate: str, properties: CommitProperties) -> TableMerger:
    """A streamed merge of the staged part files ``s`` into the table ``t``, evolving its schema."""
    return table.merge(
        reader(source),
        predicate=predicate,
        source_alias="s",
        target_alias="t",
        merge_schema=True,
        streamed_exec=True,
        commit_properties=properties,
    )


def upsert(table: DeltaTable, source: list[str], key: list[str], properties: CommitProperties) -> dict[str, Any]:
    predicate = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in key)
    return (
        _merger(table, source, predicate, properties)
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )


def _merge_key(i: int) -> str:
    return f"__restsync_mk_{i}"


def history_source(table: DeltaTable, deduped: list[str], key: list[str], out_path: str, *, table_name: str) -> None:
    """Write the merge source of a history sync (see the module doc) to ``out_path``."""
    synced = pl.scan_parquet(deduped)
    s_schema = synced.collect_schema()
    content = [c for c in s_schema if not is_system(c)]
    current = pl.scan_delta(table).filter(pl.col(IS_CURRENT))
    t_schema = current.collect_schema()

    def as_synced(name: str) -> pl.Expr:
        want = s_schema[name]
        if name not in t_schema:
            return pl.lit(None, dtype=want).alias(name)
        return cast_to(pl.col(name), t_schema[name], want, table=table_name, column=name).alias(name)

    digest = pl.struct(content).hash(seed=0).alias("__h") if content else pl.lit(0, dtype=pl.UInt64).alias("__h")
    synced_hash = synced.select(*key, digest)
    current_hash = current.select([as_synced(c) for c in dict.fromkeys([*key, *content])]).select(
        *key, digest.alias("__ht")
    )
    changed = (
        synced_hash.join(current_hash, on=key, how="inner")
        .filter(pl.col("__h") != pl.col("__ht"))
        .select(key)
        .unique()
    )
    columns = list(s_schema)
    helpers = [_merge_key(i) for i in range(len(key))]
    # With merge_schema, delta-rs fills columns new to the table from the source even in rows a
    # clause only closes; the closing copy carries nulls there so the old version stays as it was.
    fresh = [c for c in columns if c not in t_schema]
    first = (
        synced.join(changed.with_columns(pl.lit(True).alias(CHANGED)), on=key, how="left")
        .with_columns(pl.col(CHANGED).fill_null(False))
        .select(
            *[pl.when(~pl.col(CHANGED)).then(pl.col(c)).alias(c) if c in fresh else pl.col(c) for c in columns],
            *[pl.col(k).alias(m) for k, m in zip(key, helpers)],
            pl.col(CHANGED),
        )
    )
    second = synced.join(changed, on=key, how="semi").select(
        *columns,
        *[pl.lit(None, dtype=s_schema[k]).alias(m) for k, m in zip(key, helpers)],
        pl.lit(False).alias(CHANGED),
    )
    pl.concat([first, second], how="vertical").sink_parquet(out_path)


def history_merge(
    table: DeltaTable, source: list[str], key: list[str], columns: list[str], properties: CommitProperties
) -> dict[str, Any]:
    predicate = " AND ".join(f"t.{quote(k)} = s.{quote(_merge_key(i))}" for i, k in enumerate(key))
    predicate += f" AND t.{quote(IS_CURRENT)} = true"
    return (
        _merger(table, source, predicate, properties)
        .when_matched_update(
            updates={quote(VALID_TO): f"s.{quote(LOADED_AT)}", quote(IS_CURRENT): "false"},
            predicate=f"s.{quote(CHANGED)} = true",
        )
        .when_not_matched_insert(updates={quote(c): f"s.{quote(c)}" for c in columns})
        .execute()
    )


def local_files(folder: str, files: list[str]) -> list[str]:
    return [os.path.join(folder, f) for f in files]

"""Keyed writes: deduplicating a staged sync, upserts, and type-2 history, each one Delta commit.

A keyed sync is first staged as local Parquet files with a sequence number, then deduplicated by
key keeping the last occurrence. The staged rows are split into buckets by a hash of the key and
each bucket is deduplicated on its own, so memory is bounded by the bucket size (``delta`` picks
the bucket count from the staged size), not by the sync. The result feeds
``DeltaTable.merge(..., streamed_exec=True)``.

History mode (SPEC §4.4) is a single merge whose source holds every synced row once with a merge
key (it closes the current version of a changed row, or inserts a new key) plus, for changed keys
only, a second copy with a null merge key (which never matches, so it is inserted as the new
current version). Which keys changed is decided before the merge by comparing a hash of the
non-``_restsync_*`` columns of the synced row with the table's current row, joining on the key.
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.transaction import CommitProperties

from .evolve import cast_to, conform
from .spec import IS_CURRENT, LOADED_AT, VALID_TO, is_system

SEQ = "__restsync_seq"
CHANGED = "__restsync_changed"
READ_BATCH_ROWS = 64 * 1024


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def dedupe(files: list[str], key: list[str], schema: pl.Schema, out_dir: str, *, buckets: int = 1) -> tuple[list[str], int]:
    """Keep the last row (highest ``SEQ``) of each key; returns the output files and their rows.

    One streaming pass splits the staged rows into ``buckets`` files by a hash of the key; each
    bucket is then deduplicated in memory on its own, so memory is bounded by one bucket (and one
    read batch) whatever the size of the sync. ``schema`` is the union of the staged files' schemas.
    """
    bucket_files = _split(files, key, schema, out_dir, buckets)
    outputs: list[str] = []
    rows = 0
    for bucket, path in enumerate(bucket_files):
        frame = pl.read_parquet(path)
        os.remove(path)
        if frame.height == 0:
            continue
        if not frame[SEQ].is_sorted():
            frame = frame.sort(SEQ)
        frame = frame.unique(subset=key, keep="last", maintain_order=True).drop(SEQ)
        out = os.path.join(out_dir, f"deduped-{bucket:04d}.parquet")
        frame.write_parquet(out, row_group_size=READ_BATCH_ROWS)
        outputs.append(out)
        rows += frame.height
        del frame
    return outputs, rows


def _split(files: list[str], key: list[str], schema: pl.Schema, out_dir: str, buckets: int) -> list[str]:
    arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema
    paths = [os.path.join(out_dir, f"bucket-{b:04d}.parquet") for b in range(buckets)]
    writers = [pq.ParquetWriter(p, arrow_schema, compression="lz4") for p in paths]
    try:
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_BATCH_ROWS):
                frame = conform(pl.from_arrow(batch), schema, table="", fill_missing=True).select(list(schema))  # type: ignore[arg-type]
                if buckets == 1:
                    writers[0].write_table(frame.to_arrow())
                    continue
                ids = frame.select(pl.struct(key).hash(seed=0) % buckets).to_series()
                for (bucket,), part in frame.with_columns(ids.alias("__b")).partition_by("__b", as_dict=True).items():
                    writers[int(bucket)].write_table(part.drop("__b").to_arrow())  # type: ignore[call-overload]
    finally:
        for writer in writers:
            writer.close()
    return paths


def count_rows(paths: list[str]) -> int:
    return int(pl.scan_parquet(paths).select(pl.len()).collect().item()) if paths else 0


def reader(paths: list[str]) -> Any:
    """A ``RecordBatchReader`` over local Parquet files, read a batch at a time."""
    return ds.dataset(paths, format="parquet").scanner(batch_size=READ_BATCH_ROWS).to_reader()


def upsert(table: DeltaTable, source: list[str], key: list[str], properties: CommitProperties) -> dict[str, Any]:
    predicate = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in key)
    return (
        table.merge(
            reader(source),
            predicate=predicate,
            source_alias="s",
            target_alias="t",
            merge_schema=True,
            streamed_exec=True,
            commit_properties=properties,
        )
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
        table.merge(
            reader(source),
            predicate=predicate,
            source_alias="s",
            target_alias="t",
            merge_schema=True,
            streamed_exec=True,
            commit_properties=properties,
        )
        .when_matched_update(
            updates={quote(VALID_TO): f"s.{quote(LOADED_AT)}", quote(IS_CURRENT): "false"},
            predicate=f"s.{quote(CHANGED)} = true",
        )
        .when_not_matched_insert(updates={quote(c): f"s.{quote(c)}" for c in columns})
        .execute()
    )


def local_files(folder: str, files: list[str]) -> list[str]:
    return [os.path.join(folder, f) for f in files]

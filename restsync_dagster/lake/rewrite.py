"""Keyed writes that rewrite only the data files holding synced keys, as one Delta transaction.

The deduplicated sync (``lake.merge.dedupe``) is reduced to its key columns (history mode adds a
hash of each row's content, its load time and its row number) and the Delta log's file statistics
prune the table to the files whose key bounds contain a synced key (``lake.prune``). Each of those
files is streamed a row group at a time:

- upsert: rows whose key was synced are dropped; every synced row is then written as new;
- history: the current row of a synced key whose content changed is closed
  (``_restsync_valid_to`` = the synced row's load time, ``_restsync_is_current`` = false); a synced
  row whose key is current with the same content is not written again; the others are.

A file in which nothing changed is left as it was; each changed file is written anew (keeping its
key range, so later syncs prune as well) and removed. The adds and removes are committed in one
transaction that never rebases: if anything else committed since the snapshot was read, the commit
fails and ``lake.commit`` reruns the write on a fresh snapshot. Memory is the synced key columns plus
one row group, whatever the size of the table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import polars as pl
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.transaction import AddAction, CommitProperties, RemoveAction

from .evolve import conform
from .merge import iter_parquet
from .parts import ROWS_PER_FILE, ROWS_PER_GROUP, PartWriter, Store, release_memory
from .prune import DataFile, KeyRanges, candidates, data_files, prunable
from .spec import IS_CURRENT, LOADED_AT, VALID_TO, is_system

DIGEST = "__restsync_digest"
TARGET_DIGEST = "__restsync_target_digest"
SYNC_ROW = "__restsync_sync_row"
TARGET_ROW = "__restsync_target_row"
CLOSE_AT = "__restsync_close_at"
CLOSE = "__restsync_close"


def supported(table: DeltaTable) -> bool:
    """Whether the table's data files can be read as plain Parquet: no deletion vectors (rows a
    file still holds but the table deleted) and no column mapping (physical column names)."""
    features = table.protocol().reader_features or []
    mapping = table.metadata().configuration.get("delta.columnMapping.mode") or "none"
    return "deletionVectors" not in features and "columnMapping" not in features and mapping == "none"


@dataclass
class Outcome:
    adds: list[AddAction] = field(default_factory=list)
    removes: list[RemoveAction] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    """Upsert: rows replaced; history: versions closed."""
    candidates: int = 0
    """Files whose statistics did not rule out a synced key."""


class Rewrite:
    """One attempt of a keyed write on the snapshot ``table``; see the module doc."""

    def __init__(
        self,
        table: DeltaTable,
        store: Store,
        deduped: str,
        *,
        key: list[str],
        schema: pl.Schema,
        history: bool,
        table_name: str,
        on_open: Callable[[str], None] | None = None,
        rows_per_file: int = ROWS_PER_FILE,
    ):
        self.table = table
        self.store = store
        self.deduped = deduped
        self.key = key
        self.schema = schema
        self.columns = list(schema)
        self.content = [c for c in schema if not is_system(c)]
        self.history = history
        self.name = table_name
        self.on_open = on_open
        self.rows_per_file = rows_per_file
        self.writers: list[PartWriter] = []
        self.order = key[0] if prunable(schema[key[0]]) else None
        """The key column whose bounds slice the synced keys per file and per row group."""

    def run(self) -> Outcome:
        """Write the new files; nothing is committed."""
        synced = self._synced_keys()
        skip = pl.repeat(False, synced.height, dtype=pl.Boolean, eager=True)
        out = Outcome()
        files = candidates(data_files(self.table, self.key, dict(self.schema)), KeyRanges(synced, self.key))
        out.candidates = len(files)
        for file in files:
            keys = _within(synced, self.order, file.bounds.get(self.order) if self.order else None)
            if keys.height == 0:
                continue
            changed = self._rewrite(file, keys, skip) if self.history else self._replace(file, keys)
            if changed is None:
                continue
            adds, rows = changed
            out.adds += adds
            out.updated += rows
            out.removes.append(
                RemoveAction(file.path, True, int(time.time() * 1000), file.size, dict(file.partition_values))
            )
        adds, written = self._write_synced(skip)
        out.adds += adds
        out.inserted = written if self.history else max(0, written - out.updated)
        return out

    def abort(self) -> None:
        """Delete every file this attempt wrote."""
        for writer in self.writers:
            writer.abort()

    def commit(self, outcome: Outcome, properties: CommitProperties) -> None:
        """One transaction of the new and removed files, failing on any concurrent commit."""
        exclusive = CommitProperties(
            custom_metadata=properties.custom_metadata,
            max_commit_retries=0,
            app_transactions=properties.app_transactions,
        )
        self.table.create_write_transaction(
            [*outcome.adds, *outcome.removes],
            mode="append",
            schema=self.table.schema(),
            commit_properties=exclusive,
        )

    def _writer(self) -> PartWriter:
        writer = PartWriter(self.store, rows_per_file=self.rows_per_file, on_open=self.on_open)
        self.writers.append(writer)
        return writer

    def _frames(self, paths: list[str], *, store: Store | None = None) -> Iterator[pl.DataFrame]:
        """Row groups of local (or, with ``store``, table) Parquet files in the write's schema."""
        batches = _table_row_groups(store, paths) if store is not None else iter_parquet(paths)
        for batch in batches:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield conform(frame, self.schema, table=self.name, fill_missing=True).select(self.columns)

    def _near(self, keys: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
        """The synced keys within the range of ``frame``'s sort column: small joins per row group."""
        if self.order is None or frame.height == 0:
            return keys
        column = frame.get_column(self.order)
        return _within(keys, self.order, (column.min(), column.max()))

    def _digest(self) -> pl.Expr:
        if not self.content:
            return pl.lit(0, dtype=pl.UInt64)
        return pl.struct(self.content).hash(seed=0)

    def _synced_keys(self) -> pl.DataFrame:
        if not self.history:
            return pl.read_parquet(self.deduped, columns=self.key)
        parts, row = [], 0
        for frame in self._frames([self.deduped]):
            parts.append(
                frame.select(
                    *self.key,
                    self._digest().alias(DIGEST),
                    pl.col(LOADED_AT).alias(CLOSE_AT),
                    pl.int_range(row, row + frame.height, dtype=pl.Int64).alias(SYNC_ROW),
                )
            )
            row += frame.height
        if not parts:
            columns: dict[str, pl.DataType | type[pl.DataType]] = {k: self.schema[k] for k in self.key}
            columns |= {DIGEST: pl.UInt64, CLOSE_AT: self.schema[LOADED_AT], SYNC_ROW: pl.Int64}
            return pl.DataFrame(schema=columns)
        return pl.concat(parts, rechunk=False)

    def _replace(self, file: DataFile, keys: pl.DataFrame) -> tuple[list[AddAction], int] | None:
        """Upsert: ``file`` without the synced keys, or ``None`` when it holds none of them."""
        held = 0
        for batch in _table_row_groups(self.store, [file.path], columns=self.key):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.select(pl.col(k).cast(self.schema[k]) for k in self.key)
            held += frame.join(self._near(keys, frame), on=self.key, how="semi").height
        if held == 0:
            return None
        writer = self._writer()
        for frame in self._frames([file.path], store=self.store):
            _write(writer, frame.join(self._near(keys, frame), on=self.key, how="anti", maintain_order="left"))
        return writer.close(), held

    def _rewrite(self, file: DataFile, keys: pl.DataFrame, skip: pl.Series) -> tuple[list[AddAction], int] | None:
        """History: ``file`` with the changed current rows closed, or ``None`` when none changed.

        Synced rows whose key is current here with the same content are marked in ``skip``."""
        writer = self._writer()
        closed = 0
        for frame in self._frames([file.path], store=self.store):
            frame = frame.with_row_index(TARGET_ROW)
            matched = (
                frame.filter(pl.col(IS_CURRENT))
                .select(TARGET_ROW, *self.key, self._digest().alias(TARGET_DIGEST))
                .join(self._near(keys, frame), on=self.key, how="inner")
            )
            same = matched.get_column(TARGET_DIGEST) == matched.get_column(DIGEST)
            unchanged = matched.filter(same).get_column(SYNC_ROW)
            if unchanged.len():
                skip.scatter(unchanged, True)
            close = matched.filter(~same).select(TARGET_ROW, CLOSE_AT, pl.lit(True).alias(CLOSE))
            if close.height:
                closed += close.height
                frame = frame.join(close, on=TARGET_ROW, how="left", maintain_order="left").with_columns(
                    pl.when(pl.col(CLOSE)).then(pl.col(CLOSE_AT)).otherwise(pl.col(VALID_TO)).alias(VALID_TO),
                    pl.when(pl.col(CLOSE)).then(False).otherwise(pl.col(IS_CURRENT)).alias(IS_CURRENT),
                )
            _write(writer, frame.select(self.columns))
        if closed == 0:
            writer.abort()
            self.writers.remove(writer)
            return None
        return writer.close(), closed

    def _write_synced(self, skip: pl.Series) -> tuple[list[AddAction], int]:
        """Write the synced rows (history: except those already current); their files and rows."""
        writer = self._writer()
        row = written = 0
        for frame in self._frames([self.deduped]):
            if self.history:
                keep = ~skip.slice(row, frame.height)
                row += frame.height
                frame = frame.filter(keep)
            _write(writer, frame)
            written += frame.height
        return writer.close(), written


def _write(writer: PartWriter, frame: pl.DataFrame) -> None:
    for chunk in frame.iter_slices(ROWS_PER_GROUP):
        writer.write(chunk)
    release_memory()


def _within(synced: pl.DataFrame, order: str | None, bounds: tuple[Any, Any] | None) -> pl.DataFrame:
    """The synced keys whose ``order`` column is within ``bounds``; all of them without bounds."""
    if order is None or bounds is None or bounds[0] is None or bounds[1] is None:
        return synced
    return synced.filter(pl.col(order).is_between(pl.lit(bounds[0]), pl.lit(bounds[1])))


def _table_row_groups(store: Store, paths: list[str], *, columns: list[str] | None = None) -> Iterator[Any]:
    """The row groups of a table's data files, one at a time (see ``lake.merge.iter_parquet``)."""
    for path in paths:
        with store.fs.open_input_file(store.path(path)) as source:
            parquet = pq.ParquetFile(source, pre_buffer=False)
            present = None if columns is None else [c for c in columns if c in parquet.schema_arrow.names]
            for i in range(parquet.num_row_groups):
                yield parquet.read_row_group(i, columns=present)

"""Writing one sync to a Delta table as exactly one commit, whatever the mode.

=============  ==================================================================================
mode           commit
=============  ==================================================================================
``append``     part files written as frames arrive, added in one ``append`` transaction
``overwrite``  the same files replace the whole table, or with ``partition_key`` only the rows of
               ``_restsync_partition = <key>`` (a partition-filtered overwrite)
``merge``      staged locally, deduplicated by key (last occurrence wins), then the table files
               whose key statistics may hold a synced key are rewritten without those keys and
               the synced rows added, in one transaction (``lake.rewrite``)
``history``    like ``merge`` but type-2: changed current rows are closed, see ``lake.rewrite``
=============  ==================================================================================

Nothing is visible until the commit; on any failure the part files are deleted and the table
stays at its version. A run's lease (``lake.staging``) lists its part files, so the next run or
maintenance removes those a crash leaves behind. A new table is created by the same single commit
(``create_table_with_add_actions``).

Concurrent runs: the commit is attempted on a fresh snapshot and retried when another run committed
first (``lake.commit``); a run that loses the race to create the table commits into the winner's.

Empty syncs: ``append``, ``merge`` and ``history`` make no commit and keep the version (and so the
stored cursor); ``overwrite`` still commits, leaving the table (or the partition) empty, because an
empty answer from the API is the new truth for a full refresh.

Schema evolution: ``overwrite`` evolves the table in its own commit. ``create_write_transaction``
cannot add columns on ``append`` (delta-rs issue #3934), so an append that brings new columns is
committed by ``write_deltalake(schema_mode="merge")`` reading the part files back, and a keyed sync
that brings new columns by delta-rs' streamed ``MERGE`` (``merge_schema=True``, ``lake.merge``):
still one commit, but their memory grows with the sync (and for ``MERGE`` with the files it rewrites).
``merge_engine="delta-rs"`` uses that ``MERGE`` for every keyed sync.
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake import write_deltalake
from deltalake.exceptions import CommitFailedError
from deltalake.transaction import AddAction, CommitProperties, create_table_with_add_actions

from ..errors import LakeError, RestSyncError, SchemaError
from . import merge as keyed
from . import staging, state
from .commit import Intent, RetryPolicy, commit_with_retries
from .evolve import added_columns, conform, merge_schemas, polars_schema
from .parts import ROWS_PER_FILE, PartWriter, Store, partition_dir
from .rewrite import Rewrite
from .rewrite import supported as rewrite_supported
from .casts import UTC_US
from .spec import IS_CURRENT, LOADED_AT, PARTITION, VALID_FROM, VALID_TO, is_system, type_string

WriteMode = Literal["append", "merge", "overwrite", "history"]
MergeEngine = Literal["rewrite", "delta-rs"]
DEDUPE_KEYS_PER_PASS = 500_000
"""Staged rows whose keys are grouped at a time when deduplicating (keyed modes)."""
HISTORY_COLUMNS = (VALID_FROM, VALID_TO, IS_CURRENT)


@dataclass
class WriteResult:
    """What one sync did to its Delta table: the lake's one outcome.

    ``DeltaWriter.commit`` fills in the commit; ``sync_table`` adds what came in (records, pages,
    batches, preview). The engine's ``TableSyncResult`` holds it as ``write``, next to the fetch side.
    """

    table_uri: str
    mode: str
    committed: bool
    """False when the sync made no commit (an empty append, merge or history sync)."""
    version: int | None
    """Table version after the sync (``None``: there is still no table)."""
    rows_written: int
    """Rows sent to the table (after deduplication for keyed modes)."""
    rows_inserted: int | None = None
    rows_updated: int | None = None
    """Rows updated by a merge; in history mode, the versions closed."""
    files_added: int = 0
    added_columns: list[str] = field(default_factory=list)
    """Columns (dotted for struct fields) this sync added to an existing table."""
    schema: list[tuple[str, str]] = field(default_factory=list)
    """The table's columns and their types once the sync is committed."""
    partition_key: str | None = None
    cursor_before: Any = None
    cursor_after: Any = None
    rows: int = 0
    """Records received and typed by ``sync_table`` (before transformations filter any)."""
    pages: int = 0
    """Pages received by ``sync_table``."""
    batches: int = 0
    """Non-empty frames handed to the writer by ``sync_table``."""
    preview: list[dict[str, Any]] = field(default_factory=list)
    """The first rows as written, JSON-friendly (instants as ISO text, bytes as base64)."""
    elapsed_s: float = 0.0
    """Seconds ``sync_table`` took, typing and writing included."""


def table_schema(table: DeltaTable) -> pl.Schema:
    return polars_schema(pa.schema(table.schema().to_arrow()))


class DeltaWriter:
    """Collects the frames of one sync and commits them once. Use as a context manager or call
    ``abort`` on failure."""

    def __init__(
        self,
        table_uri: str,
        *,
        mode: WriteMode,
        run_id: str,
        storage_options: dict[str, str] | None = None,
        primary_key: list[str] | None = None,
        partition_key: str | None = None,
        table_name: str | None = None,
        rows_per_file: int = ROWS_PER_FILE,
        retry: RetryPolicy = RetryPolicy(),
        merge_engine: MergeEngine = "rewrite",
    ):
        self.table_uri = table_uri
        self.mode = mode
        self.run_id = run_id
        self.storage_options = dict(storage_options or {})
        self.primary_key = list(primary_key or [])
        self.partition_key = partition_key
        self.name = table_name or table_uri
        self.rows_per_file = rows_per_file
        self.retry = retry
        self.merge_engine = merge_engine
        self._rewrites: list[Rewrite] = []
        if mode in ("merge", "history") and not self.primary_key:
            raise LakeError(f"table {self.name!r}: mode {mode!r} needs a primary_key")
        if partition_key is not None and mode in ("merge", "history"):
            raise LakeError(
                f"table {self.name!r}: a partitioned table replaces its partition on every sync; "
                f"mode {mode!r} (history_mode or merge) cannot be combined with partitions"
            )
        self._store = Store(table_uri, self.storage_options)
        staging.sweep(table_uri, self.storage_options)
        self._table = state.open_table(table_uri, self.storage_options)
        self._since = self._table.version() if self._table is not None else None
        self._partition_by = [PARTITION] if partition_key is not None else []
        self._before: pl.Schema | None = None
        if self._table is not None:
            self._adopt(self._table)
        self._dedupe = bool(self.primary_key) and mode != "append"
        self._lease = staging.Lease(self._store, run_id=run_id, local_dir=self._dedupe)
        self._tmp = self._lease.local_dir
        self._deduped = f"{self._tmp}/deduped.parquet" if self._tmp else ""
        self._parts = PartWriter(Store(self._tmp), rows_per_file=rows_per_file) if self._tmp else self._table_parts()
        self._table_writer: PartWriter | None = None if self._dedupe else self._parts
        self._schema: pl.Schema = pl.Schema()
        self.rows = 0
        self._done = False
        self._commit_id: str | None = None

    def __enter__(self) -> "DeltaWriter":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()

    @property
    def _full_overwrite(self) -> bool:
        return self.mode == "overwrite" and self.partition_key is None

    def _adopt(self, table: DeltaTable) -> None:
        """Write on top of ``table`` (the snapshot at open, or a fresher one on a retry)."""
        self._check_existing(table)
        self._table = table
        schema = table_schema(table)
        self._before = pl.Schema({k: v for k, v in schema.items() if k != PARTITION})

    def _check_existing(self, table: DeltaTable) -> None:
        have = list(table.metadata().partition_columns)
        if have != self._partition_by:
            raise LakeError(
                f"table {self.name!r}: the Delta table at {self.table_uri} is partitioned by {have or 'nothing'} "
                f"but this sync writes {self._partition_by or 'an unpartitioned table'}; "
                "drop the table (or point the table at a new location) to change its partitioning"
            )
        if self.mode == "history":
            columns = set(table_schema(table))
            missing = [c for c in HISTORY_COLUMNS if c not in columns]
            if missing:
                raise LakeError(
                    f"table {self.name!r}: history_mode needs {', '.join(missing)} but the existing Delta table "
                    f"at {self.table_uri} was not written in history mode; write it to a new location"
                )

    def _table_parts(self) -> PartWriter:
        if self.partition_key is None:
            return PartWriter(self._store, rows_per_file=self.rows_per_file, on_open=self._lease.add_file)
        return PartWriter(
            self._store,
            subdir=partition_dir(PARTITION, self.partition_key),
            partition_values={PARTITION: self.partition_key},
            rows_per_file=self.rows_per_file,
            on_open=self._lease.add_file,
        )

    def write(self, frame: pl.DataFrame) -> None:
        """Add one typed, transformed frame to the sync."""
        if self._done:
            raise LakeError(f"table {self.name!r}: the writer is already committed or aborted")
        if PARTITION in frame.columns:
            frame = frame.drop(PARTITION)
        if self.mode == "history":
            frame = frame.with_columns(
                pl.col(LOADED_AT).alias(VALID_FROM),
                pl.lit(None, dtype=UTC_US).alias(VALID_TO),
                pl.lit(True).alias(IS_CURRENT),
            )
        if self._before is not None and not self._full_overwrite:
            frame = conform(frame, self._before, table=self.name, fill_missing=self.mode in ("merge", "history"))
        if self.primary_key and frame.height:
            self._check_keys(frame)
        self._schema = merge_schemas(self._schema, frame.schema)
        if self._dedupe:
            frame = frame.with_columns(pl.int_range(self.rows, self.rows + frame.height, dtype=pl.Int64).alias(keyed.SEQ))
        self._parts.write(frame)
        self.rows += frame.height

    def _check_keys(self, frame: pl.DataFrame) -> None:
        missing = [k for k in self.primary_key if k not in frame.columns]
        if missing:
            data = [c for c in frame.columns if not is_system(c)]
            raise SchemaError(
                f"table {self.name!r}: primary key column {missing[0]!r} is not a column of the table; "
                f"columns are {', '.join(data)}"
            )
        nulls = frame.select(pl.any_horizontal([pl.col(k).is_null() for k in self.primary_key])).to_series()
        if nulls.any():
            row = int(nulls.arg_true()[0])
            raise SchemaError(
                f"table {self.name!r}: primary key ({', '.join(self.primary_key)}) is null in row "
                f"{self.rows + row + 1} of this sync"
            )

    def commit(self, *, cursor_before: Any = None, cursor_after: Any = None, metadata: dict[str, Any] | None = None) -> WriteResult:
        """Commit the sync (or nothing, see the module doc). ``cursor_after`` goes into the commit,
        or the table's own cursor when a concurrent run committed a later one."""
        if self._done:
            raise LakeError(f"table {self.name!r}: the writer is already committed or aborted")
        commit_id = self._commit_id = uuid.uuid4().hex
        custom = {state.RUN_ID: self.run_id, state.COMMIT_ID: commit_id, state.MODE: self.mode, state.ROWS: self.rows}
        if self.partition_key is not None:
            custom[state.PARTITION] = self.partition_key
        custom.update(metadata or {})
        intent = Intent(self.run_id, self.mode, self.partition_key)
        try:
            if not self._lease.held():
                raise LakeError(
                    f"table {self.name!r}: this run's staged files were removed by another run while it stalled "
                    f"(no heartbeat for {staging.STALE_AFTER_S:.0f} s); nothing was committed, run the sync again"
                )
            self._lease.set_commit(commit_id)
            rows = self._stage()
            result = commit_with_retries(
                lambda table: self._attempt(table, rows, intent, custom, cursor_after),
                table_uri=self.table_uri,
                storage_options=self.storage_options,
                intent=intent,
                since=self._since,
                name=self.name,
                policy=self.retry,
            )
        except RestSyncError:
            self.abort()
            raise
        except Exception as exc:
            version = state.find_commit(self.table_uri, self.storage_options, commit_id)
            if version is None:
                self.abort()
                raise LakeError(f"table {self.name!r}: the Delta commit to {self.table_uri} failed: {exc}") from exc
            # The commit landed and something after it (a post-commit hook) failed: the sync is done.
            result = WriteResult(self.table_uri, self.mode, True, version, self.rows, cursor_after=cursor_after)
        self._done = True
        self._lease.release()
        result.partition_key = self.partition_key
        result.schema = [(name, type_string(dtype)) for name, dtype in self.schema.items()]
        result.cursor_before = cursor_before
        if not result.committed:
            result.cursor_after = cursor_before
        return result

    def abort(self) -> None:
        """Delete every file this writer wrote; the table is untouched."""
        self._done = True
        if self._commit_id is not None and state.find_commit(self.table_uri, self.storage_options, self._commit_id) is not None:
            self._lease.release()  # interrupted after the commit landed: its files belong to the table now
            return
        self._parts.abort()
        if self._table_writer is not None and self._table_writer is not self._parts:
            self._table_writer.abort()
        for rewrite in self._rewrites:
            rewrite.abort()
        self._lease.release()

    def _stage(self) -> int:
        """Close the part files; keyed modes deduplicate them into the staging folder. Rows to commit."""
        staged = self._parts.close()
        if not self._dedupe:
            return self.rows
        assert self._tmp is not None
        files = keyed.local_files(self._tmp, [a.path for a in staged])
        staged_schema = pl.Schema({**self._schema, keyed.SEQ: pl.Int64()})
        passes = max(1, math.ceil(self.rows / DEDUPE_KEYS_PER_PASS))
        rows = keyed.dedupe(files, self.primary_key, staged_schema, self._deduped, rows=self.rows, passes=passes) if files else 0
        for path in files:
            os.remove(path)
        return rows

    def _attempt(self, table: DeltaTable | None, rows: int, intent: Intent, custom: dict[str, Any], cursor_after: Any) -> WriteResult:
        """One commit attempt on the snapshot ``table`` (``None``: no table yet)."""
        if table is not None:
            self._adopt(table)
        self._table = table
        custom = dict(custom)
        if cursor_after is not None:
            if table is not None:
                cursor_after = state.later_cursor(state.table_cursor(table), cursor_after)
            custom[state.CURSOR] = cursor_after
        result = self._commit(rows, intent.properties(custom, creating=table is None))
        result.cursor_after = cursor_after
        return result

    def _commit(self, rows: int, properties: CommitProperties) -> WriteResult:
        if not self._dedupe:
            return self._commit_files(self._parts.adds, rows, properties)
        if self._table is not None and self.mode in ("merge", "history"):
            if self._table_writer is not None:
                self._table_writer.abort()  # written for a new table that another run created first
                self._table_writer = None
            return self._merge([self._deduped], rows, properties) if rows else self._no_commit()
        if self._table_writer is None:
            self._table_writer = self._table_parts()
            for batch in keyed.iter_parquet([self._deduped] if rows else []):
                self._table_writer.write(pl.DataFrame(batch))
            self._table_writer.close()
        return self._commit_files(self._table_writer.adds, rows, properties)

    def _no_commit(self) -> WriteResult:
        version = self._table.version() if self._table is not None else None
        return WriteResult(self.table_uri, self.mode, False, version, 0)

    @property
    def schema(self) -> pl.Schema:
        """The table's columns once this sync is committed."""
        return self._commit_schema()

    def _commit_schema(self) -> pl.Schema:
        written = {k: v for k, v in self._schema.items() if k != keyed.SEQ}
        if self._before is None:
            merged = dict(written)
        elif self._full_overwrite:
            merged = {name: written.get(name, dtype) for name, dtype in self._before.items()}
            merged.update({n: d for n, d in written.items() if n not in merged})
        else:
            merged = dict(merge_schemas(self._before, written))
        if self.partition_key is not None:
            merged[PARTITION] = pl.String()
        return pl.Schema(merged)

    def _commit_files(self, adds: list[AddAction], rows: int, properties: CommitProperties) -> WriteResult:
        schema = self._commit_schema()
        arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema
        has_data = any(not is_system(c) for c in schema)
        if self._table is None:
            if not adds and (self.mode != "overwrite" or not has_data):
                return self._no_commit()
            create_table_with_add_actions(
                self.table_uri,
                DeltaSchema.from_arrow(arrow_schema),
                adds,
                mode="error",
                partition_by=self._partition_by or None,
                storage_options=self.storage_options or None,
                commit_properties=properties,
            )
            inserted = rows if self.mode in ("merge", "history") else None
            return self._result(rows, len(adds), inserted=inserted)
        if self.mode == "append":
            if not adds:
                return self._no_commit()
            assert self._before is not None
            if added_columns(self._before, schema):
                self._append_evolving(adds, arrow_schema, properties)
            else:
                self._table.create_write_transaction(
                    [*adds],
                    mode="append",
                    schema=self._table.schema(),
                    partition_by=self._partition_by or None,
                    commit_properties=properties,
                )
            return self._result(rows, len(adds))
        filters = [(PARTITION, "=", self.partition_key)] if self.partition_key is not None else None
        self._table.create_write_transaction(
            [*adds],
            mode="overwrite",
            schema=arrow_schema,
            partition_by=self._partition_by or None,
            partition_filters=filters,
            commit_properties=properties,
        )
        return self._result(rows, len(adds))

    def _append_evolving(self, adds: list[AddAction], arrow_schema: pa.Schema, properties: CommitProperties) -> None:
        file_schema = pa.schema([f for f in arrow_schema if f.name != PARTITION])
        dataset = ds.dataset(
            [self._store.path(a.path) for a in adds], format="parquet", filesystem=self._store.fs, schema=file_schema
        )
        columns: dict[str, Any] = {name: ds.field(name) for name in file_schema.names}
        if self.partition_key is not None:
            columns[PARTITION] = pc.scalar(self.partition_key)
        scanner = dataset.scanner(columns=columns, batch_size=keyed.READ_BATCH_ROWS, batch_readahead=1, fragment_readahead=1)
        write_deltalake(
            self._table if self._table is not None else self.table_uri,
            scanner.to_reader(),
            mode="append",
            schema_mode="merge",
            partition_by=self._partition_by or None,
            storage_options=self.storage_options or None,
            commit_properties=properties,
        )
        self._parts.abort()  # the rows were rewritten by write_deltalake; the staged parts are garbage now

    def _merge(self, deduped: list[str], rows: int, properties: CommitProperties) -> WriteResult:
        assert self._table is not None and self._tmp is not None and self._before is not None
        schema = self._commit_schema()
        if self.merge_engine == "rewrite" and not added_columns(self._before, schema) and rewrite_supported(self._table):
            return self._rewrite(rows, schema, properties)
        if self.mode == "merge":
            metrics = keyed.upsert(self._table, deduped, self.primary_key, properties)
        else:
            source = f"{self._tmp}/history_source.parquet"
            keyed.history_source(self._table, deduped, self.primary_key, source, table_name=self.name)
            columns = [c for c in self._commit_schema()]
            metrics = keyed.history_merge(self._table, [source], self.primary_key, columns, properties)
        return self._result(
            rows,
            int(metrics.get("num_target_files_added", 0)),
            inserted=int(metrics.get("num_target_rows_inserted", 0)),
            updated=int(metrics.get("num_target_rows_updated", 0)),
        )

    def _rewrite(self, rows: int, schema: pl.Schema, properties: CommitProperties) -> WriteResult:
        assert self._table is not None
        rewrite = Rewrite(
            self._table,
            self._store,
            self._deduped,
            key=self.primary_key,
            schema=schema,
            history=self.mode == "history",
            table_name=self.name,
            on_open=self._lease.add_file,
            rows_per_file=self.rows_per_file,
        )
        self._rewrites.append(rewrite)
        outcome = rewrite.run()
        try:
            rewrite.commit(outcome, properties)
        except CommitFailedError:
            rewrite.abort()  # another run committed first: this attempt's files are garbage
            raise
        return self._result(rows, len(outcome.adds), inserted=outcome.inserted, updated=outcome.updated)

    def _result(self, rows: int, files: int, *, inserted: int | None = None, updated: int | None = None) -> WriteResult:
        table = DeltaTable(self.table_uri, storage_options=self.storage_options or None)
        version = state.find_commit(self.table_uri, self.storage_options, self._commit_id) if self._commit_id else None
        added: list[str] = []
        if self._before is not None:
            after = {k: v for k, v in table_schema(table).items() if k != PARTITION}
            added = added_columns(self._before, after)
        return WriteResult(
            self.table_uri,
            self.mode,
            True,
            table.version() if version is None else version,
            rows,
            rows_inserted=inserted,
            rows_updated=updated,
            files_added=files,
            added_columns=added,
        )

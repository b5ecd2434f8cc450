"""The engine entry point: a stream of pages in, one Delta commit out.

``sync_table`` ties typing (``types``), transformations (``transform``) and the writer (``delta``)
together for one table and returns the writer's ``WriteResult`` with what came in added. It
knows nothing about HTTP or Dagster: pages are any iterable of ``list[dict]``, so a paginator, a
file or a test generator all work, and an exception raised by the iterable aborts the sync with the
table untouched.

The write mode: history_mode → ``history``; a partition key → ``overwrite`` of
that partition (deduplicated by ``primary_key`` when there is one); ``append_only`` → ``append``;
a ``primary_key`` → ``merge``; otherwise ``overwrite`` of the whole table.
"""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from datetime import date, datetime, time as dtime
from typing import Any, Callable, Iterable, Iterator

import polars as pl
from polars.datatypes import DataTypeClass
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ..errors import LakeError, SchemaError
from . import state
from .arrow_rows import RecordPlan, RowGroups
from .delta import DeltaWriter, WriteMode, WriteResult
from .spec import IS_CURRENT, PARTITION, is_system
from .transform import Transformer
from .types import Typer

PREVIEW_ROWS = 10
READ_BATCH_ROWS = 64 * 1024


def table_uri(root: str, pipeline_key: str, table_key: str, location: str | None = None) -> str:
    """``<delta connection path>/<pipeline key>/<table key>``, or the table's own ``location``: a path
    under the connection's (``.`` is the connection's path itself) or an absolute URI."""
    base = root.rstrip("/") or root
    if location is None:
        return f"{base}/{pipeline_key}/{table_key}"
    if "://" in location or location.startswith("/"):
        return location.rstrip("/") or location
    rel = location.strip("/")
    return base if rel in ("", ".") else f"{base}/{rel}"


def write_mode(table: Any, *, history_mode: bool, partition_key: str | None) -> WriteMode:
    if history_mode:
        return "history"
    if partition_key is not None:
        return "overwrite"
    if table.append_only:
        return "append"
    if table.primary_key:
        return "merge"
    return "overwrite"


def sync_table(
    pages: Iterable[list[dict[str, Any]]],
    *,
    table: Any,
    transformations: list[Any],
    table_uri: str,
    storage_options: dict[str, str] | None,
    run_id: str,
    partition_key: str | None = None,
    cursor_before: Any = None,
    loaded_at: datetime | None = None,
    settle_cursor: Callable[[Any], Any] | None = None,
    record_plan: RecordPlan | None = None,
) -> WriteResult:
    """Type, transform and write ``pages`` to the Delta table at ``table_uri`` in one commit.

    ``settle_cursor`` maps the cursor computed from the rows to the one committed (incremental
    windows bound it). With ``record_plan``, pages may also be Arrow-parsed records
    (``http.arrow_body.ArrowRecords``), typed a row group at a time (``arrow_rows``)."""
    started = time.perf_counter()
    typer = Typer.for_table(table, run_id=run_id, loaded_at=loaded_at)
    transformer = Transformer(table, transformations)
    mode = write_mode(table, history_mode=transformer.history_mode, partition_key=partition_key)
    key = [transformer.output_name(k) or k for k in (table.primary_key or [])]
    cursor = _Cursor(table.name, table.incremental.cursor_field) if table.incremental else None
    preview: list[dict[str, Any]] = []
    batches = 0
    writer = DeltaWriter(
        table_uri,
        mode=mode,
        run_id=run_id,
        storage_options=storage_options,
        primary_key=key or None,
        partition_key=partition_key,
        table_name=table.name,
    )
    frames = RowGroups(typer, record_plan).frames(pages) if record_plan is not None else map(typer.type_page, pages)
    with writer:
        for typed in frames:
            if cursor is not None:
                cursor.update(typed)
            frame = transformer.apply(typed)
            if len(preview) < PREVIEW_ROWS and frame.height:
                preview.extend(_plain(row) for row in frame.head(PREVIEW_ROWS - len(preview)).to_dicts())
            writer.write(frame)
            batches += frame.height > 0
        if writer.rows == 0:
            writer.write(transformer.apply(typer.empty_frame()))  # so an empty overwrite knows its columns
        cursor_after = None
        if cursor is not None:
            cursor.finish(typer.rows)
            cursor_after = state.later_cursor(cursor_before, state.cursor_value(cursor.value))
            if settle_cursor is not None:
                cursor_after = settle_cursor(cursor_after)
        result = writer.commit(cursor_before=cursor_before, cursor_after=cursor_after)
    return replace(result, rows=typer.rows, pages=typer.pages, batches=batches, preview=preview,
                   elapsed_s=time.perf_counter() - started)


class _Cursor:
    """Running max of ``incremental.cursor_field`` over the typed (pre-transformation) frames."""

    def __init__(self, table: str, field_name: str):
        self.table = table
        self.field = field_name
        self.value: Any = None
        self.seen = False
        self.columns: list[str] = []

    def update(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        self.columns = [c for c in frame.columns if not is_system(c)]
        expr = _path_expr(frame.schema, self.field)
        if expr is None:
            return
        self.seen = True
        top = frame.select(expr.max()).item()
        if top is not None and (self.value is None or top > self.value):
            self.value = top

    def finish(self, rows: int) -> None:
        if rows and not self.seen:
            raise SchemaError(
                f"table {self.table!r}: incremental.cursor_field {self.field!r} is not a column of the synced rows; "
                f"columns are {', '.join(self.columns) or '(none)'}"
            )


def _path_expr(schema: pl.Schema, path: str) -> pl.Expr | None:
    if path in schema:
        return pl.col(path)
    head, *rest = path.split(".")
    if head not in schema or not rest:
        return None
    dtype: pl.DataType | DataTypeClass = schema[head]
    expr = pl.col(head)
    for part in rest:
        if not isinstance(dtype, pl.Struct):
            return None
        fields = {f.name: f.dtype for f in dtype.fields}
        if part not in fields:
            return None
        expr, dtype = expr.struct.field(part), fields[part]
    return expr


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return state.cursor_value(value)
    if isinstance(value, (date, dtime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def _dataset(table_uri: str, storage_options: dict[str, str] | None) -> ds.Dataset | None:
    table = state.open_table(table_uri, storage_options)
    return None if table is None else table.to_pyarrow_dataset()


def iter_table_batches(
    table_uri: str,
    storage_options: dict[str, str] | None = None,
    columns: list[str] | None = None,
    *,
    current_only: bool = True,
    batch_size: int = READ_BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Stream a table's rows as record batches (reverse ETL, parent tables).

    ``current_only`` drops the closed versions of a history-mode table. A missing table yields
    nothing.
    """
    dataset = _dataset(table_uri, storage_options)
    if dataset is None:
        return
    names = dataset.schema.names
    missing = [c for c in columns or [] if c not in names]
    if missing:
        data = [n for n in names if not is_system(n) and n != PARTITION]
        raise LakeError(f"the Delta table at {table_uri} has no column {missing[0]!r}; columns are {', '.join(data)}")
    if not (current_only and IS_CURRENT in names):
        yield from dataset.to_batches(columns=columns, batch_size=batch_size)
        return
    # Filter after reading: delta-rs writes no min/max statistics for booleans, and a dataset
    # filter on ``_restsync_is_current`` then prunes every file (it returned no rows at all).
    wanted = list(columns) + [IS_CURRENT] if columns is not None else None
    for batch in dataset.to_batches(columns=wanted, batch_size=batch_size):
        kept = batch.filter(pc.equal(batch.column(IS_CURRENT), True))
        if columns is not None and IS_CURRENT not in columns:
            kept = kept.select(list(columns))
        if kept.num_rows:
            yield kept


def read_table_keys(table_uri: str, columns: list[str], storage_options: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """The rows of a parent table reduced to ``columns``, one dict at a time (child tables)."""
    for batch in iter_table_batches(table_uri, storage_options, columns):
        yield from batch.to_pylist()

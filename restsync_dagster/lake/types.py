"""Typing pages of JSON records into polars DataFrames.

``Typer`` turns each page (a ``list[dict]`` as parsed by orjson) into a DataFrame with a stable
schema: the declared columns in declared order, or, without a schema, the columns inferred from the
first page followed by any that appear later (schema evolution). Every frame also carries
``_restsync_loaded_at`` (one UTC timestamp per sync) and ``_restsync_run_id``.

Columns are built one at a time from their Python values with strict polars constructors and cast
with vectorized expressions (``casts``); Python only walks values for dotted paths, struct fields,
``json`` columns and pages whose values mix JSON types. A value that does not fit raises
``SchemaError`` naming the table, column, row within the sync, page and value.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
import polars as pl

from ..errors import SchemaError
from .casts import RAW_CANDIDATES, UTC_US, Unfit, build_raw, cast_scalar
from .inference import infer_col, infer_fields, new_struct_fields
from .spec import LOADED_AT, RUN_ID, Col, compile_schema, is_system

MAX_VALUE_CHARS = 80


def now_utc() -> datetime:
    """The sync's load time, truncated to microseconds like the column that stores it."""
    return datetime.now(timezone.utc)


def show_value(value: Any) -> str:
    """A value as quoted in error messages, truncated so one huge record cannot flood a log."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def struct_series(fields: list[pl.Series], present: pl.Series) -> pl.Series:
    """A struct column of ``fields``, null where ``present`` is false."""
    if present.all():
        return pl.select(pl.struct(fields)).to_series()
    return pl.select(pl.when(present).then(pl.struct(fields))).to_series()


def first_missing(col: Col, out: pl.Series, present: pl.Series | None) -> int | None:
    """The first row where a column that is not nullable is null (within present objects), or None."""
    if col.nullable or not out.null_count():
        return None
    missing = out.is_null() if present is None else out.is_null() & present
    return int(missing.arg_true()[0]) if missing.any() else None


class Typer:
    """Types the pages of one sync. Not thread-safe; one per sync."""

    def __init__(self, *, table_name: str, schema: list[Any] | None, run_id: str, loaded_at: datetime | None = None):
        self.table_name = table_name
        self.declared = schema is not None
        self.cols: list[Col] = list(compile_schema(schema)) if schema is not None else []
        self.run_id = run_id
        self.loaded_at = loaded_at or now_utc()
        self.rows = 0
        self.pages = 0
        self.added_columns: list[str] = []
        """Columns (dotted for struct fields) that appeared after the first page of this sync."""
        self._known_keys: set[str] = {c.path[0] for c in self.cols}
        self._raw_choice: dict[str, int] = {}
        self._system: tuple[pl.Series, pl.Series] | None = None

    @classmethod
    def for_table(cls, table: Any, *, run_id: str, loaded_at: datetime | None = None) -> "Typer":
        """From a ``config.pipeline.Table``."""
        return cls(table_name=table.name, schema=table.schema_, run_id=run_id, loaded_at=loaded_at)

    @property
    def schema(self) -> pl.Schema:
        """The schema of the frames produced so far (system columns included)."""
        out = {c.name: c.dtype for c in self.cols if c.ready}
        out[LOADED_AT] = UTC_US
        out[RUN_ID] = pl.String()
        return pl.Schema(out)

    @property
    def raw_choices(self) -> dict[str, int]:
        """The raw JSON dtype each column (dotted for struct fields) was last built from, by index into
        ``casts.RAW_CANDIDATES`` (``-1``: mixed text)."""
        return dict(self._raw_choice)

    def empty_frame(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def type_page(self, records: list[Any]) -> pl.DataFrame:
        """One page → one DataFrame (possibly with zero rows)."""
        if not isinstance(records, list):
            raise SchemaError(f"table {self.table_name!r}: page {self.pages + 1} is a {type(records).__name__}, expected a list of records")
        bad = next((i for i, r in enumerate(records) if r.__class__ is not dict), None)
        if bad is not None:
            raise SchemaError(
                f"table {self.table_name!r}: row {self.rows + bad + 1} of this sync (page {self.pages + 1}) "
                f"is {show_value(records[bad])}, expected a JSON object"
            )
        if records:
            if not self.declared:
                self._discover(records)
        series: list[pl.Series] = []
        for i, col in enumerate(self.cols):
            values = col.extract(records)
            col = self._grow(i, col, values)
            if not col.ready:
                continue
            series.append(self._build(col, values, col.name).alias(col.name))
        df = pl.DataFrame([*series, *self.system_columns(len(records))])
        self.rows += len(records)
        self.pages += 1
        return df

    def system_columns(self, n: int) -> list[pl.Series]:
        """``_restsync_loaded_at`` and ``_restsync_run_id`` for ``n`` rows, built once per sync and sliced."""
        if self._system is None or len(self._system[0]) < n:
            size = max(n, 1024, 2 * len(self._system[0]) if self._system is not None else 0)
            self._system = (
                pl.Series(LOADED_AT, [self.loaded_at], dtype=UTC_US).extend_constant(self.loaded_at, size - 1),
                pl.Series(RUN_ID, [self.run_id], dtype=pl.String).extend_constant(self.run_id, size - 1),
            )
        loaded, run = self._system
        return [loaded.slice(0, n), run.slice(0, n)]

    def _discover(self, records: list[dict]) -> None:
        new = set().union(*records) - self._known_keys
        if not new:
            return
        ordered: dict[str, None] = {}
        for r in records:
            for k in r:
                if k in new:
                    ordered[k] = None
            if len(ordered) == len(new):
                break
        for key in ordered:
            if is_system(key):
                self._known_keys.add(key)
                continue
            col = infer_col(key, [r.get(key) for r in records])
            if col is None:
                continue  # only nulls so far: no column until a value arrives
            self.cols.append(col)
            self._known_keys.add(key)
            if self.pages > 0:
                self.added_columns.append(key)

    def _grow(self, index: int, col: Col, values: list[Any]) -> Col:
        if col.type != "struct":
            return col
        if col.fields is None:
            if not any(v.__class__ is dict for v in values):
                return col
            col = col.with_fields(infer_fields(values))
            col = Col(col.name, col.type, col.path, col.fields, col.nullable, inferred=True)
            if self.pages > 0:
                self.added_columns.append(col.name)
        else:
            col, added = new_struct_fields(col, values)
            self.added_columns.extend(added if self.pages > 0 else [])
        self.cols[index] = col
        return col

    def _build(self, col: Col, values: list[Any], where: str, present: pl.Series | None = None) -> pl.Series:
        if col.type == "json":
            out = self._json(col, values, where)
        elif col.type == "struct":
            out = self._struct(col, values, where)
        else:
            out = self._scalar(col, values, where)
        row = first_missing(col, out, present)
        if row is not None:
            raise self._error(col, where, row, None, "the column is not nullable")
        return out

    def _scalar(self, col: Col, values: list[Any], where: str) -> pl.Series:
        candidates = RAW_CANDIDATES[col.type]
        try:
            raw, choice = build_raw(values, candidates, self._raw_choice.get(where, 0))
        except Unfit as unfit:
            raise self._error(col, where, unfit.index, values[unfit.index], "objects and lists need type json or struct") from None
        if choice >= 0:
            self._raw_choice[where] = choice
        typed = cast_scalar(raw, col.type)
        if typed.null_count() != raw.null_count():
            row = int((raw.is_not_null() & typed.is_null()).arg_true()[0])
            raise self._error(col, where, row, values[row], None)
        return typed

    def _json(self, col: Col, values: list[Any], where: str) -> pl.Series:
        dumps = orjson.dumps
        try:
            text = [None if v is None else dumps(v).decode() for v in values]
        except (TypeError, orjson.JSONEncodeError):
            for row, v in enumerate(values):
                try:
                    dumps(v)
                except (TypeError, orjson.JSONEncodeError):
                    raise self._error(col, where, row, v, "not JSON-serializable") from None
            raise
        return pl.Series(values=text, dtype=pl.String)

    def _struct(self, col: Col, values: list[Any], where: str) -> pl.Series:
        assert col.fields is not None
        if not all(v is None or v.__class__ is dict for v in values):
            row = next(i for i, v in enumerate(values) if v is not None and v.__class__ is not dict)
            raise self._error(col, where, row, values[row], "expected an object")
        present = pl.Series(values=[v is not None for v in values], dtype=pl.Boolean)
        subs = [self._build(f, f.extract(values), f"{where}.{f.name}", present).alias(f.name) for f in col.fields]
        return struct_series(subs, present)

    def _error(self, col: Col, where: str, row: int, value: Any, reason: str | None) -> SchemaError:
        what = "null" if value is None and reason else show_value(value)
        message = (
            f"table {self.table_name!r}: column {where!r} ({col.type}) cannot take {what} "
            f"in row {self.rows + row + 1} of this sync (page {self.pages + 1})"
        )
        if reason:
            message += f": {reason}"
        if col.inferred:
            message += (
                f"; the type {col.type} was inferred from earlier values — declare the column in the table's "
                "'schema' with the type it should have"
            )
        return SchemaError(message)

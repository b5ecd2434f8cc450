"""Typing records that Arrow's JSON reader parsed, a row group at a time.

The fetching side parses a page body with ``pyarrow.json`` against the record type of the table's
current columns (:class:`RecordShape`, published through a :class:`RecordPlan`), off the GIL, and
hands over the records as an Arrow struct array; :class:`RowGroups` types many such pages at once
with the same casts as :class:`~.types.Typer`. Arrow's reader is strict where the Python path is
lenient (a string among numbers, a float in an integer column, a repeated key all fail the parse),
so a page it accepts holds exactly the JSON types the Python path would have seen.

Whenever the two paths could differ, the page goes through ``Typer.type_page`` on its orjson-parsed
records instead, which also produces the errors: a page the reader rejects, a key the table does not
know yet (an inferred table grows a column, an inferred struct a field), a key spelled like a dotted
path, a value that does not cast. A table with a ``json`` column, or a struct whose fields are not
known yet, or a list-index path (``items.0.id``), always takes the Python path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import polars as pl
import pyarrow as pa

from .casts import RAW_CANDIDATES, cast_scalar
from .spec import Col, is_system
from .types import Typer, first_missing, struct_series

TYPE_ROWS = 16 * 1024
"""Records typed at once: enough to make per-call costs vanish (16 pages of 1,000 take ~0.1 ms a
page), small enough that the pages held for it stay a few MB (the writer still groups 64k rows)."""

_ARROW_RAW = {pl.String(): pa.string(), pl.Int64(): pa.int64(), pl.Float64(): pa.float64(), pl.Boolean(): pa.bool_()}


@dataclass(frozen=True)
class RecordShape:
    """The Arrow type pages are parsed into, and which unexpected keys send a page to Python."""

    struct: pa.StructType
    open_paths: frozenset[tuple[str, ...]]
    """Objects (``()`` is the record) where any unexpected key means a new column or field."""
    literals: frozenset[tuple[tuple[str, ...], str]]
    """``(object path, "a.b")``: a key spelled like a column's dotted path, which would win over it."""

    def project(self, records: pa.StructArray) -> pa.StructArray | None:
        """``records`` reduced to the shape's fields, or None when Python must type them."""
        return self._project(records, self.struct, ())

    def _project(self, array: pa.StructArray, want: pa.StructType, path: tuple[str, ...]) -> pa.StructArray | None:
        have = {array.type.field(i).name: i for i in range(array.type.num_fields)}
        wanted = {want.field(i).name for i in range(want.num_fields)}
        for name, i in have.items():
            if (path, name) in self.literals:
                return None
            if name in wanted or path not in self.open_paths:
                continue
            if path or not (is_system(name) or pa.types.is_null(array.type.field(i).type)):
                return None  # top level: a key with only nulls or a system key makes no column
        children = array.flatten()
        out = []
        for i in range(want.num_fields):
            field = want.field(i)
            child = children[have[field.name]]
            if pa.types.is_struct(field.type):
                child = self._project(child, field.type, (*path, field.name))
                if child is None:
                    return None
            out.append(child)
        mask = array.is_null() if array.null_count else None
        return pa.StructArray.from_arrays(out, fields=[want.field(i) for i in range(want.num_fields)], mask=mask)


class RecordPlan:
    """The shape the fetching side parses pages into; ``None`` means orjson and the Python path.

    One per sync: the typer replaces ``current`` between pages, the fetching thread reads it.
    """

    def __init__(self) -> None:
        self.current: RecordShape | None = None


def shape_for(typer: Typer) -> RecordShape | None:
    """The Arrow record shape of the typer's columns so far, or None when it has none."""
    if not typer.cols:
        return None
    tree: dict[str, Any] = {}
    open_paths: set[tuple[str, ...]] = set() if typer.declared else {()}
    literals: set[tuple[tuple[str, ...], str]] = set()
    raw_choices = typer.raw_choices
    if not all(_insert(tree, (), col, col.name, raw_choices, open_paths, literals) for col in typer.cols):
        return None
    return RecordShape(_struct(tree), frozenset(open_paths), frozenset(literals))


def _insert(tree: dict[str, Any], at: tuple[str, ...], col: Col, where: str, raw_choices: dict[str, int],
            open_paths: set, literals: set) -> bool:
    """Add ``col`` to ``tree``; False when it cannot be read from an Arrow record."""
    if col.type == "json" or not col.ready or any(part.lstrip("-").isdigit() for part in col.path):
        return False  # list-index paths walk lists, which Arrow reads as lists, not objects
    if len(col.path) > 1:
        literals.add((at, col.dotted))
    node = tree
    for part in col.path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return False
    leaf, full = col.path[-1], (*at, *col.path)
    if col.type == "struct":
        sub = node.setdefault(leaf, {})
        if not isinstance(sub, dict):
            return False
        if col.inferred:
            open_paths.add(full)
        return all(_insert(sub, full, field, f"{where}.{field.name}", raw_choices, open_paths, literals)
                   for field in col.fields or ())
    raw = _ARROW_RAW[RAW_CANDIDATES[col.type][max(raw_choices.get(where, 0), 0)]]
    return node.setdefault(leaf, raw) == raw


def _struct(tree: dict[str, Any]) -> pa.StructType:
    return pa.struct([pa.field(name, _struct(v) if isinstance(v, dict) else v) for name, v in tree.items()])


def _child(array: pa.StructArray, path: tuple[str, ...]) -> pa.Array:
    """The values at ``path``, null wherever an enclosing object is null."""
    for part in path:
        array = array.flatten()[array.type.get_field_index(part)]
    return array


def _series(col: Col, array: pa.Array, present: pl.Series | None) -> pl.Series | None:
    if col.type == "struct":
        assert col.fields is not None
        here = pl.Series(values=array.is_valid())
        subs = []
        for field in col.fields:
            sub = _series(field, _child(array, field.path), here)
            if sub is None:
                return None
            subs.append(sub.alias(field.name))
        out = struct_series(subs, here)
    else:
        raw = pl.Series(values=array)
        out = cast_scalar(raw, col.type)
        if out.null_count() != raw.null_count():
            return None
    return None if first_missing(col, out, present) is not None else out


def type_rows(typer: Typer, rows: list[pa.StructArray]) -> pl.DataFrame | None:
    """The frame ``Typer.type_page`` would build for these records, or None when a value does not fit."""
    records = pa.concat_arrays(rows) if len(rows) > 1 else rows[0]
    series = []
    for col in typer.cols:
        out = _series(col, _child(records, col.path), None)
        if out is None:
            return None
        series.append(out.alias(col.name))
    return pl.DataFrame([*series, *typer.system_columns(len(records))])


class RowGroups:
    """Types a sync's pages: Arrow-parsed ones a row group at a time, the others page by page."""

    def __init__(self, typer: Typer, plan: RecordPlan, *, rows_per_group: int = TYPE_ROWS):
        self.typer = typer
        self.plan = plan
        self.rows_per_group = rows_per_group
        self._key: Any = None
        self._refresh()

    def _refresh(self) -> None:
        key = (tuple(self.typer.cols), tuple(sorted(self.typer.raw_choices.items())))
        if key != self._key:
            self._key = key
            shape = shape_for(self.typer)
            if shape != self.plan.current:  # pages already parsed with an equal shape stay usable
                self.plan.current = shape

    def frames(self, pages: Iterable[Any]) -> Iterator[pl.DataFrame]:
        """One frame per Python-typed page or per row group of Arrow-parsed pages, in page order."""
        batch: list[Any] = []
        rows = 0
        for page in pages:
            if isinstance(page, list) or page.shape is not self.plan.current:
                yield from self._flush(batch)
                batch, rows = [], 0
                yield self._python(page if isinstance(page, list) else page.records())
                continue
            batch.append(page)
            rows += len(page)
            if rows >= self.rows_per_group:
                yield from self._flush(batch)
                batch, rows = [], 0
        yield from self._flush(batch)

    def _python(self, records: list[Any]) -> pl.DataFrame:
        frame = self.typer.type_page(records)
        self._refresh()
        return frame

    def _flush(self, batch: list[Any]) -> Iterator[pl.DataFrame]:
        if not batch:
            return
        frame = type_rows(self.typer, [page.rows for page in batch])
        if frame is None:
            for page in batch:
                yield self._python(page.records())
            return
        self.typer.rows += frame.height
        self.typer.pages += len(batch)
        yield frame

"""Which data files of a Delta table may hold some of a sync's keys, from the log's file statistics.

Each add action in the Delta log carries the min and max of the file's columns. A file whose range
of a key column contains none of the synced values of that column holds none of the synced keys, so
a keyed write leaves it untouched. Only integer, date and string columns prune: timestamp
statistics are rounded to milliseconds and long strings may be truncated, so their bounds are not
safe. A file without statistics for a key column is always a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

PRUNABLE = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64, pl.Date, pl.String)
SAFE_STRING_CHARS = 31
"""String bounds at least this long may be truncated prefixes; they do not prune."""


@dataclass(frozen=True)
class DataFile:
    path: str
    size: int
    partition_values: dict[str, str | None]
    bounds: dict[str, tuple[Any, Any]]
    """Per key column, the file's (min, max); a column missing here has no usable statistics."""


def data_files(table: DeltaTable, key: list[str], dtypes: dict[str, pl.DataType]) -> list[DataFile]:
    """The table's live files with their key column bounds."""
    actions = pa.table(table.get_add_actions(flatten=True))
    names = set(actions.column_names)
    columns: dict[str, list[Any]] = {name: actions.column(name).to_pylist() for name in ("path", "size_bytes")}
    partitions = [c for c in names if c.startswith("partition.")]
    usable = [k for k in key if prunable(dtypes[k]) and f"min.{k}" in names and f"max.{k}" in names]
    lows = {k: _bounds(actions, f"min.{k}", dtypes[k]) for k in usable}
    highs = {k: _bounds(actions, f"max.{k}", dtypes[k]) for k in usable}
    files = []
    for i, path in enumerate(columns["path"]):
        bounds = {}
        for k in usable:
            lo, hi = lows[k][i], highs[k][i]
            if lo is None or hi is None or (isinstance(hi, str) and len(hi) >= SAFE_STRING_CHARS):
                continue
            bounds[k] = (lo, hi)
        values = {c.removeprefix("partition."): actions.column(c)[i].as_py() for c in partitions}
        files.append(DataFile(path, int(columns["size_bytes"][i] or 0), values, bounds))
    return files


def _bounds(actions: pa.Table, column: str, dtype: pl.DataType) -> list[Any]:
    values = pl.Series(actions.column(column).combine_chunks() if actions.num_rows else pa.array([]), strict=False)
    return values.cast(dtype, strict=False).to_list()


def prunable(dtype: pl.DataType) -> bool:
    return any(dtype == t for t in PRUNABLE)


class KeyRanges:
    """The sorted synced values of each key column, to test a file's bounds against."""

    def __init__(self, keys: pl.DataFrame, key: list[str]):
        self.values = {k: keys.get_column(k).sort() for k in key if prunable(keys.schema[k])}

    def may_hold(self, file: DataFile) -> bool:
        """False when some key column of ``file`` has bounds that contain no synced value."""
        for k, (lo, hi) in file.bounds.items():
            values = self.values.get(k)
            if values is not None and not self.span(k, lo, hi):
                return False
        return True

    def span(self, column: str, lo: Any, hi: Any) -> bool:
        values = self.values[column]
        start = values.search_sorted(lo, side="left")
        end = values.search_sorted(hi, side="right")
        return end > start


def candidates(files: list[DataFile], ranges: KeyRanges) -> list[DataFile]:
    """The files that may hold a synced key; the others are certain not to."""
    return [f for f in files if ranges.may_hold(f)]

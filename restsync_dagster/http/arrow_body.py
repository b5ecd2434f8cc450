"""JSON page bodies parsed by Arrow's JSON reader on the fetching thread, which releases the GIL.

Used when the syncing side publishes a record shape (``lake.arrow_rows.RecordPlan``): the body is
read against that shape, the records under ``response.root_key`` become an Arrow struct array
(:class:`ArrowRecords`), and only the top-level values pagination and the success/error checks read
(``total_path``, ``cursor_field``, …) are turned into Python objects. ``parse_arrow`` answers None
whenever the result could differ from ``orjson.loads`` — a body the strict reader rejects, a missing
or null ``root_key`` (the orjson path tells the two apart), ``NaN`` or a byte order mark (which
orjson refuses), a record that is not an object, a key
with a dot on the way to the records, a value pagination reads that the reader typed as a date —
and the caller parses the body with orjson instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from .bodies import extract_records

_WRAP = "r"
_UNSAFE = (pa.types.is_temporal, pa.types.is_decimal, pa.types.is_binary, pa.types.is_large_binary)


class ArrowRecords:
    """The records of one page as Arrow arrays; ``len``, slicing and ``records()`` (the orjson
    records) are what pagination, the caps and the typing fallback need."""

    __slots__ = ("shape", "rows", "raw", "content", "root_key", "limit")

    def __init__(self, shape: Any, rows: pa.StructArray, raw: pa.StructArray, content: bytes,
                 root_key: str | None, limit: int | None = None):
        self.shape = shape
        self.rows = rows
        """The records reduced to the shape's fields."""
        self.raw = raw
        """The records as parsed, every key included."""
        self.content = content
        self.root_key = root_key
        self.limit = limit

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self.rows))
            if start != 0 or step != 1:
                raise IndexError("only leading slices of a page's records are supported")
            return ArrowRecords(self.shape, self.rows.slice(0, stop), self.raw.slice(0, stop), self.content,
                                self.root_key, stop)
        return self.raw[index].as_py()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArrowRecords):
            return self.raw.equals(other.raw)
        if isinstance(other, list):
            return self.raw.to_pylist() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def records(self) -> list[Any]:
        """The same records parsed by orjson, as the Python path types them."""
        records = extract_records(orjson.loads(self.content), self.root_key)
        return records[: self.limit] if self.limit is not None else records


@dataclass(frozen=True, slots=True)
class ArrowBody:
    """An Arrow-parsed page: its records, and the top-level values pagination and checks read."""

    records: ArrowRecords
    values: dict[str, Any]


def parse_arrow(content: bytes, shape: Any, root_key: str | None, needed: frozenset[str]) -> ArrowBody | None:
    """The page's records and the top-level values named in ``needed``, or None (see the module doc).

    Without ``root_key`` the body must be a list of records.
    """
    if content[:3] == b"\xef\xbb\xbf":
        return None  # a byte order mark, which orjson refuses
    path = tuple(root_key.split(".")) if root_key else (_WRAP,)
    body = content if root_key else b'{"' + _WRAP.encode() + b'":' + content + b"}"
    record_list: pa.DataType = pa.list_(shape.struct)
    for part in reversed(path[1:]):
        record_list = pa.struct([pa.field(part, record_list)])
    options = pj.ParseOptions(explicit_schema=pa.schema([pa.field(path[0], record_list)]),
                              unexpected_field_behavior="infer", newlines_in_values=b"\n" in body)
    try:
        table = pj.read_json(pa.py_buffer(body), read_options=pj.ReadOptions(
            use_threads=False, block_size=max(len(body) + 64, 1 << 20)), parse_options=options)
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != 1 or any("." in name for name in table.column_names if len(path) > 1):
        return None
    if any(_non_finite(column.combine_chunks()) for column in table.columns):
        return None  # NaN or Infinity, which are not JSON and which orjson refuses
    found: pa.Array = table.column(path[0]).combine_chunks()
    for part in path[1:]:
        if any("." in found.type.field(i).name for i in range(found.type.num_fields)):
            return None
        found = found.flatten()[found.type.get_field_index(part)]
    if found.null_count:
        return None
    raw = found.flatten()
    if raw.null_count:
        return None
    rows = shape.project(raw)
    if rows is None:
        return None
    data: dict[str, Any] = {}
    for name in needed:
        if name not in table.column_names:
            continue
        value = table.column(name).combine_chunks()
        if name == path[0]:
            return None
        if _unsafe(value.type):
            return None
        data[name] = value[0].as_py()
    return ArrowBody(ArrowRecords(shape, rows, raw, content, root_key), data)


def _non_finite(array: pa.Array) -> bool:
    dtype = array.type
    if pa.types.is_floating(dtype):
        return array.null_count < len(array) and not pc.all(pc.is_finite(array)).as_py()
    if pa.types.is_struct(dtype):
        return any(_non_finite(child) for child in array.flatten())
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return _non_finite(array.flatten())
    return False


def _unsafe(dtype: pa.DataType) -> bool:
    """Types the reader infers from JSON text (timestamps) rather than JSON types."""
    if any(check(dtype) for check in _UNSAFE):
        return True
    if pa.types.is_struct(dtype):
        return any(_unsafe(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return _unsafe(dtype.value_type)
    return False


def needed_names(paths: list[str | None]) -> frozenset[str]:
    """The top-level keys a dotted path can start with (a key may itself contain dots)."""
    out: set[str] = set()
    for path in paths:
        if path:
            parts = path.split(".")
            out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(out)

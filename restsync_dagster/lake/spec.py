"""The runtime form of a table schema: one ``Col`` per column, declared or inferred.

Kept apart from the pydantic ``SchemaField`` so typing never depends on how the YAML spelled it,
and so inferred columns (which have no document behind them) look the same as declared ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

import polars as pl
from polars.datatypes import DataTypeClass

from ..errors import SchemaError
from .casts import DTYPES

SYSTEM_PREFIX = "_restsync_"
LOADED_AT = "_restsync_loaded_at"
RUN_ID = "_restsync_run_id"
VALID_FROM = "_restsync_valid_from"
VALID_TO = "_restsync_valid_to"
IS_CURRENT = "_restsync_is_current"
PARTITION = "_restsync_partition"


def is_system(name: str) -> bool:
    """Columns restsync owns; transformations never touch them."""
    return name.startswith(SYSTEM_PREFIX)


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    path: tuple[str, ...]
    """Where the value is in the record (or in the parent object, for a struct field)."""
    fields: tuple["Col", ...] | None = None
    """Fields of a struct; ``None`` until inferred from the first values seen."""
    nullable: bool = True
    inferred: bool = False

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def ready(self) -> bool:
        """Whether the dtype is known (a struct without fields waits for its first values)."""
        return self.type != "struct" or self.fields is not None

    @property
    def dtype(self) -> pl.DataType:
        if self.type == "struct":
            if not self.fields:
                raise SchemaError(f"column {self.name!r}: a struct needs at least one field")
            return pl.Struct([pl.Field(f.name, f.dtype) for f in self.fields])
        return DTYPES[self.type]

    def with_fields(self, fields: tuple["Col", ...]) -> "Col":
        return replace(self, fields=fields)

    def extract(self, records: list[Any]) -> list[Any]:
        """The values of this column in ``records`` (objects; non-objects give null)."""
        if len(self.path) == 1:
            key = self.path[0]
            return [r.get(key) if r.__class__ is dict else None for r in records]
        dotted, path = self.dotted, self.path
        return [_walk(r, dotted, path) for r in records]


def _walk(record: Any, dotted: str, path: tuple[str, ...]) -> Any:
    # a key spelled exactly like the dotted path wins over walking nested objects.
    if record.__class__ is not dict:
        return None
    if dotted in record:
        return record[dotted]
    value: Any = record
    for part in path:
        if value.__class__ is dict:
            value = value.get(part)
        elif value.__class__ is list and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return None
    return value


def compile_schema(fields: Iterable[Any]) -> tuple[Col, ...]:
    """``SchemaField`` models (``config.pipeline``) → ``Col`` specs."""
    return tuple(_compile(f) for f in fields)


def _compile(field: Any) -> Col:
    path = tuple((field.path or field.name).split("."))
    sub = None
    if field.type == "struct" and field.fields is not None:
        sub = tuple(_compile(f) for f in field.fields)
        if not sub:
            raise SchemaError(f"column {field.name!r}: a struct needs at least one field (or omit 'fields' to infer them)")
    return Col(name=field.name, type=field.type, path=path, fields=sub, nullable=field.nullable)


def type_string(dtype: pl.DataType | DataTypeClass) -> str:
    """A short, stable name for a column type, as shown in metadata."""
    if isinstance(dtype, pl.Struct):
        return "struct<" + ", ".join(f"{f.name}: {type_string(f.dtype)}" for f in dtype.fields) + ">"
    if isinstance(dtype, pl.Datetime):
        return f"timestamp[{dtype.time_unit}, {dtype.time_zone or 'naive'}]"
    names = {
        pl.String: "string", pl.Int32: "integer", pl.Int64: "long", pl.Float32: "float",
        pl.Float64: "double", pl.Boolean: "boolean", pl.Date: "date", pl.Binary: "binary",
    }
    for cls, name in names.items():
        if dtype == cls:
            return name
    return str(dtype)

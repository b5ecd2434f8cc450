"""Reconciling the frames of a sync with the schema of the Delta table they go to.

New columns and new struct fields are schema evolution: they are added to the table. A column the
table already has keeps the table's type: safe widenings are cast (``integer`` → ``long`` →
``double``, ``float`` → ``double``, any scalar → ``string``), anything else is a ``SchemaError``
that names the column and both types, because silently rewriting a column's type in a table other
jobs read is worse than failing the run.
"""

from __future__ import annotations

import polars as pl
from polars.datatypes import DataTypeClass
import pyarrow as pa

from ..errors import SchemaError
from .spec import type_string

_NUMERIC_RANK = {pl.Int32: 1, pl.Int64: 2, pl.Float32: 2, pl.Float64: 3}


def polars_schema(arrow_schema: pa.Schema) -> pl.Schema:
    return pl.DataFrame(arrow_schema.empty_table()).schema


def merge_schemas(base: pl.Schema | dict, extra: pl.Schema | dict) -> pl.Schema:
    """``base`` with the columns and struct fields of ``extra`` it lacks (``base`` types win)."""
    out = dict(base)
    for name, dtype in extra.items():
        have = out.get(name)
        if have is None or have == pl.Null:
            out[name] = dtype
        elif isinstance(have, pl.Struct) and isinstance(dtype, pl.Struct):
            fields = merge_schemas({f.name: f.dtype for f in have.fields}, {f.name: f.dtype for f in dtype.fields})
            out[name] = pl.Struct(fields)
    return pl.Schema(out)


def added_columns(before: pl.Schema | dict, after: pl.Schema | dict, prefix: str = "") -> list[str]:
    """Dotted names of the columns and struct fields in ``after`` but not in ``before``."""
    added = []
    for name, dtype in after.items():
        have = before.get(name)
        if have is None:
            added.append(prefix + name)
        elif isinstance(have, pl.Struct) and isinstance(dtype, pl.Struct):
            added += added_columns(
                {f.name: f.dtype for f in have.fields}, {f.name: f.dtype for f in dtype.fields}, f"{prefix}{name}."
            )
    return added


def conform(df: pl.DataFrame, target: pl.Schema | dict, *, table: str, fill_missing: bool = False) -> pl.DataFrame:
    """Cast the columns of ``df`` to the types ``target`` has for them (see the module doc).

    With ``fill_missing`` the columns of ``target`` that ``df`` lacks are added as nulls.
    """
    exprs = []
    for name, have in df.schema.items():
        want = target.get(name)
        if want is not None and want != have and want != pl.Null:
            exprs.append(cast_to(pl.col(name), have, want, table=table, column=name).alias(name))
    if exprs:
        df = df.with_columns(exprs)
    if fill_missing:
        missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in target.items() if name not in df.columns]
        if missing:
            df = df.with_columns(missing)
    return df


def cast_to(expr: pl.Expr, have: pl.DataType | DataTypeClass, want: pl.DataType | DataTypeClass, *, table: str, column: str) -> pl.Expr:
    if have == want or have == pl.Null:
        return expr.cast(want) if have == pl.Null else expr
    if isinstance(want, pl.Struct) and isinstance(have, pl.Struct):
        have_fields = {f.name: f.dtype for f in have.fields}
        fields = []
        for f in want.fields:
            if f.name in have_fields:
                sub = cast_to(expr.struct.field(f.name), have_fields[f.name], f.dtype, table=table, column=f"{column}.{f.name}")
                fields.append(sub.alias(f.name))
            else:
                fields.append(pl.lit(None, dtype=f.dtype).alias(f.name))
        wanted = {f.name for f in want.fields}
        fields += [expr.struct.field(name).alias(name) for name in have_fields if name not in wanted]
        return pl.when(expr.is_not_null()).then(pl.struct(fields))
    if _widens(have, want):
        return expr.cast(want)
    raise SchemaError(
        f"table {table!r}: column {column!r} is {type_string(want)} in the Delta table but this sync typed it "
        f"{type_string(have)}; declare the column as {type_string(want)} in the table's schema, or rename it"
    )


def _widens(have: pl.DataType | DataTypeClass, want: pl.DataType | DataTypeClass) -> bool:
    if want == pl.String:
        return not isinstance(have, (pl.Struct, pl.List, pl.Binary))
    if isinstance(want, pl.Datetime) and isinstance(have, pl.Datetime):
        return True
    rank_have = next((r for t, r in _NUMERIC_RANK.items() if have == t), None)
    rank_want = next((r for t, r in _NUMERIC_RANK.items() if want == t), None)
    if rank_have is None or rank_want is None:
        return False
    return rank_want > rank_have or (have == pl.Int32 and want == pl.Float32)

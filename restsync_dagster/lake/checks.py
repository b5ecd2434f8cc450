"""Asset checks computed on the written Delta table, without Dagster."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..config.pipeline import Table, parse_instant

PK = "primary_key_unique_not_null"
SCHEMA = "schema_matches_declared"
CURSOR = "cursor_not_backwards"

_FAMILY = {
    "string": (pl.String,),
    "json": (pl.String,),
    "integer": (pl.Int32,),
    "long": (pl.Int64,),
    "float": (pl.Float32,),
    "double": (pl.Float64,),
    "boolean": (pl.Boolean,),
    "timestamp": (pl.Datetime,),
    "date": (pl.Date,),
    "binary": (pl.Binary,),
    "struct": (pl.Struct,),
}


def run_checks(
    table_uri: str,
    storage_options: dict[str, str] | None,
    *,
    table: Table,
    expected_columns: dict[str, str] | None,
    primary_key: list[str] | None,
    cursor_before: Any,
    cursor_after: Any,
) -> tuple[int, dict[str, tuple[bool, str]]]:
    """Row count of the table and ``{check name: (passed, details)}``."""
    try:
        frame = pl.scan_delta(table_uri, storage_options=storage_options or None)
        schema = frame.collect_schema()
    except Exception:  # no table yet: nothing was ever written
        return 0, {}
    current = frame.filter(pl.col("_restsync_is_current")) if "_restsync_is_current" in schema else frame
    rows = frame.select(pl.len()).collect().item()
    checks: dict[str, tuple[bool, str]] = {}
    if primary_key:
        missing = [k for k in primary_key if k not in schema]
        if missing:
            checks[PK] = (False, f"key column(s) {', '.join(missing)} not in the table")
        else:
            stats = current.select(
                pl.len().alias("rows"),
                pl.struct(primary_key).n_unique().alias("unique"),
                pl.any_horizontal([pl.col(k).is_null() for k in primary_key]).sum().alias("nulls"),
            ).collect().row(0, named=True)
            dupes = stats["rows"] - stats["unique"]
            checks[PK] = (dupes == 0 and stats["nulls"] == 0, f"{dupes} duplicate key(s), {stats['nulls']} null key(s) in {stats['rows']} rows")
    if expected_columns is not None:
        problems = []
        for name, kind in expected_columns.items():
            if name not in schema:
                problems.append(f"{name} missing")
            elif not isinstance(schema[name], _FAMILY[kind]) and schema[name] not in _FAMILY[kind]:
                problems.append(f"{name} is {schema[name]}, declared {kind}")
        checks[SCHEMA] = (not problems, "; ".join(problems) or f"{len(expected_columns)} declared columns present with their types")
    if table.incremental is not None:
        backwards = _before(cursor_after, cursor_before)
        checks[CURSOR] = (not backwards, f"cursor {cursor_before!r} -> {cursor_after!r}")
    return rows, checks


def _before(after: Any, before: Any) -> bool:
    if after is None or before is None:
        return False
    try:
        return parse_instant(after) < parse_instant(before)
    except (TypeError, ValueError):
        try:
            return after < before
        except TypeError:
            return False

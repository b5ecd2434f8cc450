"""Vectorized casts from raw JSON values to the restsync column types.

A column is first built from its Python values with a strict polars constructor (``Int64`` for a
``long`` column, ``String`` for a ``timestamp`` column, …), which is as fast as the DataFrame
constructor and refuses anything that does not fit. Pages whose values do not all have the expected
JSON type (ids sent as strings, epochs mixed with ISO text) fall back to a text column, and every
target type is then parsed from text or numbers with polars expressions. Whatever the parse cannot
turn into a value comes back as null, which is how ``types`` finds the offending row: a value that
was not null before the cast and is null after it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

UTC_US = pl.Datetime("us", "UTC")

DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int32(),
    "long": pl.Int64(),
    "float": pl.Float32(),
    "double": pl.Float64(),
    "boolean": pl.Boolean(),
    "timestamp": UTC_US,
    "date": pl.Date(),
    "binary": pl.Binary(),
    "json": pl.String(),
}
"""polars dtype of each scalar column type (``struct`` is built from its fields)."""

RAW_CANDIDATES: dict[str, tuple[pl.DataType, ...]] = {
    "string": (pl.String(),),
    "integer": (pl.Int64(), pl.String()),
    "long": (pl.Int64(), pl.String()),
    "float": (pl.Float64(), pl.String()),
    "double": (pl.Float64(), pl.String()),
    "boolean": (pl.Boolean(), pl.String()),
    "timestamp": (pl.String(), pl.Int64(), pl.Float64()),
    "date": (pl.String(), pl.Int64()),
    "binary": (pl.String(),),
}
"""Strict raw dtypes tried in order (the one that worked last is tried first on the next page)."""

EPOCH_MS_THRESHOLD = 100_000_000_000
"""An epoch number at or above 1e11 is milliseconds (1e11 s is the year 5138, 1e11 ms is 1973)."""

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_BOOLS = {**{v: True for v in _TRUE}, **{v: False for v in _FALSE}}

_TS_FAST = "%Y-%m-%dT%H:%M:%S%.f%#z"
_TS_FORMATS_TZ = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")
_TS_FORMATS_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


class Unfit(Exception):
    """A value cannot be a scalar of the column (an object or a list); ``index`` is its position."""

    def __init__(self, index: int):
        self.index = index
        super().__init__(index)


def build_raw(values: list[Any], candidates: tuple[pl.DataType, ...], preferred: int) -> tuple[pl.Series, int]:
    """Build a raw Series with the first strict candidate that accepts every value.

    Returns the Series and the index of the candidate used (``-1`` for the mixed-text fallback).
    Raises ``Unfit`` when a value is an object or a list.
    """
    order = [preferred, *(i for i in range(len(candidates)) if i != preferred)] if preferred >= 0 else range(len(candidates))
    for i in order:
        try:
            return pl.Series(values=values, dtype=candidates[i], strict=True), i
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            continue
    return pl.Series(values=mixed_text(values), dtype=pl.String()), -1


def mixed_text(values: list[Any]) -> list[str | None]:
    """Text of scalar JSON values of mixed types; the slow path for pages that mix them."""
    out: list[str | None] = []
    append = out.append
    for i, v in enumerate(values):
        cls = v.__class__
        if v is None or cls is str:
            append(v)
        elif cls is bool:
            append("true" if v else "false")
        elif cls is int or cls is float:
            append(repr(v))
        else:
            raise Unfit(i)
    return out


def cast_scalar(raw: pl.Series, type_: str) -> pl.Series:
    """Cast a raw Series (strict JSON dtype or text) to ``type_``; unparseable values become null."""
    dtype = raw.dtype
    if type_ == "string":
        return raw if dtype == pl.String else raw.cast(pl.String)
    if type_ in ("integer", "long"):
        out = raw if dtype == pl.Int64 else _text_to_int(raw)
        return out.cast(pl.Int32, strict=False) if type_ == "integer" else out
    if type_ in ("float", "double"):
        out = raw.cast(pl.Float64, strict=False) if dtype != pl.String else raw.str.strip_chars().cast(pl.Float64, strict=False)
        return out.cast(pl.Float32) if type_ == "float" else out
    if type_ == "boolean":
        if dtype == pl.Boolean:
            return raw
        return raw.str.strip_chars().str.to_lowercase().replace_strict(_BOOLS, default=None, return_dtype=pl.Boolean)
    if type_ == "timestamp":
        return to_timestamp(raw)
    if type_ == "date":
        return to_date(raw)
    if type_ == "binary":
        return _base64(raw)
    raise ValueError(f"not a scalar column type: {type_!r}")


def _text_to_int(raw: pl.Series) -> pl.Series:
    text = raw.str.strip_chars()
    out = text.cast(pl.Int64, strict=False)
    if out.null_count() == raw.null_count():
        return out
    # "3.0" and "1e3" are integers written as floats; "3.5" is not.
    as_float = text.cast(pl.Float64, strict=False)
    integral = as_float.is_finite() & (as_float == as_float.floor()) & (as_float.abs() < 2.0**63)
    from_float = pl.select(pl.when(integral).then(as_float.cast(pl.Int64, strict=False))).to_series()
    return out.fill_null(from_float)


def to_timestamp(raw: pl.Series) -> pl.Series:
    """ISO 8601 text (with or without offset or ``Z``; naive means UTC) or epoch s/ms → UTC µs."""
    if raw.dtype in (pl.Int64, pl.Float64):
        return _epoch(raw)
    # Fast path: the common ``YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`` in one vectorized parse; only the
    # rows it leaves null go through the slower epoch and regex fallbacks.
    out: pl.Series | None
    try:
        out = raw.str.to_datetime(_TS_FAST, time_unit="us", strict=False, exact=True)
        out = out.dt.convert_time_zone("UTC") if out.dtype == UTC_US or getattr(out.dtype, "time_zone", None) else None
    except pl.exceptions.PolarsError:
        out = None
    if out is None:
        out = pl.Series(raw.name, [None] * len(raw), dtype=UTC_US)
        text = raw.str.strip_chars()
    else:
        missing = out.is_null() & raw.is_not_null()
        if not missing.any():
            return out
        text = pl.select(pl.when(missing).then(raw.str.strip_chars())).to_series()
    numeric = text.str.contains(r"^-?\d+(\.\d+)?$")
    if numeric.any():
        out = out.fill_null(_epoch(pl.select(pl.when(numeric).then(text.cast(pl.Float64, strict=False))).to_series()))
    iso = text.str.replace(r"^(\d{4}-\d{2}-\d{2})[ t]", "${1}T").str.replace(r"[zZ]$", "+00:00")
    for fmt in (*_TS_FORMATS_TZ, *_TS_FORMATS_NAIVE):
        missing = out.is_null() & text.is_not_null()
        if not missing.any():
            break
        kwargs: dict[str, Any] = {} if fmt in _TS_FORMATS_TZ else {"time_zone": "UTC"}
        parsed = iso.str.to_datetime(fmt, time_unit="us", strict=False, exact=True, **kwargs)
        out = out.fill_null(parsed.dt.convert_time_zone("UTC"))
    return out


def _epoch(numbers: pl.Series) -> pl.Series:
    seconds_or_ms = numbers.cast(pl.Float64)
    micros = pl.select(
        pl.when(seconds_or_ms.abs() >= EPOCH_MS_THRESHOLD)
        .then(seconds_or_ms * 1_000)
        .otherwise(seconds_or_ms * 1_000_000)
        .round(0)
    ).to_series()
    in_range = micros.abs() < 2.0**62
    micros = pl.select(pl.when(in_range).then(micros.cast(pl.Int64, strict=False))).to_series()
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def to_date(raw: pl.Series) -> pl.Series:
    """``YYYY-MM-DD``, or anything ``to_timestamp`` accepts (its UTC date)."""
    if raw.dtype == pl.String:
        out = raw.str.strip_chars().str.to_date("%Y-%m-%d", strict=False, exact=True)
        if out.null_count() == raw.null_count():
            return out
        return out.fill_null(to_timestamp(raw).dt.date())
    return to_timestamp(raw).dt.date()


def _base64(raw: pl.Series) -> pl.Series:
    # Accept the URL-safe alphabet and missing padding too.
    text = raw.str.strip_chars().str.replace_all("-", "+", literal=True).str.replace_all("_", "/", literal=True)
    pad = ((4 - text.str.len_bytes() % 4) % 4).fill_null(0)
    padded = text + pl.Series(["", "=", "==", "==="]).gather(pad)
    return padded.str.decode("base64", strict=False)

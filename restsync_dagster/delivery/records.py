"""From table rows to records to send: field mapping, JSON-friendly values, key and content hash.

Values become what a JSON API expects: timestamps ISO 8601 in UTC (``2024-05-01T12:00:00Z``, with
``.ffffff`` only when there are microseconds; a timestamp without a time zone is taken as UTC),
dates ``YYYY-MM-DD``, times ``HH:MM:SS[.ffffff]``, durations seconds (float), decimals floats,
NaN and ±inf ``null``, ``json`` columns (stored as JSON text) parsed back into objects.
Binary values stay bytes here: JSON, CSV and form bodies send them as base64, multipart bodies as a
file part.

The **key** of a record is the JSON list of its key column values (``[42]``, ``["eu", 7]``); a table
without key columns is tracked by content (its key is its hash), so each distinct row is sent once.
The **content hash** is a BLAKE2b-128 digest of the values of the columns a request uses (those of
the mapped record and those ``#{field}`` templates name), as JSON keyed by column name with sorted
keys: the same values always give the same hash, across runs and processes. It covers values, not
request settings: changing the URL, a field name or ``static_fields`` does not resend records that
were delivered, and a change in a column the request does not use does not either.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.types as pat

from ..config.destination import DestinationRequest
from ..errors import DeliveryError
from ..lake.spec import is_system
from .templates import json_default

Convert = Callable[[Any], Any]


@dataclass(slots=True)
class Record:
    key: str
    """JSON list of the key column values."""
    hash: str
    fields: dict[str, Any]
    """The body fields (after ``field_mapping``); empty with a ``custom_payload``."""
    row: dict[str, Any]
    """Values of the columns named by ``#{field}`` templates."""

    def content_json(self) -> str:
        """What the rejects table shows of the record."""
        return orjson.dumps(self.fields or self.row, default=json_default).decode()


def iso_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def jsonable(value: Any) -> Any:
    """Any value pyarrow hands out, as a JSON-friendly Python value (bytes kept)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return iso_timestamp(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # pyarrow gives map columns as lists of (key, value) tuples
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): jsonable(v) for k, v in value}
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value)


def type_name(arrow_type: pa.DataType) -> str:
    """The restsync column type an arrow type stands for."""
    if pat.is_boolean(arrow_type):
        return "boolean"
    if pat.is_integer(arrow_type):
        return "long" if arrow_type.bit_width > 32 or arrow_type in (pa.uint32(),) else "integer"
    if pat.is_floating(arrow_type):
        return "double" if arrow_type.bit_width == 64 else "float"
    if pat.is_timestamp(arrow_type):
        return "timestamp"
    if pat.is_date(arrow_type):
        return "date"
    if pat.is_binary(arrow_type) or pat.is_large_binary(arrow_type) or pat.is_fixed_size_binary(arrow_type):
        return "binary"
    if pat.is_string(arrow_type) or pat.is_large_string(arrow_type) or str(arrow_type) == "string_view":
        return "string"
    if pat.is_struct(arrow_type):
        return "struct"
    if pat.is_list(arrow_type) or pat.is_large_list(arrow_type) or pat.is_map(arrow_type):
        return "json"
    return str(arrow_type)


_COMPATIBLE = {
    "integer": {"integer", "long"},
    "long": {"integer", "long"},
    "float": {"float", "double"},
    "double": {"float", "double"},
    "json": {"string", "json", "struct"},
}
"""``field_type`` → column types it accepts (integers and floats of any width)."""


def _parse_json(column: str) -> Convert:
    def convert(value: Any) -> Any:
        if value is None or not isinstance(value, str):
            return jsonable(value)
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise DeliveryError(f"column {column!r} is of type json but holds text that is not JSON: {value[:80]!r}") from None

    return convert


def _converter(arrow_type: pa.DataType, restsync_type: str | None, column: str) -> Convert | None:
    """Per-value conversion of a column (``None``: values are already JSON-friendly)."""
    if restsync_type == "json" and type_name(arrow_type) == "string":
        return _parse_json(column)
    if pat.is_timestamp(arrow_type):
        return lambda v: None if v is None else iso_timestamp(v)
    if pat.is_string(arrow_type) or pat.is_large_string(arrow_type) or pat.is_integer(arrow_type) or pat.is_boolean(arrow_type):
        return None
    if pat.is_binary(arrow_type) or pat.is_large_binary(arrow_type):
        return None
    return jsonable


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one batch schema maps to records; rebuilt only when the schema changes."""

    body: tuple[tuple[str, str], ...]
    """(field name, column name) of the body fields."""
    refs: tuple[str, ...]
    keys: tuple[str, ...]
    hashed: tuple[str, ...]
    """Columns whose values the content hash covers: the body's and the templates'."""
    converters: dict[str, Convert | None]


class RecordMapper:
    """Turns record batches into :class:`Record` objects per a ``DestinationRequest``."""

    def __init__(
        self,
        request: DestinationRequest,
        *,
        key_columns: list[str],
        template_fields: tuple[str, ...] = (),
        column_types: Mapping[str, str] | None = None,
        table_name: str = "",
    ):
        self.request = request
        self.key_columns = tuple(key_columns)
        self.template_fields = tuple(template_fields)
        self.column_types = dict(column_types or {})
        self.table_name = table_name
        self.body_fields = request.custom_payload is None
        self._schema: pa.Schema | None = None
        self._plan: _Plan | None = None

    def _where(self) -> str:
        return f"table {self.table_name!r}: " if self.table_name else ""

    def plan(self, schema: pa.Schema) -> _Plan:
        if self._plan is not None and schema.equals(self._schema):
            return self._plan
        names = list(schema.names)
        types = {name: schema.field(name).type for name in names}
        wanted_types = dict(self.column_types)

        def need(column: str, what: str) -> None:
            if column not in types:
                data = [n for n in names if not is_system(n)]
                raise DeliveryError(f"{self._where()}{what} names column {column!r}, which the table does not have; "
                                    f"columns are {', '.join(data)}")

        body: list[tuple[str, str]] = []
        if self.body_fields:
            if self.request.field_mapping:
                for i, mapping in enumerate(self.request.field_mapping):
                    need(mapping.column_name, f"field_mapping[{i}]")
                    actual = type_name(types[mapping.column_name])
                    if mapping.field_type is not None:
                        accepted = _COMPATIBLE.get(mapping.field_type, {mapping.field_type})
                        if actual not in accepted:
                            raise DeliveryError(
                                f"{self._where()}field_mapping[{i}]: field_type {mapping.field_type!r} does not match "
                                f"column {mapping.column_name!r}, which is {actual}"
                            )
                        wanted_types[mapping.column_name] = mapping.field_type
                    body.append((mapping.field_name, mapping.column_name))
            else:
                body = [(n, n) for n in names if not is_system(n)]
        for field in self.template_fields:
            need(field, f"#{{{field}}}")
        for column in self.key_columns:
            need(column, "the delivery key")
        hashed = tuple(dict.fromkeys([c for _, c in body] + list(self.template_fields)))
        used = set(hashed) | set(self.key_columns)
        converters = {c: _converter(types[c], wanted_types.get(c), c) for c in used}
        self._schema, self._plan = schema, _Plan(tuple(body), self.template_fields, self.key_columns, hashed, converters)
        return self._plan

    def records(self, batch: pa.RecordBatch) -> Iterator[Record]:
        plan = self.plan(batch.schema)
        columns: dict[str, list[Any]] = {}
        for name, convert in plan.converters.items():
            values = batch.column(batch.schema.get_field_index(name)).to_pylist()
            columns[name] = values if convert is None else [convert(v) for v in values]
        dumps, sort = orjson.dumps, orjson.OPT_SORT_KEYS
        blake = hashlib.blake2b
        for i in range(batch.num_rows):
            fields = {f: columns[c][i] for f, c in plan.body}
            row = {c: columns[c][i] for c in plan.refs}
            used = {c: columns[c][i] for c in plan.hashed}
            digest = blake(dumps(used, default=json_default, option=sort), digest_size=16).hexdigest()
            if plan.keys:
                values = [columns[c][i] for c in plan.keys]
                if any(v is None for v in values):
                    raise DeliveryError(
                        f"{self._where()}the delivery key ({', '.join(plan.keys)}) is null in a row "
                        f"({dumps(fields or row, default=json_default).decode()[:200]}); every record needs a key to be tracked"
                    )
                key = dumps(values, default=json_default).decode()
            else:
                key = digest
            yield Record(key, digest, fields, row)


__all__ = ["Record", "RecordMapper", "iso_timestamp", "jsonable", "type_name"]

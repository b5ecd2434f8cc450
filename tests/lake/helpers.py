"""Helpers for the lake tests: table configs as the YAML would give them, and Delta reads."""

from __future__ import annotations

from typing import Any

from deltalake import DeltaTable
from pydantic import TypeAdapter

from restsync_dagster.config.pipeline import Table
from restsync_dagster.config.transformations import Transformation

_TRANSFORMATIONS = TypeAdapter(list[Transformation])


def make_table(**fields: Any) -> Table:
    return Table.model_validate({"name": "orders", **fields})


def make_transformations(*docs: dict[str, Any]) -> list[Any]:
    return _TRANSFORMATIONS.validate_python(list(docs))


def read_rows(uri: str, *, sort: str | list[str] | None = "id", drop_system: bool = False) -> list[dict[str, Any]]:
    rows = DeltaTable(uri).to_pyarrow_table().to_pylist()
    if drop_system:
        rows = [{k: v for k, v in r.items() if not k.startswith("_restsync_")} for r in rows]
    if sort:
        keys = [sort] if isinstance(sort, str) else sort
        rows.sort(key=lambda r: tuple((r[k] is None, r[k]) for k in keys))
    return rows


def version(uri: str) -> int:
    return DeltaTable(uri).version()

"""Partitions definitions for partitioned tables."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

import dagster as dg

from ..config.pipeline import Partitions, Table, parse_instant

_CLASSES = {
    "hourly": dg.HourlyPartitionsDefinition,
    "daily": dg.DailyPartitionsDefinition,
    "weekly": dg.WeeklyPartitionsDefinition,
    "monthly": dg.MonthlyPartitionsDefinition,
}


def _naive(value: str) -> datetime:
    instant = parse_instant(value)
    return instant.astimezone(timezone.utc).replace(tzinfo=None) if instant.tzinfo else instant


def partitions_def(spec: Partitions) -> dg.TimeWindowPartitionsDefinition:
    """With no ``end`` the current, still-open window is a partition too (``end_offset=1``)."""
    cls = _CLASSES[spec.type]
    kwargs: dict = {"start_date": _naive(spec.start), "timezone": spec.timezone}
    if spec.end is not None:
        kwargs["end_date"] = _naive(spec.end)
    else:
        kwargs["end_offset"] = 1
    return cls(**kwargs)


def partition_key(table: Table, partition: str | None) -> str:
    """``partition``, or the table's latest partition; a ``KeyError`` (a usage error) when it has none yet."""
    assert table.partitions is not None
    key = partition or partitions_def(table.partitions).get_last_partition_key()
    if key is None:
        raise KeyError(f"table {table.name!r} has no partition yet: its partitions start {table.partitions.start}")
    return key


def signature(spec: Partitions | None) -> tuple | None:
    """Tables with equal signatures share a partitions definition and a job."""
    if spec is None:
        return None
    return (spec.type, spec.start, spec.end, spec.timezone)


def group_by_partitions(tables: Iterable[Table]) -> dict[tuple | None, list[Table]]:
    """Tables by partitions signature, in table order: each group is one job (and one CLI run)."""
    groups: dict[tuple | None, list[Table]] = {}
    for table in tables:
        groups.setdefault(signature(table.partitions), []).append(table)
    return groups

"""Table maintenance run on the destination cadence: compaction and vacuum.

Many small syncs leave many small files; ``compact`` rewrites them into larger ones (a commit with
``dataChange=false``, so readers and the incremental cursor are unaffected). ``vacuum`` first
removes what crashed syncs left (``staging.sweep``: their staging folders and uncommitted part
files, at once), then deletes files no longer referenced by any version within the retention
window (``full=True`` lists the whole folder, not only logged removals).
"""

from __future__ import annotations

from typing import Any

from deltalake import DeltaTable

from ..errors import LakeError
from . import staging, state


def _table(table_uri: str, storage_options: dict[str, str] | None) -> DeltaTable:
    table = state.open_table(table_uri, storage_options)
    if table is None:
        raise LakeError(f"there is no Delta table at {table_uri}")
    return table


def compact(table_uri: str, storage_options: dict[str, str] | None = None, *, target_size: int | None = None) -> dict[str, Any]:
    """Bin-pack small files; returns delta-rs' optimize metrics."""
    return _table(table_uri, storage_options).optimize.compact(target_size=target_size)


def vacuum(
    table_uri: str,
    storage_options: dict[str, str] | None = None,
    retention_hours: int = 168,
    *,
    dry_run: bool = False,
    full: bool = True,
) -> list[str]:
    """Delete unreferenced files older than ``retention_hours``; returns the files (to be) deleted.

    The retention given here is the one applied (``enforce_retention_duration=False``), so a caller
    asking for less than the table's default week gets it.
    """
    table = _table(table_uri, storage_options)
    swept = [] if dry_run else staging.sweep(table_uri, storage_options)
    return swept + table.vacuum(
        retention_hours=retention_hours, dry_run=dry_run, enforce_retention_duration=False, full=full
    )

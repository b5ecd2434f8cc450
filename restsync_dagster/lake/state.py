"""Sync state kept in Delta commit metadata, so state and data land in the same atomic commit.

Each sync commit carries ``restsync.run_id``, ``restsync.commit_id`` and, for incremental tables,
``restsync.cursor``. The cursor is read back by walking the table history from the newest commit:
maintenance commits (optimize, vacuum) and foreign writers do not carry it and are skipped.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from deltalake import DeltaTable

from ..errors import LakeError

CURSOR = "restsync.cursor"
RUN_ID = "restsync.run_id"
COMMIT_ID = "restsync.commit_id"
PARTITION = "restsync.partition"
ROWS = "restsync.rows"
MODE = "restsync.mode"

_HISTORY_STEPS = (20, 500, None)


def open_table(table_uri: str, storage_options: dict[str, str] | None = None) -> DeltaTable | None:
    """The Delta table at ``table_uri``, or ``None`` if there is none yet."""
    try:
        if not DeltaTable.is_deltatable(table_uri, storage_options=storage_options or None):
            return None
        return DeltaTable(table_uri, storage_options=storage_options or None)
    except OSError as exc:
        raise LakeError(f"cannot read the Delta table at {table_uri}: {storage_error(exc)}") from exc


def storage_error(exc: BaseException) -> str:
    """The cause of an object-store error in one line: the S3 error code and message when there is
    one, else the first lines of delta-rs' error chain without its terminal colours."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    code = re.search(r"<Code>(.*?)</Code>", text)
    if code:
        message = re.search(r"<Message>(.*?)</Message>", text)
        return f"{code.group(1)} ({message.group(1)})" if message else code.group(1)
    lines = [line.strip(" ↳") for line in text.splitlines() if line.strip(" ↳")]
    return "; ".join(lines[:4])


def iter_commits(table: DeltaTable) -> Any:
    """Commit infos, newest first, reading more of the log only when needed."""
    seen = 0
    for limit in _HISTORY_STEPS:
        history = table.history(limit)
        yield from history[seen:]
        if limit is None or len(history) < limit:
            return
        seen = len(history)


def read_cursor(table_uri: str, storage_options: dict[str, str] | None = None) -> Any:
    """The incremental cursor stored by the latest sync commit that has one (``None`` if none)."""
    table = open_table(table_uri, storage_options)
    if table is None:
        return None
    for commit in iter_commits(table):
        if CURSOR in commit:
            return commit[CURSOR]
    return None


def find_commit(table_uri: str, storage_options: dict[str, str] | None, commit_id: str, *, depth: int = 20) -> int | None:
    """Version of the commit tagged ``commit_id`` among the latest ``depth`` commits, if any."""
    table = open_table(table_uri, storage_options)
    if table is None:
        return None
    for commit in table.history(depth):
        if commit.get(COMMIT_ID) == commit_id:
            return int(commit["version"])
    return None


def cursor_value(value: Any) -> Any:
    """A cursor as stored in commit metadata: JSON numbers stay numbers, instants become ISO text."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def later_cursor(before: Any, after: Any) -> Any:
    """The larger of two cursors; ``after`` when they cannot be compared."""
    if before is None:
        return after
    if after is None:
        return before
    a, b = _comparable(before), _comparable(after)
    try:
        return after if b >= a else before
    except TypeError:
        return after


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value

"""Sync state kept in Delta commit metadata, so state and data land in the same atomic commit.

Each sync commit carries ``restsync.run_id``, ``restsync.commit_id`` and, for incremental tables,
``restsync.cursor``. The cursor is read back by walking the table history from the newest commit:
maintenance commits (optimize, vacuum) and foreign writers do not carry it and are skipped.

Version numbers come from the log files themselves (``commit_info``): ``DeltaTable.history`` lists
commits made after the snapshot was loaded but numbers them from the snapshot's version, so while
another run commits its numbers are off.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import Any

from deltalake import DeltaTable

from .parts import Store
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
    return None if table is None else table_cursor(table)


def table_cursor(table: DeltaTable) -> Any:
    """The cursor of the latest sync commit of ``table`` that has one (``None`` if none)."""
    for commit in iter_commits(table):
        if CURSOR in commit:
            return commit[CURSOR]
    return None


def commit_info(store: Store, version: int) -> dict[str, Any] | None:
    """The commit info of ``version`` (with its ``version``), or ``None`` when there is no such commit."""
    try:
        with store.fs.open_input_stream(store.path(f"_delta_log/{version:020d}.json")) as stream:
            lines = stream.read().decode().splitlines()
    except (FileNotFoundError, OSError):
        return None
    for line in lines:
        action = json.loads(line)
        if "commitInfo" in action:
            return {**action["commitInfo"], "version": version}
    return {"version": version}


def commits_since(table_uri: str, storage_options: dict[str, str] | None, version: int | None) -> list[dict[str, Any]]:
    """Commit infos newer than ``version`` (all of them when ``None``), newest first."""
    store = Store(table_uri, storage_options)
    found = []
    v = -1 if version is None else version
    while (info := commit_info(store, v + 1)) is not None:
        found.append(info)
        v += 1
    return found[::-1]


def find_commit(table_uri: str, storage_options: dict[str, str] | None, commit_id: str, *, depth: int = 20) -> int | None:
    """Version of the commit tagged ``commit_id`` among the latest ``depth`` commits, if any."""
    table = open_table(table_uri, storage_options)
    if table is None:
        return None
    recent = commits_since(table_uri, storage_options, max(table.version() - depth, -1))
    for commit in recent[:depth]:
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

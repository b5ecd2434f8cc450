"""Committing while other runs write the same table: retries on a fresh snapshot, real conflicts.

Two runs may write one table at once (two partitions of a backfill, a scheduled run overlapping a
manual one). ``commit_with_retries`` calls a commit attempt with a freshly opened snapshot (``None``
while there is no table yet). When the attempt loses a race (delta-rs ``CommitFailedError``, or
another run created the table first), it reads the commits made since this run opened the table:

- a restsync overwrite of the same rows (the whole table, or the same partition) is a real conflict:
  ``CommitConflictError`` names both runs' intent and nothing is committed;
- anything else (appends, merges, overwrites of other partitions, compaction) is retried on a fresh
  snapshot, at most ``RetryPolicy.attempts`` times with jittered exponential backoff.

Overwrites and table creations commit with ``max_commit_retries=0``: delta-rs' own rebase lets an
overwrite land over a concurrent append to the same partition (keeping both), rejects overwrites of
disjoint partitions, and can land a losing ``CREATE TABLE`` as the next version (adding its rows
again), so restsync decides instead. Appends keep delta-rs' checker and rebase. Keyed writes
(``lake.rewrite``) commit with ``max_commit_retries=0`` too, and delta-rs' ``MERGE`` fails on any
concurrent data change: both are rerun here on the fresh snapshot.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import CommitProperties

from ..errors import CommitConflictError
from . import state

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Commit attempts before giving up (the first one included)."""
    backoff_s: float = 0.2
    """Base of the exponential backoff between attempts; each wait is jittered in [0, base * 2**n]."""
    max_backoff_s: float = 5.0
    """Upper bound of one wait."""

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))


@dataclass(frozen=True)
class Intent:
    """What one sync commits, as recorded in its commit info (``restsync.mode`` / ``restsync.partition``)."""

    run_id: str
    mode: str
    partition: str | None = None

    def conflicts_with(self, commit: dict[str, Any]) -> bool:
        """True when ``commit`` (a commit info) replaced the rows this overwrite replaces."""
        if self.mode != "overwrite" or state.RUN_ID not in commit:
            return False
        return commit.get(state.MODE) == "overwrite" and commit.get(state.PARTITION) == self.partition

    def properties(self, custom: dict[str, Any], *, creating: bool) -> CommitProperties:
        """Commit properties of one attempt; overwrites and table creations never let delta-rs rebase."""
        exclusive = creating or self.mode == "overwrite"
        return CommitProperties(custom_metadata=custom, max_commit_retries=0 if exclusive else None)

    def __str__(self) -> str:
        return f"run {self.run_id} ({_what(self.mode, self.partition)})"


def _what(mode: str | None, partition: str | None) -> str:
    if mode == "overwrite":
        return f"overwrite of partition {partition}" if partition is not None else "overwrite of the whole table"
    return {"append": "append", "merge": "merge by key", "history": "history merge"}.get(mode or "", str(mode))


def describe_commit(commit: dict[str, Any]) -> str:
    """One commit info in words: the run, its intent and its version."""
    version = commit.get("version")
    if state.RUN_ID not in commit:
        return f"a {commit.get('operation', 'write')} not made by restsync (version {version})"
    rows = f", {commit[state.ROWS]} rows" if state.ROWS in commit else ""
    what = _what(commit.get(state.MODE), commit.get(state.PARTITION))
    return f"run {commit[state.RUN_ID]} ({what}{rows}, version {version})"


def commit_with_retries(
    attempt: Callable[[DeltaTable | None], T],
    *,
    table_uri: str,
    storage_options: dict[str, str] | None,
    intent: Intent,
    since: int | None,
    name: str,
    policy: RetryPolicy = RetryPolicy(),
) -> T:
    """Run ``attempt`` on fresh snapshots until it commits; see the module doc.

    ``since`` is the table version this run started from (``None``: there was no table); commits
    after it are the concurrent ones. Errors other than a lost race propagate unchanged.
    """
    for n in range(policy.attempts):
        table = state.open_table(table_uri, storage_options)
        if table is not None:
            _check(table_uri, storage_options, since, intent, name)
        try:
            return attempt(table)
        except CommitFailedError:
            pass
        except DeltaError:
            if table is not None or state.open_table(table_uri, storage_options) is None:
                raise  # not a lost race to create the table
        if n + 1 < policy.attempts:
            time.sleep(policy.delay(n))
    others = state.commits_since(table_uri, storage_options, since)
    latest = f" (latest: {describe_commit(others[0])})" if others else ""
    raise CommitConflictError(
        f"table {name!r}: {intent} could not commit to {table_uri} after {policy.attempts} attempts because "
        f"other writers kept committing first{latest}; nothing was committed, run the sync again"
    )


def _check(table_uri: str, storage_options: dict[str, str] | None, since: int | None, intent: Intent, name: str) -> None:
    for commit in state.commits_since(table_uri, storage_options, since):
        if intent.conflicts_with(commit):
            raise CommitConflictError(
                f"table {name!r}: {intent} conflicts with {describe_commit(commit)}, which committed the same rows "
                "while this run was writing; nothing was committed by this run. Run it again if its data is newer"
            )

"""The delivery log and the rejects table of a REST destination.

Both are append-only Delta tables in the staging root, next to where a Delta destination would
put the table:

* ``<staging>/<pipeline key>/<table key>__delivery_log`` — one row per record *sent*: ``key``,
  ``hash``, ``status`` (``delivered`` | ``rejected`` | ``pending``), ``http_status``,
  ``delivered_at`` (when the outcome was known, whatever it was), ``error``, ``run_id`` and ``seq``,
  a number that grows with every row ever logged, so "the latest row of a key" needs no clock.
* ``<staging>/<pipeline key>/<table key>__rejects`` — one row per rejected record: ``key``, ``hash``,
  ``http_status``, ``response_body`` (redacted, at most ``MAX_BODY_CHARS``), ``record`` (JSON),
  ``error``, ``url`` (sanitized), ``rejected_at``, ``run_id``.

A run writes each table in exactly one commit (``DeltaWriter`` in ``append`` mode: part files as
outcomes arrive, one commit at the end), so a run that dies before its commit has logged nothing,
and one that ends, however it ends, has logged every outcome it knows. A run that sends nothing
commits nothing.

**What is sent** (``DeliveryState.decide``), per key, from its latest logged row and the hash of its
latest ``delivered`` row: a record is skipped when the latest outcome is not ``pending`` and its
hash equals the delivered hash (unchanged; a later rejection did not change what the receiver
holds) or the rejected hash (rejected content is not resent until it changes). Everything else is
sent: new keys, changed records, and records whose latest outcome is ``pending`` — a 5xx or a
timeout says nothing certain about what the receiver kept, so they are always retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

import polars as pl
import pyarrow as pa

from ..lake.casts import UTC_US
from ..lake.delta import DeltaWriter, WriteResult
from ..lake.sync import iter_table_batches, table_uri

Status = Literal["delivered", "rejected", "pending"]
Skip = Literal["unchanged", "rejected"]

LOG_SUFFIX = "__delivery_log"
REJECTS_SUFFIX = "__rejects"
MAX_BODY_CHARS = 16_384
FLUSH_ROWS = 20_000

LOG_SCHEMA = pl.Schema({
    "key": pl.String(),
    "hash": pl.String(),
    "status": pl.String(),
    "http_status": pl.Int32(),
    "delivered_at": UTC_US,
    "error": pl.String(),
    "run_id": pl.String(),
    "seq": pl.Int64(),
})
REJECTS_SCHEMA = pl.Schema({
    "key": pl.String(),
    "hash": pl.String(),
    "http_status": pl.Int32(),
    "response_body": pl.String(),
    "record": pl.String(),
    "error": pl.String(),
    "url": pl.String(),
    "rejected_at": UTC_US,
    "run_id": pl.String(),
})


def log_uri(staging_root: str, pipeline_key: str, table_key: str) -> str:
    return table_uri(staging_root, pipeline_key, table_key + LOG_SUFFIX)


def rejects_uri(staging_root: str, pipeline_key: str, table_key: str) -> str:
    return table_uri(staging_root, pipeline_key, table_key + REJECTS_SUFFIX)


def read_frame(uri: str, storage_options: dict[str, str] | None, columns: list[str] | None = None) -> pl.DataFrame | None:
    """A whole (small) staging table as a DataFrame, or None when it does not exist yet."""
    batches = list(iter_table_batches(uri, storage_options, columns))
    if not batches:
        return None
    return pl.DataFrame(pa.Table.from_batches(batches))


@dataclass
class DeliveryState:
    """The latest outcome per key, read from the delivery log."""

    latest: pl.DataFrame
    """key, delivered_hash, last_status, last_hash."""
    next_seq: int = 0

    @classmethod
    def empty(cls) -> "DeliveryState":
        schema = {"key": pl.String(), "delivered_hash": pl.String(), "last_status": pl.String(), "last_hash": pl.String()}
        return cls(pl.DataFrame(schema=schema))

    @classmethod
    def load(cls, uri: str, storage_options: dict[str, str] | None = None) -> "DeliveryState":
        log = read_frame(uri, storage_options, ["key", "hash", "status", "seq"])
        if log is None or log.is_empty():
            return cls.empty()
        latest = log.sort("seq").group_by("key").agg(
            pl.col("hash").filter(pl.col("status") == "delivered").last().alias("delivered_hash"),
            pl.col("status").last().alias("last_status"),
            pl.col("hash").last().alias("last_hash"),
        )
        last_seq = log["seq"].max()
        assert isinstance(last_seq, int), "seq is an integer column"
        return cls(latest, last_seq + 1)

    def __len__(self) -> int:
        return self.latest.height

    def decide(self, keys: Sequence[str], hashes: Sequence[str]) -> list[Skip | None]:
        """Per record: ``None`` to send it, or why it is skipped."""
        if self.latest.is_empty() or not keys:
            return [None] * len(keys)
        batch = pl.DataFrame({"key": list(keys), "hash": list(hashes)}, schema={"key": pl.String(), "hash": pl.String()})
        joined = batch.with_row_index("_i").join(self.latest, on="key", how="left").sort("_i")
        settled = pl.col("last_status").is_not_null() & (pl.col("last_status") != "pending")
        decided = joined.select(
            pl.when(settled & (pl.col("hash") == pl.col("delivered_hash"))).then(pl.lit("unchanged"))
            .when(settled & (pl.col("last_status") == "rejected") & (pl.col("hash") == pl.col("last_hash")))
            .then(pl.lit("rejected"))
            .otherwise(pl.lit(None, dtype=pl.String()))
            .alias("skip")
        )
        return decided["skip"].to_list()


class LogWriter:
    """Collects one run's outcomes and commits the log and the rejects table once each."""

    def __init__(self, *, log_uri: str, rejects_uri: str, storage_options: dict[str, str] | None, run_id: str,
                 first_seq: int, table_name: str):
        self.log_uri = log_uri
        self.rejects_uri = rejects_uri
        self.storage_options = dict(storage_options or {})
        self.run_id = run_id
        self.table_name = table_name
        self._seq = first_seq
        self._log_rows: list[tuple] = []
        self._reject_rows: list[tuple] = []
        self._log: DeltaWriter | None = None
        self._rejects: DeltaWriter | None = None
        self.logged = 0
        self.rejected = 0

    def add(self, key: str, hash_: str, status: Status, http_status: int | None, error: str | None,
            at: datetime | None = None) -> None:
        at = at or datetime.now(timezone.utc)
        self._log_rows.append((key, hash_, status, http_status, at, error, self.run_id, self._seq))
        self._seq += 1
        self.logged += 1
        if len(self._log_rows) >= FLUSH_ROWS:
            self._flush_log()

    def reject(self, key: str, hash_: str, http_status: int | None, body: str | None, record: str,
               error: str | None, url: str, at: datetime | None = None) -> None:
        at = at or datetime.now(timezone.utc)
        if body is not None and len(body) > MAX_BODY_CHARS:
            body = body[: MAX_BODY_CHARS - 1] + "…"
        self._reject_rows.append((key, hash_, http_status, body, record, error, url, at, self.run_id))
        self.rejected += 1
        if len(self._reject_rows) >= FLUSH_ROWS:
            self._flush_rejects()

    def _writer(self, uri: str, name: str) -> DeltaWriter:
        return DeltaWriter(uri, mode="append", run_id=self.run_id, storage_options=self.storage_options,
                           table_name=f"{self.table_name}{name}")

    def _flush_log(self) -> None:
        if not self._log_rows:
            return
        if self._log is None:
            self._log = self._writer(self.log_uri, LOG_SUFFIX)
        self._log.write(pl.DataFrame(self._log_rows, schema=LOG_SCHEMA, orient="row"))
        self._log_rows = []

    def _flush_rejects(self) -> None:
        if not self._reject_rows:
            return
        if self._rejects is None:
            self._rejects = self._writer(self.rejects_uri, REJECTS_SUFFIX)
        self._rejects.write(pl.DataFrame(self._reject_rows, schema=REJECTS_SCHEMA, orient="row"))
        self._reject_rows = []

    def commit(self) -> tuple[WriteResult | None, WriteResult | None]:
        """Commit the rejects, then the log; the log is committed even if the rejects commit
        failed (it is what stops resends), and that failure is raised afterwards.

        Rejects first, so a ``rejected`` log row normally has its rejects row; a rejects row whose
        log commit then failed is harmless (the record is sent, and rejected, again)."""
        failure: BaseException | None = None
        rejects = log = None
        try:
            self._flush_rejects()
            if self._rejects is not None:
                rejects = self._rejects.commit(metadata={"restsync.kind": "rejects"})
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the log commit
            failure = exc
            if self._rejects is not None:
                self._rejects.abort()
        self._flush_log()
        if self._log is not None:
            log = self._log.commit(metadata={"restsync.kind": "delivery_log"})
        if failure is not None:
            raise failure
        return log, rejects

    def abort(self) -> None:
        for writer in (self._rejects, self._log):
            if writer is not None:
                writer.abort()


__all__ = [
    "DeliveryState",
    "LOG_SCHEMA",
    "LOG_SUFFIX",
    "LogWriter",
    "MAX_BODY_CHARS",
    "REJECTS_SCHEMA",
    "REJECTS_SUFFIX",
    "log_uri",
    "read_frame",
    "rejects_uri",
]

"""``deliver_table``: push a table's rows to a REST endpoint, sending only what changed.

One run:

1. reads the delivery log's latest outcome per key (``log.DeliveryState``);
2. streams the rows (record batches or polars frames), maps each to a record with a key and a
   content hash (``records``) and skips those unchanged since their last delivery or rejected with
   the same content;
3. groups what is left by ``request_mode`` — ``single``: one request per record, the URL and header
   values may use ``#{field}``; ``batch``: ``batch_size`` records per request; ``one_request``: all of
   them in one request (built at the end; those records are held in memory) — and sends the requests
   (``sender``), on up to ``max_concurrency`` threads of the effective ``rate_limit``;
4. writes every outcome to the delivery log and the rejects to the rejects table, one commit each,
   *whatever happened before* (``finally``): a run that fails half-way still records what the
   receiver accepted, so the next run does not send it again;
5. then fails if it must: a 401/403 the auth flow could not cure or an unexpected error is raised as
   is; rejected or pending records raise :class:`DeliveryError` with the counts.

In batch modes a rejection or a failure applies to every record of the request. After
``stop_after_failures`` requests in a row failed for good (their retries exhausted) the run stops
sending: the endpoint is down, and the records not reached are sent by the next run.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import polars as pl
import pyarrow as pa

from ..config.common import merge_rate_limit
from ..config.destination import DestinationRequest
from ..errors import DeliveryError, LakeError
from ..http.client import RequestStats, RestClient
from ..http.ratelimit import DEFAULT_POLICY
from ..secrets import Secrets
from .bodies import BodyBuilder
from .log import DeliveryState, LogWriter, log_uri, rejects_uri
from .records import Record, RecordMapper
from .sender import Outcome, Prepared, Sender, header_has
from .templates import Template

logger = logging.getLogger("restsync.delivery")

Batch: TypeAlias = pa.RecordBatch | pa.Table | pl.DataFrame


@dataclass
class DeliveryResult:
    """What one delivery run did; the Dagster layer reports it as metadata."""

    table_name: str
    log_uri: str
    rejects_uri: str
    considered: int = 0
    """Rows read from the table."""
    sent: int = 0
    """Records sent (whatever came back)."""
    delivered: int = 0
    rejected: int = 0
    pending: int = 0
    """Records sent that failed for good with a retryable status or no response: sent again next run."""
    skipped_unchanged: int = 0
    skipped_rejected: int = 0
    """Records skipped because their current content was rejected before."""
    requests: int = 0
    """Requests sent (one per record, batch or run); ``http.requests`` also counts retries."""
    http: RequestStats = field(default_factory=RequestStats)
    rejected_statuses: dict[int, int] = field(default_factory=dict)
    stopped_early: bool = False
    """The run stopped sending after ``stop_after_failures`` failed requests in a row."""
    log_version: int | None = None
    rejects_version: int | None = None
    elapsed_s: float = 0.0
    last_error: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.pending or self.stopped_early)

    def as_metadata(self) -> dict[str, Any]:
        keys = ("considered", "sent", "delivered", "rejected", "pending", "skipped_unchanged", "skipped_rejected",
                "requests", "stopped_early", "log_uri", "rejects_uri", "log_version", "rejects_version")
        out = {k: getattr(self, k) for k in keys}
        out["retries"] = self.http.retries
        out["waited_s"] = round(self.http.waited_s, 3)
        out["elapsed_s"] = round(self.elapsed_s, 3)
        return out


def _as_batches(batches: Iterable[Batch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if isinstance(batch, pl.DataFrame):
            yield from batch.to_arrow().to_batches()
        elif isinstance(batch, pa.Table):
            yield from batch.to_batches()
        elif isinstance(batch, pa.RecordBatch):
            yield batch
        else:
            raise TypeError(f"deliver_table takes pyarrow RecordBatches/Tables or polars DataFrames, got {type(batch).__name__}")


class _Delivery:
    """The state of one ``deliver_table`` call."""

    def __init__(self, *, client: RestClient, request: DestinationRequest, key_columns: list[str], staging_root: str,
                 storage_options: Mapping[str, str] | None, pipeline_key: str, table_key: str, table_name: str,
                 run_id: str, secrets: Secrets, column_types: Mapping[str, str] | None, max_workers: int | None,
                 stop_after_failures: int | None):
        self.client = client
        self.request = request
        self.secrets = secrets
        self.table_name = table_name
        self.mode = request.request_mode
        self.where = f"table {table_name!r} → connection {client.name!r}"
        endpoint = request.url if request.url is not None else request.path
        assert endpoint is not None  # the model requires one of them
        self.url = Template(endpoint, "url")
        self.headers = {name: Template(value, "header") for name, value in request.headers.items()}
        self.body = BodyBuilder(request)
        per_record = self.url.fields + tuple(f for t in self.headers.values() for f in t.fields)
        if per_record and self.mode != "single":
            raise DeliveryError(
                f"{self.where}: #{{{per_record[0]}}} in the URL or a header needs request_mode single; with request_mode "
                f"{self.mode!r} one request carries many records"
            )
        fields = tuple(dict.fromkeys(per_record + self.body.payload_fields))
        self.mapper = RecordMapper(request, key_columns=list(key_columns), template_fields=fields,
                                   column_types=column_types, table_name=table_name)
        self.policy = merge_rate_limit(client.connection.rate_limit, request.rate_limit, "rate_limit" in request.model_fields_set)
        effective = self.policy or DEFAULT_POLICY
        workers = max_workers if max_workers is not None else (effective.max_concurrency or 1)
        self.stop_after = stop_after_failures
        options = dict(storage_options or {})
        self.result = DeliveryResult(table_name, log_uri(staging_root, pipeline_key, table_key),
                                     rejects_uri(staging_root, pipeline_key, table_key))
        self.state = DeliveryState.load(self.result.log_uri, options)
        self.writer = LogWriter(log_uri=self.result.log_uri, rejects_uri=self.result.rejects_uri, storage_options=options,
                                run_id=run_id, first_seq=self.state.next_seq, table_name=table_name)
        self.sender = Sender(client, auth=client.auth_for(request.auth), policy=self.policy,
                             retry_on=frozenset(effective.retry_on), secrets=secrets, table_name=table_name,
                             workers=workers, on_outcome=self._on_outcome)
        self.pending: list[Record] = []
        self.failures_in_a_row = 0
        self.stop = False
        self.fatal: BaseException | None = None
        self.statuses: Counter[int] = Counter()

    # -- reading and grouping -------------------------------------------------------------------
    def feed(self, batch: pa.RecordBatch) -> None:
        records = list(self.mapper.records(batch))
        self.result.considered += len(records)
        skips = self.state.decide([r.key for r in records], [r.hash for r in records])
        for record, skip in zip(records, skips):
            if self.stop:
                return
            if skip == "unchanged":
                self.result.skipped_unchanged += 1
            elif skip == "rejected":
                self.result.skipped_rejected += 1
            elif self.mode == "single":
                self.sender.submit(self.prepare([record]))
            else:
                self.pending.append(record)
                if self.mode == "batch" and len(self.pending) >= self.request.batch_size:
                    self.flush()

    def flush(self) -> None:
        if self.pending and not self.stop:
            records, self.pending = self.pending, []
            self.sender.submit(self.prepare(records))

    def prepare(self, records: list[Record]) -> Prepared:
        row = records[0].row if self.mode == "single" else {}
        headers = {name: template.render(row) for name, template in self.headers.items()}
        body = self.body.build(records)
        if body.content_type and not header_has(headers, "content-type"):
            headers["Content-Type"] = body.content_type
        return Prepared(records, self.request.method, self.url.render(row), headers, body.content)

    # -- outcomes (always on the caller's thread) -------------------------------------------------
    def _on_outcome(self, outcome: Outcome) -> None:
        result, records = self.result, outcome.prepared.records
        result.requests += 1
        result.sent += len(records)
        result.http.add(outcome.stats)
        error = self.secrets.redact(outcome.error) if outcome.error else None
        status = outcome.status
        if status is None:
            self.fatal = self.fatal or outcome.exc
            self.stop = True
            status = "pending"
        for record in records:
            self.writer.add(record.key, record.hash, status, outcome.http_status, error)
        if status == "delivered":
            result.delivered += len(records)
            self.failures_in_a_row = 0
            return
        result.last_error = error
        if status == "rejected":
            result.rejected += len(records)
            if outcome.http_status is not None:
                self.statuses[outcome.http_status] += len(records)
            url = self.client.describe_url(self.client.url_for(outcome.prepared.url))
            body = self.secrets.redact(outcome.body) if outcome.body is not None else None
            for record in records:
                self.writer.reject(record.key, record.hash, outcome.http_status, body,
                                   self.secrets.redact(record.content_json()), error, url)
            self.failures_in_a_row = 0
            return
        result.pending += len(records)
        self.failures_in_a_row += 1
        if self.stop_after is not None and self.failures_in_a_row >= self.stop_after and not self.stop:
            self.stop = True
            result.stopped_early = True
            logger.warning(self.secrets.redact(
                f"{self.where}: {self.failures_in_a_row} requests in a row failed after their retries; "
                f"stopping this run (the next run sends what is left). Last error: {error}"))

    # -- the run ----------------------------------------------------------------------------------
    def run(self, batches: Iterable[Batch]) -> DeliveryResult:
        started = time.perf_counter()
        try:
            failed = True
            try:
                for batch in _as_batches(batches):
                    self.feed(batch)
                    if self.stop:
                        break
                self.flush()
                failed = False
            finally:
                self.sender.drain(cancel=failed)
                self.sender.close()
        finally:
            self._commit()
            self.result.elapsed_s = time.perf_counter() - started
        logger.info(self.secrets.redact(self.summary()))
        if self.fatal is not None:
            raise self.fatal
        if not self.result.ok:
            raise self._error()
        return self.result

    def _commit(self) -> None:
        try:
            log, rejects = self.writer.commit()
        except Exception as exc:
            raise LakeError(self.secrets.redact(
                f"{self.where}: could not write the delivery log at {self.result.log_uri} "
                f"({self.result.delivered} records were delivered in this run and may be sent again): {exc}"
            )) from exc
        self.result.log_version = log.version if log is not None else None
        self.result.rejects_version = rejects.version if rejects is not None else None

    def summary(self) -> str:
        r = self.result
        return (f"{self.where}: {r.considered} rows, {r.sent} sent in {r.requests} requests "
                f"({r.delivered} delivered, {r.rejected} rejected, {r.pending} pending), "
                f"{r.skipped_unchanged} unchanged and {r.skipped_rejected} previously rejected skipped, "
                f"{r.elapsed_s:.2f} s")

    def _error(self) -> DeliveryError:
        r = self.result
        target = f"{self.request.method} {self.client.describe_url(self.client.url_for(self.url.text))}"
        parts = []
        if r.rejected:
            statuses = ", ".join(f"HTTP {s}: {n}" for s, n in sorted(self.statuses.items())) or "no status"
            parts.append(f"{r.rejected} of {r.sent} records rejected by {target} ({statuses}); "
                         f"see the rejects table at {r.rejects_uri}")
        if r.pending:
            parts.append(f"{r.pending} of {r.sent} records not delivered ({r.last_error}); "
                         "they stay pending and the next run sends them")
        if r.stopped_early:
            parts.append(f"stopped after {self.failures_in_a_row} failed requests in a row; "
                         "the rows not reached are sent by the next run")
        error = DeliveryError(self.secrets.redact(f"{self.where}: " + "; ".join(parts)))
        error.result = r
        return error


def deliver_table(
    batches: Iterable[Batch],
    *,
    client: RestClient,
    request: DestinationRequest,
    key_columns: list[str],
    staging_root: str,
    storage_options: Mapping[str, str] | None,
    pipeline_key: str,
    table_key: str,
    table_name: str,
    run_id: str,
    secrets: Secrets | None = None,
    column_types: Mapping[str, str] | None = None,
    max_workers: int | None = None,
    stop_after_failures: int | None = 3,
) -> DeliveryResult:
    """Deliver the new and changed rows of one table; see the module doc.

    ``key_columns``: ``request.key`` or the table's ``primary_key`` (empty: each distinct row is its
    own key). ``column_types``: restsync types of the columns, so ``json`` columns are sent
    as objects without a ``field_mapping``. ``max_workers`` overrides the effective
    ``rate_limit.max_concurrency``; ``stop_after_failures=None`` never stops early.

    Raises :class:`DeliveryError` (with ``.result``) when records were rejected or stay pending,
    after the log is written; :class:`~restsync_dagster.errors.LakeError` if the log cannot be.
    """
    run = _Delivery(client=client, request=request, key_columns=key_columns, staging_root=staging_root,
                    storage_options=storage_options, pipeline_key=pipeline_key, table_key=table_key,
                    table_name=table_name, run_id=run_id, secrets=secrets if secrets is not None else client.secrets,
                    column_types=column_types, max_workers=max_workers, stop_after_failures=stop_after_failures)
    return run.run(batches)


__all__ = ["DeliveryResult", "deliver_table"]

"""Paging through one table's endpoint: :func:`iter_pages` yields :class:`Page` objects.

The table model says where (``url``, or ``path`` under ``base_url``, default ``/<name>``), how
(``method``, ``headers``, ``params``, ``body``, ``auth``) and where the records are
(``response.root_key``); its ``pagination`` block picks the paginator.

Hot path: each page's records list is exactly the list ``orjson`` built — no per-record Python
work, no copies (only the last page is sliced when ``max_records`` truncates it). While the
caller works on page *n*, page *n+1* is fetched on a background thread. That is not speculation:
the paginator has already decided from page *n* that there is a next page and what it is, so the
pages requested and yielded are exactly those of a sequential walk; a prefetched page the caller
never asks for (it stopped iterating) is neither yielded nor counted in ``pages``/``records``.

When the first page tells the total (``offset`` with ``total_path``, ``page_number`` with
``total_pages_path``) and the table's ``rate_limit.max_concurrency`` is above 1, the remaining
pages — only those within ``max_pages``/``max_records`` — are requested ahead, at most
``max_concurrency`` in flight or waiting, through the client's shared budget. The walk itself is
unchanged: the paginator still decides page after page, and each next request is served by its
ahead-of-time reply, so pages are yielded in page order and equal a sequential walk's.

Given a ``record_plan``, pages of JSON records are parsed by Arrow's reader on the thread that
fetched them (``arrow_body``; the GIL is released), and a table without ``max_concurrency`` whose
pages are known after the first sends the next request while the previous answer is parsed, one
request on the wire at a time.

Every walk stops with a :class:`PaginationError` naming the table and page when the next request
would repeat the previous one, or a page's records equal the previous page's (a loop).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from ..errors import PaginationError, ResponseError
from .arrow_body import ArrowBody, needed_names, parse_arrow
from .bodies import (RecordsNotFound, check_errors, check_success, extract_records, parse_csv, parse_json,
                     parse_response, parse_xml)
from .formats import DecodeError, decompress, explode, from_header_rows, parse_jsonl
from .client import Reply, RequestStats, RestClient
from .paginators import PageRequest, Paginator, build_paginator

logger = logging.getLogger("restsync.http")

_BODY_PATHS = ("total_path", "total_pages_path", "cursor_field", "link_field", "has_more_field")
"""The ``pagination`` fields that are paths into a page's body."""

PageRender = Callable[[Any, dict[str, Any]], Any]
"""Renders a templated value (``params``, ``body``) for one page: ``(value, page) → value``."""


@dataclass(slots=True)
class Page:
    """One page of a table."""

    number: int
    """1-based."""
    url: str
    """The request URL, sanitized for display."""
    status: int
    content: bytes
    """The raw body."""
    records: list[Any]
    """The records at ``root_key`` (a dict body without ``root_key`` is one record)."""
    decision: str
    """What the paginator made of this page, e.g. ``offset=200 limit=100 → 100 records, next offset=300``."""
    elapsed_s: float
    """Seconds the successful request took (retries and waits excluded)."""

    def __repr__(self) -> str:
        return f"<Page {self.number} status={self.status} records={len(self.records)} {self.decision!r}>"


def body_values(data: Any) -> Any:
    """What pagination and the checks read from a parsed body (an Arrow-parsed page has only those values)."""
    return data.values if isinstance(data, ArrowBody) else data


def _min_cap(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _fingerprint(records: list[Any]) -> tuple[int, bytes, bytes] | None:
    """A cheap stand-in for "these records": length plus the first and last record. Equal
    fingerprints are confirmed by a full comparison before a loop is declared."""
    if not records:
        return None
    try:
        return len(records), orjson.dumps(records[0]), orjson.dumps(records[-1])
    except TypeError:
        return None


class _TableWalk:
    """Everything fixed for one table walk: request template, parser, caps, naming."""

    def __init__(self, client: RestClient, table: Any, *, connection_name: str | None, table_name: str | None,
                 params_extra: Mapping[str, Any] | None, stats: RequestStats, page_render: PageRender | None = None,
                 record_plan: Any = None):
        self.client = client
        self.table = table
        self.table_name = table_name or table.name
        self.connection_name = connection_name or client.name
        self.stats = stats
        self.auth = client.auth_for(table.auth)
        self.rate_limit = client.policy_for(table)
        self.format = table.response.format or client.media_type
        self.compression = table.response.compression
        self.explode = table.response.explode
        self.root_key = table.response.root_key
        self.success_field = table.response.success_field
        self.success_values = table.response.success_values
        self.error_path = table.response.error_path
        self.stop_on_empty_page = bool(getattr(table.pagination, "stop_on_empty_page", False))
        own = table.response.skip_statuses
        self.skip_statuses = frozenset(own if own is not None else getattr(client.connection, "skip_statuses", ()))
        self.page_render = page_render
        self.record_plan = record_plan if self._arrow_shape_fits(table) else None
        self.body_paths = needed_names([getattr(table.pagination, name, None) for name in _BODY_PATHS]
                                       + [self.success_field, self.error_path])
        self.params_extra = {k: v for k, v in (params_extra or {}).items() if v is not None}
        headers = {str(k): str(v) for k, v in table.headers.items() if v is not None}
        self.first_request = PageRequest(
            method=table.method,
            url=client.url_for(table.endpoint),
            params=self._params(table.params),
            headers=headers,
            json=table.body if table.method == "POST" else None,
        )

    def _params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in params.items() if v is not None}, **self.params_extra}

    def request_for(self, paginator: Paginator, number: int) -> PageRequest:
        """Page ``number``'s request with the table's ``params`` and ``body`` rendered from the
        paginator's state (``{{ page.cursor }}``, ``{{ page.number }}``, …; a value the paginator does
        not have, such as the first page's cursor, is empty), then its values injected."""
        request = self.first_request.copy()
        if self.page_render is not None:
            page = {k: "" if v is None else v for k, v in paginator.page_context().items()}
            if page["number"] == "":
                page["number"] = number
            request.params = self._params(self.page_render(self.table.params, page))
            if self.table.method == "POST":
                request.json = self.page_render(self.table.body, page)
        paginator.init_request(request)
        paginator.update_request(request)
        return request

    def next_request(self, paginator: Paginator, request: PageRequest, number: int) -> PageRequest:
        """Page ``number``'s request after ``request``, from the paginator's state."""
        if self.page_render is not None:
            return self.request_for(paginator, number)
        following = request.copy()
        paginator.update_request(following)
        return following

    def where(self, number: int) -> str:
        return f"connection {self.connection_name!r}, table {self.table_name!r}, page {number}"

    def _arrow_shape_fits(self, table: Any) -> bool:
        """Whether pages may be parsed by Arrow's reader: JSON records under ``root_key`` (or a
        body that is a list) and a paginator that reads no record itself."""
        if self.format != "json" or self.compression is not None or self.explode is not None:
            return False
        if getattr(table.pagination, "type", None) == "keyset":
            return False
        if self.root_key:
            return True
        reads_body = any(getattr(table.pagination, n, None) for n in _BODY_PATHS)
        return not (reads_body or self.success_field or self.error_path)

    def parse(self, response: httpx.Response) -> Any:
        shape = self.record_plan.current if self.record_plan is not None else None
        data = parse_arrow(response.content, shape, self.root_key, self.body_paths) if shape is not None else None
        if data is None:
            if self.compression is None and self.format not in ("jsonl", "header_rows"):
                data = parse_response(response, self.format)
            else:
                data = self._decode(response)
        if self.success_field:
            check_success(body_values(data), self.success_field, self.success_values)
        if self.error_path:
            check_errors(body_values(data), self.error_path)
        return data

    def fetch(self, request: PageRequest, send_lock: threading.Lock | None = None) -> Reply:
        return self.client.request(
            request.method, request.url, params=request.params, headers=request.headers, json=request.json,
            auth=self.auth, rate_limit=self.rate_limit, parse=self.parse, table_name=self.table_name,
            stats=self.stats, skip_statuses=self.skip_statuses, send_lock=send_lock,
        )

    def _decode(self, response: httpx.Response) -> Any:
        """The parsed body of a compressed answer or of JSON lines / header rows."""
        try:
            parts = decompress(response.content, self.compression)
            if self.format in ("jsonl", "csv"):
                return [record for part in parts for record in
                        (parse_jsonl(part) if self.format == "jsonl" else parse_csv(part.decode("utf-8-sig")))]
            if len(parts) != 1:
                raise DecodeError(f"the zip archive holds {len(parts)} files; format {self.format} reads exactly one")
            if self.format == "xml":
                return parse_xml(parts[0]) if parts[0].strip() else None
            return parse_json(parts[0], response.headers.get("content-type", ""))
        except (DecodeError, UnicodeDecodeError) as exc:
            raise ResponseError(f"connection {self.connection_name!r}, table {self.table_name!r}: {exc}") from None

    def records(self, data: Any, number: int) -> list[Any]:
        if isinstance(data, ArrowBody):
            return data.records  # type: ignore[return-value]
        if self.format in ("csv", "jsonl"):
            return data if data is not None else []
        try:
            records = extract_records(data, self.root_key)
        except RecordsNotFound as exc:
            raise ResponseError(
                f"{self.where(number)}: response.root_key {exc.path!r} found nothing; "
                f"the page has keys {exc.keys}"
            ) from None
        if self.format == "header_rows":
            try:
                return from_header_rows(records)
            except DecodeError as exc:
                raise ResponseError(f"{self.where(number)}: format header_rows: {exc}") from None
        return records

    def rows(self, records: list[Any], number: int) -> list[Any]:
        """The page's rows: its records, or the elements of their ``response.explode`` lists."""
        if self.explode is None:
            return records
        try:
            return explode(records, self.explode)
        except DecodeError as exc:
            raise ResponseError(f"{self.where(number)}: {exc}") from None


def iter_pages(
    client: RestClient,
    table: Any,
    *,
    connection_name: str | None = None,
    table_name: str | None = None,
    params_extra: Mapping[str, Any] | None = None,
    stats: RequestStats | None = None,
    max_pages: int | None = None,
    max_records: int | None = None,
    prefetch: bool = True,
    page_render: PageRender | None = None,
    record_plan: Any = None,
) -> Iterator[Page]:
    """Yield the pages of ``table`` (a ``config.pipeline.Table``) in order.

    ``params_extra`` adds query parameters (e.g. an incremental cursor). ``max_pages`` and
    ``max_records`` cap the walk on top of the table's own caps (the smallest wins); reaching one
    is logged as a warning and the last page is truncated to ``max_records``. ``stats`` is updated
    as pages arrive. Raises ``HttpError``/``AuthError`` when a request fails for good,
    ``ResponseError`` for a body without records where the table says, and ``PaginationError``
    for a loop. ``page_render(value, page)`` renders the table's ``params`` and ``body`` for each
    page from the paginator state (``page`` holds ``cursor``, ``offset``, ``number``, ``size``).
    ``record_plan`` (``lake.arrow_rows.RecordPlan``) lets pages of JSON records be parsed by Arrow's
    reader on the fetching thread; their ``records`` are then ``arrow_body.ArrowRecords``.
    """
    stats = stats if stats is not None else RequestStats()
    walk = _TableWalk(client, table, connection_name=connection_name, table_name=table_name,
                      params_extra=params_extra, stats=stats, page_render=page_render, record_plan=record_plan)
    paginator = build_paginator(table.pagination)
    pagination_cap = getattr(table.pagination, "max_pages", None)
    page_cap = _min_cap(pagination_cap, table.max_pages, max_pages)
    record_cap = _min_cap(table.max_records, max_records)
    request = walk.request_for(paginator, 1)
    width = (walk.rate_limit.max_concurrency or 1) if walk.rate_limit is not None else 1
    yield from _walk(walk, paginator, request, page_cap, record_cap, stats,
                     prefetch=prefetch and table.pagination is not None and page_cap != 1, width=width)


def _skipped_page(walk: _TableWalk, reply: Reply, number: int) -> Page:
    """The empty page of a response whose status the table skips (a 404 for a deleted parent)."""
    response = reply.response
    decision = f"status {response.status_code} is in skip_statuses: no records, stop"
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(walk.client.secrets.redact(f"{walk.where(number)}: {decision}"))
    return Page(number=number, url=walk.client.describe_url(response.request.url), status=response.status_code,
                content=b"", records=[], decision=decision, elapsed_s=reply.elapsed_s)


class _PagesAhead:
    """Requests known up front, fetched at most ``width`` at a time (in flight or waiting).

    With ``send_lock``, one request at a time is on the wire and the others' answers are parsed
    meanwhile (Arrow-parsed pages of a table without ``max_concurrency``)."""

    def __init__(self, walk: _TableWalk, requests: list[PageRequest], width: int,
                 send_lock: threading.Lock | None = None):
        self.walk = walk
        self.queue = deque(requests)
        self.pending: dict[tuple[Any, ...], Future[Reply]] = {}
        self.pool = ThreadPoolExecutor(width, thread_name_prefix="restsync-pages")
        self.width = width
        self.send_lock = send_lock
        self._top_up()

    def _top_up(self) -> None:
        while self.queue and len(self.pending) < self.width:
            request = self.queue.popleft()
            self.pending[request.signature()] = self.pool.submit(self.walk.fetch, request, self.send_lock)

    def fetch(self, request: PageRequest) -> Reply:
        upcoming = self.pending.pop(request.signature(), None)
        if upcoming is None:
            return self.walk.fetch(request)
        self._top_up()
        return upcoming.result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _plan_ahead(walk: _TableWalk, paginator: Paginator, request: PageRequest, width: int, number: int,
                seen: int, page_records: int, page_cap: int | None, record_cap: int | None) -> _PagesAhead | None:
    """After the first page: the pages to request concurrently, within the caps, or None. A walk
    limited to one request at a time whose pages are Arrow-parsed still sends the next request
    while the previous answer is parsed."""
    send_lock = None
    if width <= 1:
        if walk.record_plan is None:
            return None
        width, send_lock = PARSE_AHEAD, threading.Lock()
    states = paginator.remaining_states()
    if not states:
        return None
    remaining = [walk.next_request(state, request, number + i) for i, state in enumerate(states, 1)]
    if page_cap is not None:
        remaining = remaining[:max(page_cap - number, 0)]
    if record_cap is not None and page_records:
        remaining = remaining[:max(math.ceil((record_cap - seen) / page_records), 0)]
    return _PagesAhead(walk, remaining, width, send_lock) if len(remaining) > 1 else None


PARSE_AHEAD = 2
"""Answers requested ahead (one on the wire at a time) while earlier ones are parsed."""

PREFETCH_AFTER_S = 0.001
"""Prefetch the next page only once the caller has spent at least this long on a page: a caller
that comes straight back gains nothing from a thread hand-off, which costs more than it saves."""


def _walk(walk: _TableWalk, paginator: Paginator, request: PageRequest, page_cap: int | None,
          record_cap: int | None, stats: RequestStats, *, prefetch: bool, width: int = 1) -> Iterator[Page]:
    executor: ThreadPoolExecutor | None = None
    ahead: _PagesAhead | None = None
    consumer_s = 0.0
    number = 0
    seen = 0
    previous: tuple[tuple[int, bytes, bytes] | None, bytes, httpx.Response] | None = None
    try:
        reply = walk.fetch(request)
        while True:
            number += 1
            response = reply.response
            data = reply.data
            if reply.skipped:
                yield _skipped_page(walk, reply, number)
                return
            records = walk.records(data, number)

            fingerprint = _fingerprint(records)
            if previous is not None and fingerprint is not None and fingerprint == previous[0]:
                earlier = walk.records(walk.parse(previous[2]), number - 1)
                if earlier == records:
                    raise PaginationError(
                        f"{walk.where(number)}: the page repeats the records of page {number - 1} "
                        f"({len(records)} records) — the API is looping; paginator state: {paginator}"
                    )

            try:
                paginator.update_state(response, body_values(data), records)
            except PaginationError as exc:
                raise PaginationError(f"{walk.where(number)}: {exc}") from None
            decision = paginator.decision
            has_next = paginator.has_next_page
            if has_next and not records and walk.stop_on_empty_page:
                decision += "; empty page and stop_on_empty_page: stop"
                has_next = False
            if walk.explode is not None:
                count = len(records)
                records = walk.rows(records, number)
                decision += f"; explode {walk.explode!r}: {count} records → {len(records)} rows"

            if record_cap is not None and seen + len(records) >= record_cap:
                keep = record_cap - seen
                if len(records) > keep or has_next:
                    logger.warning(walk.client.secrets.redact(
                        f"{walk.where(number)}: stopping at max_records={record_cap} (the source has more)"))
                    decision += f"; max_records={record_cap} reached: stop"
                records = records[:keep] if len(records) > keep else records
                has_next = False
            elif page_cap is not None and number >= page_cap and has_next:
                logger.warning(walk.client.secrets.redact(
                    f"{walk.where(number)}: stopping at max_pages={page_cap} (the source has more pages)"))
                decision += f"; max_pages={page_cap} reached: stop"
                has_next = False

            upcoming: Future[Reply] | None = None
            next_request: PageRequest | None = None
            if has_next:
                next_request = walk.next_request(paginator, request, number + 1)
                if next_request.signature() == request.signature():
                    raise PaginationError(
                        f"{walk.where(number + 1)}: the next request would repeat page {number}'s "
                        f"({next_request.method} {walk.client.describe_url(next_request.url)}) — the API is "
                        f"looping; paginator state: {paginator}"
                    )
                if number == 1:
                    ahead = _plan_ahead(walk, paginator, request, width, number, seen + len(records),
                                        len(records), page_cap, record_cap)
                if ahead is None and prefetch and (consumer_s >= PREFETCH_AFTER_S or walk.record_plan is not None):
                    if executor is None:
                        executor = ThreadPoolExecutor(1, thread_name_prefix="restsync-prefetch")
                    upcoming = executor.submit(walk.fetch, next_request)

            page = Page(
                number=number,
                url=walk.client.describe_url(response.request.url),
                status=response.status_code,
                content=response.content,
                records=records,
                decision=decision,
                elapsed_s=reply.elapsed_s,
            )
            seen += len(records)
            stats.pages += 1
            stats.records += len(records)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(walk.client.secrets.redact(f"{walk.where(number)}: {decision}"))
            previous = (fingerprint, response.content, response)
            handed_at = time.perf_counter()
            yield page
            consumer_s = time.perf_counter() - handed_at

            if next_request is None:
                return
            if upcoming is not None:
                reply = upcoming.result()
            else:
                reply = ahead.fetch(next_request) if ahead is not None else walk.fetch(next_request)
            request = next_request
    finally:
        if ahead is not None:
            ahead.close()
        if executor is not None:
            # A prefetched page the caller never asked for is dropped: never yielded nor counted.
            executor.shutdown(wait=False, cancel_futures=True)

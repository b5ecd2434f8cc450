"""Paginators, one class per ``pagination.type``, registered in :data:`PAGINATORS`.

The protocol follows dlt's ``paginators.py``:

* ``init_request(request)`` sets the first page's parameters;
* ``update_state(response, data, records)`` reads the page just received (``data`` is the parsed
  body, ``records`` the extracted list) and decides whether there is a next page, recording the
  reason in ``decision`` ("offset=200 limit=100 → 100 records, next offset=300");
* ``update_request(request)`` turns that state into the next request;
* ``has_next_page`` says whether to go on; ``str(paginator)`` shows the state for logs.

Loop detection and the ``max_pages``/``max_records`` caps are the caller's job (``fetch.py``),
so every paginator gets them identically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import orjson

from ..config.pagination import (
    CursorPagination,
    KeysetPagination,
    LinkHeaderPagination,
    NextLinkPagination,
    OffsetPagination,
    PageNumberPagination,
)
from ..errors import PaginationError
from .jsonpath import MISSING, find
from .registry import Registry


@dataclass(slots=True)
class PageRequest:
    """The mutable description of the next request a paginator steers."""

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None

    def copy(self) -> "PageRequest":
        return PageRequest(self.method, self.url, dict(self.params), dict(self.headers), self.json)

    def signature(self) -> tuple[Any, ...]:
        """What makes two requests the same request (for loop detection)."""
        params = tuple(sorted((str(k), str(v)) for k, v in self.params.items()))
        body = orjson.dumps(self.json, option=orjson.OPT_SORT_KEYS) if self.json is not None else b""
        return (self.method, self.url, params, body)


PAGINATORS: Registry[type["Paginator"]] = Registry("pagination")
"""Pagination ``type`` name → paginator class."""


class Paginator(ABC):
    """Base class: built from a pagination config model."""

    type: ClassVar[str]

    def __init__(self, model: Any = None):
        self.model = model
        self.has_next_page = True
        self.decision = ""

    def init_request(self, request: PageRequest) -> None:
        """Set the first page's parameters."""

    @abstractmethod
    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        """Read the page just received; set ``has_next_page`` and ``decision``."""

    def update_request(self, request: PageRequest) -> None:
        """Turn the state into the next request."""

    def _stop(self, decision: str) -> None:
        self.has_next_page = False
        self.decision = decision

    def _next(self, decision: str) -> None:
        self.has_next_page = True
        self.decision = decision

    def __str__(self) -> str:
        state = ", ".join(f"{k}={v!r}" for k, v in self._state().items())
        return f"{type(self).__name__}({state}, has_next_page={self.has_next_page})"

    def _state(self) -> dict[str, Any]:
        return {}


class SinglePage(Paginator):
    """No pagination: one request."""

    type = "none"

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        self._stop(f"{len(records)} records; no pagination: stop")


def _number(value: Any, path: str, what: str) -> int | None:
    if value is MISSING or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PaginationError(f"{what} at {path!r} is {value!r}, expected a number") from None


def _show(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@PAGINATORS.register
class OffsetPaginator(Paginator):
    type = "offset"
    model: OffsetPagination

    def __init__(self, model: OffsetPagination):
        super().__init__(model)
        self.offset = model.start

    def init_request(self, request: PageRequest) -> None:
        request.params[self.model.offset_param] = self.offset
        request.params[self.model.limit_param] = self.model.page_size

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        size, count, current = self.model.page_size, len(records), self.offset
        head = f"offset={current} limit={size} → {count} records"
        total = _number(find(data, self.model.total_path), self.model.total_path, "total") \
            if self.model.total_path else None
        if count < size:
            return self._stop(f"{head}; short page ({count} < {size}): stop")
        self.offset = current + size
        if total is not None and self.offset >= total:
            return self._stop(f"{head}; next offset {self.offset} ≥ total {total}: stop")
        self._next(f"{head}, next offset={self.offset}")

    def update_request(self, request: PageRequest) -> None:
        request.params[self.model.offset_param] = self.offset

    def _state(self) -> dict[str, Any]:
        return {"offset": self.offset, "limit": self.model.page_size}


@PAGINATORS.register
class PageNumberPaginator(Paginator):
    type = "page_number"
    model: PageNumberPagination

    def __init__(self, model: PageNumberPagination):
        super().__init__(model)
        self.page = model.start_page

    def init_request(self, request: PageRequest) -> None:
        request.params[self.model.page_param] = self.page
        if self.model.page_size is not None:
            request.params[self.model.size_param] = self.model.page_size

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        size, count, current = self.model.page_size, len(records), self.page
        head = f"page={current}" + (f" size={size}" if size else "") + f" → {count} records"
        path = self.model.total_pages_path
        total = _number(find(data, path), path, "total pages") if path else None
        if count == 0:
            return self._stop(f"{head}; empty page: stop")
        if size is not None and count < size:
            return self._stop(f"{head}; short page ({count} < {size}): stop")
        if total is not None and current - self.model.start_page + 1 >= total:
            return self._stop(f"{head}; page {current + 1} > total pages {total}: stop")
        self.page = current + 1
        self._next(f"{head}, next page={self.page}")

    def update_request(self, request: PageRequest) -> None:
        request.params[self.model.page_param] = self.page

    def _state(self) -> dict[str, Any]:
        return {"page": self.page, "page_size": self.model.page_size}


@PAGINATORS.register
class CursorPaginator(Paginator):
    type = "cursor"
    model: CursorPagination

    def __init__(self, model: CursorPagination):
        super().__init__(model)
        self.cursor: Any = None

    def init_request(self, request: PageRequest) -> None:
        if self.model.page_size is not None:
            request.params[self.model.limit_param] = self.model.page_size

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        sent = f"cursor={_show(self.cursor)}" if self.cursor is not None else "first page"
        head = f"{sent} → {len(records)} records"
        cursor = find(data, self.model.cursor_field)
        if cursor is MISSING:
            return self._stop(f"{head}; no {self.model.cursor_field!r} in the body: stop")
        if cursor is None or cursor == "":
            return self._stop(f"{head}; {self.model.cursor_field!r} is empty: stop")
        self.cursor = cursor
        self._next(f"{head}, next cursor={_show(cursor)}")

    def update_request(self, request: PageRequest) -> None:
        request.params[self.model.cursor_param] = self.cursor

    def _state(self) -> dict[str, Any]:
        return {"cursor": self.cursor}


class _NextUrlPaginator(Paginator):
    """Follows an absolute or relative URL; the link replaces the whole query string."""

    def __init__(self, model: Any):
        super().__init__(model)
        self.next_url: str | None = None

    def _follow(self, response: httpx.Response, link: Any, head: str, where: str) -> None:
        if link is MISSING or link is None or link == "":
            self.next_url = None
            return self._stop(f"{head}; no {where}: stop")
        if not isinstance(link, str):
            raise PaginationError(f"{where} is {_show(repr(link))}, expected a URL")
        self.next_url = str(response.url.join(link))
        self._next(f"{head}, next {self.next_url}")

    def update_request(self, request: PageRequest) -> None:
        if self.next_url is not None:
            request.url = self.next_url
            request.params = {}

    def _state(self) -> dict[str, Any]:
        return {"next_url": self.next_url}


@PAGINATORS.register
class NextLinkPaginator(_NextUrlPaginator):
    type = "next_link"
    model: NextLinkPagination

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        link = find(data, self.model.link_field)
        self._follow(response, link, f"{len(records)} records", f"next link at {self.model.link_field!r}")


@PAGINATORS.register
class LinkHeaderPaginator(_NextUrlPaginator):
    type = "link_header"
    model: LinkHeaderPagination

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        link = response.links.get(self.model.rel, {}).get("url") if "link" in response.headers else None
        self._follow(response, link, f"{len(records)} records", f'Link rel="{self.model.rel}"')


@PAGINATORS.register
class KeysetPaginator(Paginator):
    type = "keyset"
    model: KeysetPagination

    def __init__(self, model: KeysetPagination):
        super().__init__(model)
        self.after: Any = None

    def init_request(self, request: PageRequest) -> None:
        if self.model.page_size is not None:
            request.params[self.model.limit_param] = self.model.page_size

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        sent = f"{self.model.param}={_show(self.after)}" if self.after is not None else "first page"
        head = f"{sent} → {len(records)} records"
        if not records:
            return self._stop(f"{head}; empty page: stop")
        if self.model.has_more_field:
            more = find(data, self.model.has_more_field)
            if more is not MISSING and (more is None or more is False or more in (0, "false", "False", "")):
                return self._stop(f"{head}; {self.model.has_more_field}={more!r}: stop")
        last = records[-1]
        key = find(last, self.model.record_field) if isinstance(last, dict) else MISSING
        if key is MISSING or key is None:
            raise PaginationError(
                f"keyset pagination needs {self.model.record_field!r} in every record; the last record "
                f"of the page has keys {sorted(last) if isinstance(last, dict) else type(last).__name__}"
            )
        self.after = key
        self._next(f"{head}, next {self.model.param}={_show(key)}")

    def update_request(self, request: PageRequest) -> None:
        request.params[self.model.param] = self.after

    def _state(self) -> dict[str, Any]:
        return {self.model.param: self.after}


def build_paginator(model: Any, registry: Registry[type[Paginator]] = PAGINATORS) -> Paginator:
    """The paginator for a ``pagination`` block; ``None`` means a single request."""
    if model is None:
        return SinglePage()
    return registry.lookup(model.type)(model)

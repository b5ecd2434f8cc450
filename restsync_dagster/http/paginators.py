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

import copy

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
        headers = tuple(sorted(self.headers.items()))
        body = orjson.dumps(self.json, option=orjson.OPT_SORT_KEYS) if self.json is not None else b""
        return (self.method, self.url, params, headers, body)

    def set_value(self, into: str, path: str, value: Any) -> None:
        """Write ``value`` as query parameter or header ``path``, or at dotted ``path`` in the JSON
        body (objects on the way are created; the body is copied, never changed in place)."""
        if into == "query":
            self.params[path] = value
        elif into == "header":
            self.headers[path] = str(value)
        else:
            self.json = _with_value(self.json, path.split("."), value)


def _with_value(body: Any, keys: list[str], value: Any) -> Any:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise PaginationError(f"cannot write a pagination value into the body at {keys[0]!r}: "
                              f"the body there is {type(body).__name__}, not an object")
    out = dict(body)
    out[keys[0]] = value if len(keys) == 1 else _with_value(body.get(keys[0]), keys[1:], value)
    return out


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

    def page_context(self) -> dict[str, Any]:
        """``{{ page.* }}`` for the next request: ``cursor``, ``offset``, ``number``, ``size``."""
        return {"cursor": None, "offset": None, "number": None, "size": None}

    @abstractmethod
    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        """Read the page just received; set ``has_next_page`` and ``decision``."""

    def update_request(self, request: PageRequest) -> None:
        """Turn the state into the next request."""

    def remaining_states(self) -> list["Paginator"] | None:
        """After a page that told the total: a copy of this paginator positioned at each page still
        to request, in page order. None when the walk cannot know them up front."""
        return None

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


class _ValuePaginator(Paginator):
    """A paginator that sends one value (offset, page, cursor, last key) and maybe a page size,
    each where ``inject`` / ``size_inject`` say (the query string by default)."""

    value_param: ClassVar[str]
    size_param: ClassVar[str]
    context_key: ClassVar[str]
    """The name of ``value()`` in ``{{ page.* }}``: ``offset``, ``number`` or ``cursor``."""

    def value(self) -> Any:
        """The value the next request sends; None sends nothing."""
        raise NotImplementedError

    def _put(self, request: PageRequest, inject: Any, default: str, value: Any) -> None:
        into = inject.into if inject is not None else "query"
        path = inject.path if inject is not None and inject.path else default
        request.set_value(into, path, value)

    def init_request(self, request: PageRequest) -> None:
        size = getattr(self.model, "page_size", None)
        if size is not None:
            self._put(request, self.model.size_inject, getattr(self.model, self.size_param), size)
        self.update_request(request)

    def update_request(self, request: PageRequest) -> None:
        value = self.value()
        if value is not None:
            self._put(request, self.model.inject, getattr(self.model, self.value_param), value)

    def page_context(self) -> dict[str, Any]:
        return {**super().page_context(), "size": getattr(self.model, "page_size", None), self.context_key: self.value()}


class SinglePage(Paginator):
    """No pagination: one request."""

    type = "none"

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        self._stop(f"{len(records)} records; no pagination: stop")


def _total(data: Any, path: str | None, what: str) -> int | None:
    """The number at ``path`` in the body; None without a path or a value there."""
    if not path:
        return None
    value = find(data, path)
    if value is MISSING or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PaginationError(f"{what} at {path!r} is {value!r}, expected a number") from None


def _at(paginator: Paginator, **state: Any) -> Paginator:
    positioned = copy.copy(paginator)
    for name, value in state.items():
        setattr(positioned, name, value)
    return positioned


def _show(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@PAGINATORS.register
class OffsetPaginator(_ValuePaginator):
    type = "offset"
    model: OffsetPagination
    value_param = "offset_param"
    size_param = "limit_param"
    context_key = "offset"

    def __init__(self, model: OffsetPagination):
        super().__init__(model)
        self.offset = model.start
        self.total: int | None = None

    def value(self) -> Any:
        return self.offset

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        size, count, current = self.model.page_size, len(records), self.offset
        head = f"offset={current} limit={size} → {count} records"
        total = self.total = _total(data, self.model.total_path, "total")
        if count < size:
            return self._stop(f"{head}; short page ({count} < {size}): stop")
        self.offset = current + size
        if total is not None and self.offset >= total:
            return self._stop(f"{head}; next offset {self.offset} ≥ total {total}: stop")
        self._next(f"{head}, next offset={self.offset}")

    def remaining_states(self) -> list[Paginator] | None:
        if self.total is None or not self.has_next_page:
            return None
        return [_at(self, offset=offset) for offset in range(self.offset, self.total, self.model.page_size)]

    def _state(self) -> dict[str, Any]:
        return {"offset": self.offset, "limit": self.model.page_size}


@PAGINATORS.register
class PageNumberPaginator(_ValuePaginator):
    type = "page_number"
    model: PageNumberPagination
    value_param = "page_param"
    size_param = "size_param"
    context_key = "number"

    def __init__(self, model: PageNumberPagination):
        super().__init__(model)
        self.page = model.start_page
        self.total: int | None = None

    def value(self) -> Any:
        return self.page

    def update_state(self, response: httpx.Response, data: Any, records: list[Any]) -> None:
        size, count, current = self.model.page_size, len(records), self.page
        head = f"page={current}" + (f" size={size}" if size else "") + f" → {count} records"
        total = self.total = _total(data, self.model.total_pages_path, "total pages")
        if count == 0:
            return self._stop(f"{head}; empty page: stop")
        if size is not None and count < size:
            return self._stop(f"{head}; short page ({count} < {size}): stop")
        if total is not None and current - self.model.start_page + 1 >= total:
            return self._stop(f"{head}; page {current + 1} > total pages {total}: stop")
        self.page = current + 1
        self._next(f"{head}, next page={self.page}")

    def remaining_states(self) -> list[Paginator] | None:
        if self.total is None or not self.has_next_page:
            return None
        return [_at(self, page=page) for page in range(self.page, self.model.start_page + self.total)]

    def _state(self) -> dict[str, Any]:
        return {"page": self.page, "page_size": self.model.page_size}


@PAGINATORS.register
class CursorPaginator(_ValuePaginator):
    type = "cursor"
    model: CursorPagination
    value_param = "cursor_param"
    size_param = "limit_param"
    context_key = "cursor"

    def __init__(self, model: CursorPagination):
        super().__init__(model)
        self.cursor: Any = None

    def value(self) -> Any:
        return self.cursor

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
class KeysetPaginator(_ValuePaginator):
    type = "keyset"
    model: KeysetPagination
    value_param = "param"
    size_param = "limit_param"
    context_key = "cursor"

    def __init__(self, model: KeysetPagination):
        super().__init__(model)
        self.after: Any = None

    def value(self) -> Any:
        return self.after

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

    def _state(self) -> dict[str, Any]:
        return {self.model.param: self.after}


def build_paginator(model: Any, registry: Registry[type[Paginator]] = PAGINATORS) -> Paginator:
    """The paginator for a ``pagination`` block; ``None`` means a single request."""
    if model is None:
        return SinglePage()
    return registry.lookup(model.type)(model)

"""Pagination settings of SPEC §4.2, one model per ``type``.

These are plain settings; the runtime paginators live in ``restsync_dagster.http.paginators``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt

from .common import DottedPath, Model


class Inject(Model):
    """Where a pagination value goes in the request."""

    into: Literal["query", "header", "body"] = "query"
    """The query string, a header, or the JSON body. Example: `body`"""
    path: DottedPath | None = None
    """Query parameter or header name, or dotted path in the JSON body (objects on the way are
    created); default: the paginator's parameter name. Example: `pagination.starting_after`"""


class _Paginated(Model):
    max_pages: PositiveInt | None = None
    stop_on_empty_page: bool = False
    """Stop at a page with no records even when the body still names a next cursor or link (APIs
    that repeat their last cursor forever). Example: `true`"""


class _Injecting(_Paginated):
    inject: Inject | None = None
    """Where the cursor / offset / page number / last key goes: `query` (default, under the
    paginator's parameter name), a `header`, or a dotted path in the JSON `body` (needs method POST).
    Example: `{into: body, path: pagination.starting_after}`"""
    size_inject: Inject | None = None
    """Where the page size goes, like `inject` (default: the query, under `limit_param` or
    `size_param`). Example: `{into: body, path: pagination.limit}`"""


class OffsetPagination(_Injecting):
    type: Literal["offset"]
    page_size: PositiveInt = 100
    offset_param: str = "offset"
    limit_param: str = "limit"
    start: Annotated[int, Field(ge=0)] = 0
    total_path: str | None = None


class PageNumberPagination(_Injecting):
    type: Literal["page_number"]
    page_size: PositiveInt | None = None
    page_param: str = "page"
    size_param: str = "page_size"
    start_page: Annotated[int, Field(ge=0)] = 1
    total_pages_path: str | None = None


class CursorPagination(_Injecting):
    type: Literal["cursor"]
    cursor_field: str
    cursor_param: str = "cursor"
    page_size: PositiveInt | None = None
    limit_param: str = "limit"


class NextLinkPagination(_Paginated):
    type: Literal["next_link"]
    link_field: str = "next"


class LinkHeaderPagination(_Paginated):
    type: Literal["link_header"]
    rel: str = "next"


class KeysetPagination(_Injecting):
    type: Literal["keyset"]
    record_field: str = "id"
    param: str = "starting_after"
    has_more_field: str | None = "has_more"
    page_size: PositiveInt | None = None
    limit_param: str = "limit"


Pagination = Annotated[
    OffsetPagination
    | PageNumberPagination
    | CursorPagination
    | NextLinkPagination
    | LinkHeaderPagination
    | KeysetPagination,
    Field(discriminator="type"),
]

"""Pagination settings, one model per ``type``.

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
    """Stop after this many pages. Example: `50`"""
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
    """Offset and limit query parameters. Example: `offset`"""
    page_size: PositiveInt = 100
    """Records asked for per page. Example: `100`"""
    offset_param: str = "offset"
    """Query parameter carrying the offset. Example: `offset`"""
    limit_param: str = "limit"
    """Query parameter carrying the page size. Example: `limit`"""
    start: Annotated[int, Field(ge=0)] = 0
    """First offset. Example: `0`"""
    total_path: str | None = None
    """Dotted path of the total record count in the response; stops when reached. Example: `meta.total`"""


class PageNumberPagination(_Injecting):
    type: Literal["page_number"]
    """A page number query parameter. Example: `page_number`"""
    page_size: PositiveInt | None = None
    """Records asked for per page; unset sends no size parameter. Example: `50`"""
    page_param: str = "page"
    """Query parameter carrying the page number. Example: `page`"""
    size_param: str = "page_size"
    """Query parameter carrying the page size. Example: `page_size`"""
    start_page: Annotated[int, Field(ge=0)] = 1
    """Number of the first page. Example: `1`"""
    total_pages_path: str | None = None
    """Dotted path of the page count in the response; stops when reached. Example: `meta.pages`"""


class CursorPagination(_Injecting):
    type: Literal["cursor"]
    """An opaque cursor from the response, sent back as a parameter. Example: `cursor`"""
    cursor_field: str
    """Dotted path of the next cursor in the response; empty ends the pages. Example: `meta.next_cursor`"""
    cursor_param: str = "cursor"
    """Query parameter carrying the cursor. Example: `cursor`"""
    page_size: PositiveInt | None = None
    """Records asked for per page; unset sends no size parameter. Example: `100`"""
    limit_param: str = "limit"
    """Query parameter carrying the page size. Example: `limit`"""


class NextLinkPagination(_Paginated):
    type: Literal["next_link"]
    """The URL of the next page in the response body. Example: `next_link`"""
    link_field: str = "next"
    """Dotted path of the next page's URL in the response. Example: `links.next`"""


class LinkHeaderPagination(_Paginated):
    type: Literal["link_header"]
    """The next page in the HTTP Link header. Example: `link_header`"""
    rel: str = "next"
    """Relation of the link to follow. Example: `next`"""


class KeysetPagination(_Injecting):
    type: Literal["keyset"]
    """The last record's key sent as a parameter (Stripe style). Example: `keyset`"""
    record_field: str = "id"
    """Field of the last record whose value is sent. Example: `id`"""
    param: str = "starting_after"
    """Query parameter carrying that value. Example: `starting_after`"""
    has_more_field: str | None = "has_more"
    """Dotted path of a boolean that says more pages follow; null stops on an empty page. Example: `has_more`"""
    page_size: PositiveInt | None = None
    """Records asked for per page; unset sends no size parameter. Example: `100`"""
    limit_param: str = "limit"
    """Query parameter carrying the page size. Example: `limit`"""


Pagination = Annotated[
    OffsetPagination
    | PageNumberPagination
    | CursorPagination
    | NextLinkPagination
    | LinkHeaderPagination
    | KeysetPagination,
    Field(discriminator="type"),
]

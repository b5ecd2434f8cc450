"""Pagination settings, one model per ``type``.

These are plain settings; the runtime paginators live in ``restsync_dagster.http.paginators``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt

from .common import Model


class _Paginated(Model):
    max_pages: PositiveInt | None = None
    """Stop after this many pages (logged as a warning). Example: `50`"""
    stop_on_empty_page: bool = False
    """Stop at a page with no records even when the body still names a next cursor or link (APIs
    that repeat their last cursor forever). Example: `true`"""


class OffsetPagination(_Paginated):
    type: Literal["offset"]
    """Offset and limit parameters; stops at a short page or when the offset reaches the total. Example: `offset`"""
    page_size: PositiveInt = 100
    """Records asked for per page (the `limit_param` value). Example: `500`"""
    offset_param: str = "offset"
    """Query parameter carrying the offset. Example: `skip`"""
    limit_param: str = "limit"
    """Query parameter carrying the page size. Example: `top`"""
    start: Annotated[int, Field(ge=0)] = 0
    """Offset of the first page. Example: `1`"""
    total_path: str | None = None
    """Dotted path of the total record count in the body. Example: `meta.total`"""


class PageNumberPagination(_Paginated):
    type: Literal["page_number"]
    """Page number parameter; stops at a short or empty page or past the total pages. Example: `page_number`"""
    page_size: PositiveInt | None = None
    """Records asked for per page (sent as `size_param`); unset sends none. Example: `100`"""
    page_param: str = "page"
    """Query parameter carrying the page number. Example: `p`"""
    size_param: str = "page_size"
    """Query parameter carrying the page size. Example: `per_page`"""
    start_page: Annotated[int, Field(ge=0)] = 1
    """Number of the first page. Example: `0`"""
    total_pages_path: str | None = None
    """Dotted path of the total page count in the body. Example: `meta.pages`"""


class CursorPagination(_Paginated):
    type: Literal["cursor"]
    """A cursor from the body sent back as a parameter; stops when the cursor is absent, null or empty. Example: `cursor`"""
    cursor_field: str
    """Dotted path of the next cursor in the body. Example: `paging.next.after`"""
    cursor_param: str = "cursor"
    """Query parameter the cursor is sent in. Example: `after`"""
    page_size: PositiveInt | None = None
    """Records asked for per page (sent as `limit_param`); unset sends none. Example: `100`"""
    limit_param: str = "limit"
    """Query parameter carrying the page size. Example: `limit`"""


class NextLinkPagination(_Paginated):
    type: Literal["next_link"]
    """The body holds the URL of the next page; stops when it is absent or null. Example: `next_link`"""
    link_field: str = "next"
    """Dotted path of the next page's URL in the body. Example: `@odata.nextLink`"""


class LinkHeaderPagination(_Paginated):
    type: Literal["link_header"]
    """The next page's URL in the Link header. Example: `link_header`"""
    rel: str = "next"
    """The Link relation that names the next page. Example: `next`"""


class KeysetPagination(_Paginated):
    type: Literal["keyset"]
    """The last record's key sent as a parameter; stops when `has_more_field` is false or a page is empty. Example: `keyset`"""
    record_field: str = "id"
    """Field of the last record whose value is sent in `param`. Example: `id`"""
    param: str = "starting_after"
    """Query parameter that carries the last record's key. Example: `starting_after`"""
    has_more_field: str | None = "has_more"
    """Dotted path of a boolean that says more pages follow; null relies on empty pages. Example: `has_more`"""
    page_size: PositiveInt | None = None
    """Records asked for per page (sent as `limit_param`); unset sends none. Example: `100`"""
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

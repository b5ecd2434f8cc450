"""Pagination settings of SPEC §4.2, one model per ``type``.

These are plain settings; the runtime paginators live in ``restsync_dagster.http.paginators``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt

from .common import Model


class _Paginated(Model):
    max_pages: PositiveInt | None = None


class OffsetPagination(_Paginated):
    type: Literal["offset"]
    page_size: PositiveInt = 100
    offset_param: str = "offset"
    limit_param: str = "limit"
    start: Annotated[int, Field(ge=0)] = 0
    total_path: str | None = None


class PageNumberPagination(_Paginated):
    type: Literal["page_number"]
    page_size: PositiveInt | None = None
    page_param: str = "page"
    size_param: str = "page_size"
    start_page: Annotated[int, Field(ge=0)] = 1
    total_pages_path: str | None = None


class CursorPagination(_Paginated):
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


class KeysetPagination(_Paginated):
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

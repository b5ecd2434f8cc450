"""Fetch the first pages of a table and report what the paginator decided; writes nothing.

``restsync preview`` prints this; schema inference is layered on top by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .client import RequestStats, RestClient
from .fetch import iter_pages


@dataclass(frozen=True, slots=True)
class PreviewPage:
    number: int
    url: str
    status: int
    records: int
    decision: str
    elapsed_s: float

    def line(self) -> str:
        return f"page {self.number}: {self.decision} ({self.status}, {self.elapsed_s * 1000:.0f} ms)"


@dataclass
class PreviewResult:
    table: str
    pages: list[PreviewPage] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)
    """The first records of the fetched pages, concatenated (at most ``max_records``)."""
    stats: RequestStats = field(default_factory=RequestStats)

    @property
    def decisions(self) -> list[str]:
        return [page.line() for page in self.pages]


def preview_table(client: RestClient, table: Any, *, pages: int = 1, max_records: int = 1000,
                  params_extra: dict[str, Any] | None = None) -> PreviewResult:
    """Fetch up to ``pages`` pages of ``table`` (never more: no prefetch beyond them)."""
    result = PreviewResult(table=table.name)
    for page in iter_pages(client, table, stats=result.stats, max_pages=max(1, pages),
                           params_extra=params_extra, prefetch=False):
        result.pages.append(PreviewPage(page.number, page.url, page.status, len(page.records),
                                        page.decision, page.elapsed_s))
        room = max_records - len(result.records)
        if room > 0:
            result.records.extend(page.records[:room])
    return result

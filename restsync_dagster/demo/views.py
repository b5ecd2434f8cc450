"""Filtered, id-ordered views over one resource, shared by every pagination style.

A view answers three questions: how many records match (`total`), which records sit at positions
`[start, stop)` (`slice`), and where the record after a given id sits (`position_after`, for cursor
and keyset styles). Customers and orders are filtered lists; events are computed by arithmetic so a
year-long range costs nothing until a page is sliced out of it.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import NamedTuple, Protocol

from .data import BASE_EPOCH, DEFAULT_EVENTS_END, EVENT_STEP_S, Store, iso


class ParamError(ValueError):
    """A query parameter the demo cannot use; answered with 400 and this message."""


class Filters(NamedTuple):
    start: float | None  # inclusive, on created_at (events: ts)
    end: float | None  # exclusive
    since: float | None  # strictly greater, on updated_at


def parse_instant(name: str, value: str) -> float:
    """Epoch seconds from an ISO date, an ISO datetime (naive means UTC) or a number."""
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise ParamError(f"{name}: expected a finite number, got {value!r}")
        return number
    if "T" in value and value.count(" ") == 1:
        value = value.replace(" ", "+")  # an unencoded "+00:00" arrives as " 00:00"
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ParamError(f"{name}: expected an ISO 8601 date or datetime, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def parse_filters(params: Mapping[str, str]) -> Filters:
    def get(name: str) -> float | None:
        value = params.get(name)
        return parse_instant(name, str(value)) if value not in (None, "") else None

    return Filters(get("from"), get("to"), get("updated_since"))


class View(Protocol):
    def total(self) -> int: ...
    def slice(self, start: int, stop: int) -> list[dict]: ...
    def position_after(self, last_id: int) -> int: ...


class ListView:
    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def total(self) -> int:
        return len(self.rows)

    def slice(self, start: int, stop: int) -> list[dict]:
        return self.rows[start:stop]

    def position_after(self, last_id: int) -> int:
        return bisect_right(self.rows, last_id, key=lambda row: row["id"])


def list_view(rows: list[dict], filters: Filters) -> ListView:
    """Timestamps are uniform second-precision strings, so bounds are rounded and compared as text."""
    if filters == (None, None, None):
        return ListView(rows)
    start = iso(math.ceil(filters.start)) if filters.start is not None else None
    end = iso(math.ceil(filters.end)) if filters.end is not None else None
    since = iso(math.floor(filters.since)) if filters.since is not None else None
    return ListView([
        row for row in rows
        if (start is None or row["created_at"] >= start)
        and (end is None or row["created_at"] < end)
        and (since is None or row["updated_at"] > since)
    ])


class EventView:
    """Events with ids in `[lo, hi)` whose ts is in range, minus/plus the touched ones.

    Untouched events satisfy `updated_since` exactly when their id is >= `k` (ts grows with id).
    Touched events may flip that: `included` are ids below `k` that now match, `excluded` are ids
    from `k` on that no longer do. The view is `included` followed by `[max(lo, k), hi)` minus
    `excluded`, which is id (and ts) order.
    """

    def __init__(self, store: Store, filters: Filters) -> None:
        self.store = store
        start, end, since = filters
        if filters == (None, None, None):
            start, end = BASE_EPOCH, DEFAULT_EVENTS_END
        lo = 1 if start is None else max(1, math.ceil((start - BASE_EPOCH) / EVENT_STEP_S) + 1)
        hi = store.event_count + 1
        if end is not None:
            hi = min(hi, math.ceil((end - BASE_EPOCH) / EVENT_STEP_S) + 1)
        hi = max(lo, hi)
        self.included: list[int] = []
        self.excluded: list[int] = []
        self.first = lo
        if since is not None:
            k = math.floor((since - BASE_EPOCH) / EVENT_STEP_S) + 2
            self.first = min(max(lo, k), hi)
            since_iso = iso(math.floor(since))
            for event_id in sorted(store.event_overrides):
                if lo <= event_id < hi:
                    matches = store.event(event_id)["updated_at"] > since_iso
                    if matches and event_id < k:
                        self.included.append(event_id)
                    elif not matches and event_id >= k:
                        self.excluded.append(event_id)
        self.hi = hi

    def total(self) -> int:
        return len(self.included) + (self.hi - self.first) - len(self.excluded)

    def _id_at(self, position: int) -> int:
        if position < len(self.included):
            return self.included[position]
        offset = position - len(self.included)
        candidate = self.first + offset
        while True:  # skip excluded ids: the answer is first + offset + (#excluded <= answer)
            shifted = self.first + offset + bisect_right(self.excluded, candidate)
            if shifted == candidate:
                return candidate
            candidate = shifted

    def slice(self, start: int, stop: int) -> list[dict]:
        stop = min(stop, self.total())
        return [self.store.event(self._id_at(p)) for p in range(max(start, 0), stop)]

    def position_after(self, last_id: int) -> int:
        in_range = min(max(last_id - self.first + 1, 0), self.hi - self.first)
        return (bisect_right(self.included, last_id) + in_range
                - bisect_right(self.excluded, last_id))


def build_view(store: Store, resource: str, filters: Filters) -> View:
    if resource == "events":
        return EventView(store, filters)
    return list_view(store.customers if resource == "customers" else store.orders, filters)

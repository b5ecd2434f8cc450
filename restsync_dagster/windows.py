"""Incremental windows: ``incremental.window`` splits ``[start, end)`` into consecutive windows.

Windows are the outermost loop of a table's request streams, so when the first stream of window
*n + 1* starts, every stream of window *n* has been read. :class:`WindowedPages` holds back the pages
of the window in progress until it completes; when a window fails for good, the pages already
released (earlier windows) are committed with the cursor at the end of the last completed window,
and the run fails naming the window. Without a failure the cursor is the largest ``cursor_field``
value, never beyond the end of the last window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from .config.common import parse_duration
from .config.filters import to_instant
from .errors import RestSyncError, WindowError
from .lake import state


@dataclass(frozen=True, slots=True)
class Window:
    number: int
    """1-based."""
    start: datetime
    end: datetime

    @property
    def context(self) -> dict[str, str]:
        """What ``{{ window.start }}`` / ``{{ window.end }}`` render to (ISO 8601, UTC)."""
        return {"start": iso(self.start), "end": iso(self.end)}

    def __str__(self) -> str:
        return f"window {self.number} [{iso(self.start)} .. {iso(self.end)})"


def iso(value: datetime) -> str:
    return state.cursor_value(value)


def split_windows(start: Any, end: Any, step: str) -> list[Window]:
    """Consecutive windows of ``step`` (ISO duration) over ``[start, end)``; the last one is cut at ``end``."""
    low, high, size = to_instant(start), to_instant(end), parse_duration(step)
    out: list[Window] = []
    while low < high:
        upper = min(low + size, high)
        out.append(Window(len(out) + 1, low, upper))
        low = upper
    return out


def windows_line(windows: list[Window]) -> str:
    """What ``restsync preview`` says about a run's windows."""
    if not windows:
        return "incremental windows: none (the range is empty)"
    return f"incremental windows: {len(windows)}, first {windows[0]}, last {windows[-1]}"


def _as_cursor(instant: datetime, like: Any) -> Any:
    """``instant`` in the form of the cursor ``like`` (epoch seconds or milliseconds, or ISO text)."""
    if isinstance(like, (int, float)) and not isinstance(like, bool):
        seconds = instant.timestamp()
        return int(seconds * 1000) if abs(like) >= 1e11 else int(seconds)
    return iso(instant)


def _earlier(a: Any, b: Any) -> Any:
    return b if state.later_cursor(a, b) == a else a


class WindowedPages:
    """Releases a window's pages once the window completes; see the module docstring."""

    def __init__(self, windows: list[Window], *, where: str):
        self.windows = windows
        self.where = where
        self.completed: list[Window] = []
        self.failed: Window | None = None
        self.error: BaseException | None = None
        self._current: Window | None = None

    def on_stream(self, extra: dict) -> None:
        """Called before the pages of each request stream, in stream order."""
        window = extra.get("window")
        if window is not None and window != self._current:
            if self._current is not None:
                self.completed.append(self._current)
            self._current = window

    def pages(self, source: Iterable[list[dict]]) -> Iterator[list[dict]]:
        held: list[list[dict]] = []
        held_window: Window | None = None
        try:
            for records in source:
                if self._current is not held_window:
                    yield from held
                    held, held_window = [], self._current
                held.append(records)
        except RestSyncError as exc:
            self.failed, self.error = self._current, exc
            if held_window is not self._current:
                yield from held
            if not self.completed:
                raise WindowError(self._message(), cause=exc) from exc
            return
        if self._current is not None and self._current not in self.completed:
            self.completed.append(self._current)
        yield from held

    def settle_cursor(self, computed: Any, before: Any) -> Any:
        """The cursor to commit, given the one computed from the committed rows."""
        last = self.completed[-1] if self.completed else None
        if last is None:
            return computed
        end = _as_cursor(last.end, computed if computed is not None else before)
        if self.failed is not None:
            return state.later_cursor(before, end)
        if computed is None:
            return computed
        return _earlier(computed, state.later_cursor(before, end))

    def _message(self) -> str:
        done = len(self.completed)
        cause = getattr(self.error, "cause", None) or self.error
        kept = (f"the {done} earlier window(s) were committed, the cursor stops at {iso(self.completed[-1].end)}"
                if done else "nothing was committed")
        return f"{self.where}: {self.failed} failed: {cause}; {kept}"

    def raise_if_failed(self, version: int | None) -> None:
        if self.failed is not None and self.error is not None:
            raise WindowError(self._message(), cause=self.error, committed_version=version) from self.error

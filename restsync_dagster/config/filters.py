"""Template filters for date values: ``epoch``, ``epoch_ms`` and ``strftime``.

They accept every date value a template sees (``dt``, ``partition.*``, ``incremental.*``,
``window.*``): ISO dates and datetimes (``Z``, an offset, or naive = UTC), ``datetime`` objects and
epoch seconds (numbers, or digit strings), so ``{{ window.start | epoch }}`` and
``{{ dt | strftime('%Y%m%d') }}`` work whatever the API wants.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from ..errors import TemplateError


def to_instant(value: Any) -> datetime:
    """A UTC ``datetime`` from a date value; ``TemplateError`` naming what was received."""
    if isinstance(value, bool):
        raise TemplateError(f"expected a date or datetime, got {value!r}")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text), tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TemplateError(f"expected an ISO date or datetime such as '2026-01-31', got {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def epoch(value: Any) -> int:
    """Whole seconds since 1970-01-01 UTC."""
    return int(to_instant(value).timestamp())


def epoch_ms(value: Any) -> int:
    """Milliseconds since 1970-01-01 UTC."""
    return int(round(to_instant(value).timestamp() * 1000))


def strftime(value: Any, fmt: str = "%Y-%m-%d") -> str:
    """The value in UTC, formatted with Python's ``strftime`` codes."""
    return to_instant(value).strftime(fmt)


DATE_FILTERS = {"epoch": epoch, "epoch_ms": epoch_ms, "strftime": strftime}

"""A strict check of 5-field cron strings, so a bad ``sync.cron`` fails at validation, not at schedule time."""

from __future__ import annotations

import re

MACROS = {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}),
    ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
)
_ITEM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")


def _value(text: str, low: int, high: int, names: dict[str, int], label: str) -> int:
    value = names.get(text) if text in names else int(text) if text.isdigit() else None
    if value is None or not low <= value <= high:
        raise ValueError(f"{label} {text!r} is out of range {low}-{high}")
    return value


def check_cron(expression: str) -> None:
    """Raise ``ValueError`` naming the bad part of ``expression``."""
    text = expression.strip().lower()
    if text in MACROS:
        return
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"expected a cron string with 5 fields (minute hour day-of-month month day-of-week), got {len(parts)} in {expression!r}"
        )
    for part, (label, low, high, names) in zip(parts, _FIELDS):
        for item in part.split(","):
            match = _ITEM.match(item)
            if not match:
                raise ValueError(f"cannot read the {label} field {part!r} of {expression!r}")
            base, step = match.groups()
            if step is not None and int(step) == 0:
                raise ValueError(f"the {label} field {part!r} has a step of 0")
            if base != "*":
                bounds = [_value(b, low, high, names, label) for b in base.split("-")]
                if len(bounds) == 2 and bounds[0] > bounds[1]:
                    raise ValueError(f"the {label} range {base!r} runs backwards")


def minutes_to_cron(minutes: int) -> tuple[str, int | None]:
    """A cron string that fires every ``minutes`` exactly, plus a tick filter when cron alone can't.

    Returns ``(cron, every)``: when ``every`` is set the schedule ticks on ``cron`` and runs only on
    ticks whose minutes since the Unix epoch are a multiple of ``every`` (7, 45, 90, 2880 …), so any
    whole number of minutes is honoured exactly instead of being rounded to the nearest cron.
    """
    from math import gcd

    if minutes <= 0:
        raise ValueError("expected a number of minutes > 0")
    if 60 % minutes == 0:
        return ("* * * * *" if minutes == 1 else f"*/{minutes} * * * *" if minutes < 60 else "0 * * * *"), None
    if minutes % 60 == 0 and 24 % (minutes // 60) == 0:
        hours = minutes // 60
        return ("0 0 * * *" if hours == 24 else f"0 */{hours} * * *"), None
    if minutes == 7 * 1440:
        return "0 0 * * 0", None
    if minutes % 60 == 0:
        step = gcd(minutes // 60, 24)
        cron = "0 * * * *" if step == 1 else "0 0 * * *" if step == 24 else f"0 */{step} * * *"
        return cron, minutes
    step = gcd(minutes, 60)
    return ("* * * * *" if step == 1 else f"*/{step} * * * *"), minutes

"""Which fields are rendered as templates when a run starts; a template anywhere else is an error.

A pattern names a field and everything under it; ``[*]`` matches any list index. Fields left out
are read as written: names, keys, schemas, transformations, schedules, partitions, ``parent``,
``incremental.cursor_field`` / ``param`` / ``lookback`` / ``window``, ids and descriptions.
"""

from __future__ import annotations

import re

_TABLE = ("url", "path", "headers", "params", "body", "auth", "pagination", "response", "rate_limit",
          "request", "incremental.initial_value", "incremental.end", "fan_out", "job")

RENDERED: dict[str, tuple[str, ...]] = {
    "pipelines": tuple(f"tables[*].{name}" for name in _TABLE) + ("destination.request",),
    "rest": ("base_url", "headers", "auth", "ping", "proxy", "rate_limit"),
    "delta": ("path", "storage_options"),
    "hooks": ("url", "headers", "payload"),
}



def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p).replace(re.escape("[*]"), r"\[\d+\]") for p in patterns)
    return re.compile(rf"(?:{alternatives})(?:[.\[].*)?")


_MATCHERS = {kind: _compile(patterns) for kind, patterns in RENDERED.items()}


def is_rendered(kind: str, path: str) -> bool:
    """Whether the value at ``path`` (``tables[0].params.q``) of a ``kind`` document is rendered."""
    matcher = _MATCHERS.get(kind)
    return matcher is None or matcher.fullmatch(path) is not None

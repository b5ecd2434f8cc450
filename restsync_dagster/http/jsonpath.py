"""Dotted paths into parsed bodies.

A path first matches a key spelled exactly so (``@odata.nextLink`` is one key), then walks nested
objects (``paging.next.after``) and list indices (``items.0.id``). ``MISSING`` tells "absent" apart
from an explicit ``null``.
"""

from __future__ import annotations

from typing import Any, Final


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def find(data: Any, path: str | None) -> Any:
    """The value at ``path`` in ``data``, or ``MISSING``. An empty path is the data itself."""
    if not path:
        return data
    if isinstance(data, dict):
        value = data.get(path, MISSING)
        if value is not MISSING:
            return value
    elif isinstance(data, list):
        if path.isdigit() or (path[:1] == "-" and path[1:].isdigit()):
            index = int(path)
            return data[index] if -len(data) <= index < len(data) else MISSING
    else:
        return MISSING
    if "." not in path:
        return MISSING
    # Longest-first keeps "a.b" as one key ahead of a nested "a" → "b" (exact spellings win).
    dots = [i for i, char in enumerate(path) if char == "."]
    for cut in reversed(dots):
        head, rest = path[:cut], path[cut + 1 :]
        child = find(data, head) if "." in head else _step(data, head)
        if child is MISSING:
            continue
        value = find(child, rest)
        if value is not MISSING:
            return value
    return MISSING


def _step(data: Any, key: str) -> Any:
    if isinstance(data, dict):
        return data.get(key, MISSING)
    if isinstance(data, list) and key.lstrip("-").isdigit():
        index = int(key)
        return data[index] if -len(data) <= index < len(data) else MISSING
    return MISSING


def keys_of(data: Any) -> list[str]:
    """The keys a body offers at its top level, for error messages."""
    if isinstance(data, dict):
        return [str(k) for k in data]
    if isinstance(data, list):
        return [f"<list of {len(data)}>"]
    return [f"<{type(data).__name__}>"]

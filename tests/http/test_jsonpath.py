"""Dotted paths: exact keys first, then nested objects and list indices."""

from __future__ import annotations

import pytest

from restsync_dagster.http.jsonpath import MISSING, find

DATA = {
    "@odata.nextLink": "next",
    "paging": {"next": {"after": "z"}},
    "a.b": {"c": 1},
    "a": {"b": {"c": 2}, "x": None},
    "items": [{"id": 1}, {"id": 2}],
    "keys": ["k0", "k1"],
    "data": {"items": [{"id": 7}, {"id": 8}]},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("@odata.nextLink", "next"),
        ("paging.next.after", "z"),
        ("a.b.c", 1),  # the exact key "a.b" wins over a → b
        ("a.x", None),
        ("items.1.id", 2),
        ("items.-1.id", 2),
        ("items.5.id", MISSING),
        ("keys.0", "k0"),
        ("keys.-1", "k1"),
        ("keys.2", MISSING),
        ("data.items.-1.id", 8),
        ("data.items.0", {"id": 7}),
        ("paging.prev", MISSING),
        ("nope", MISSING),
        ("", DATA),
    ],
)
def test_find(path: str, expected: object) -> None:
    assert find(DATA, path) == expected if expected is not MISSING else find(DATA, path) is MISSING

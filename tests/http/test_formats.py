"""Record shapes: exploding nested lists and header rows."""

from __future__ import annotations

import pytest

from restsync_dagster.http.formats import DecodeError, explode, from_header_rows


def test_explode_keeps_parent_fields_under_a_prefix_and_skips_empty_lists():
    records = [{"id": 1, "tags": ["a", "b"], "meta": {"x": 1}}, {"id": 2, "tags": []}, {"id": 3}, {"id": 4, "tags": None}]
    assert explode(records, "tags") == [
        {"parent_id": 1, "parent_meta": {"x": 1}, "tags": "a"},
        {"parent_id": 1, "parent_meta": {"x": 1}, "tags": "b"},
    ]


def test_explode_a_nested_path_with_object_elements_whose_fields_win():
    records = [{"id": 1, "data": {"items": [{"id": 10}, {"id": 11, "parent_id": "own"}]}}]
    assert explode(records, "data.items") == [{"parent_id": 1, "id": 10}, {"parent_id": "own", "id": 11}]


def test_header_rows():
    assert from_header_rows([["a", "b"], [1, 2], [3, None]]) == [{"a": 1, "b": 2}, {"a": 3, "b": None}]
    assert from_header_rows([]) == []
    with pytest.raises(DecodeError, match="first row must list the column names"):
        from_header_rows([[1, 2], [3, 4]])

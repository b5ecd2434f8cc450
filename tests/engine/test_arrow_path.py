"""The Arrow path (pages parsed by pyarrow's JSON reader, typed a row group at a time) against the
Python path (orjson, page by page): the same table synced both ways from a real server must give
the same Delta table, row for row and type for type, and the same errors."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

import httpx
import orjson
import polars as pl
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from restsync_dagster.engine import iter_records, open_client, prepare
from restsync_dagster.errors import RestSyncError, SchemaError
from restsync_dagster.http import RequestStats
from restsync_dagster.http.arrow_body import ArrowRecords
from restsync_dagster.lake import sync_table
from restsync_dagster.lake.arrow_rows import RecordPlan
from tests.dagster.conftest import make_project
from tests.engine.test_concurrent_pages import OFFSET, PAGES as PAGE_NUMBER, _project, _sync

LOADED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
SIZE = 3


def serve(server: HTTPServer, pages: list[list[Any]], *, body=lambda records, total: {"data": records, "total": total}):
    total = sum(len(p) for p in pages)

    def handler(request: Request) -> Response:
        index = int(request.args.get("offset", 0)) // SIZE
        records = pages[index] if index < len(pages) else []
        return Response(orjson.dumps(body(records, total)), content_type="application/json")

    server.expect_request("/items").respond_with_handler(handler)


def run(tmp_path, server: HTTPServer, table: dict, *, fast: bool):
    where = tmp_path / ("fast" if fast else "python")
    table = {"name": "items", "path": "/items", "response": {"root_key": "data"},
             "pagination": {"type": "offset", "page_size": SIZE, "total_path": "total"}, **table}
    project = make_project(where, server.url_for("/").rstrip("/"), [table])
    pipeline = project.pipeline("shop")
    spec = pipeline.table("items")
    plan = RecordPlan() if fast else None
    kinds: Counter[str] = Counter()
    with open_client(project, pipeline.source.connection.id) as client:
        prep = prepare(project, pipeline, spec, client=client)

        def pages():
            for _, records in iter_records(prep, spec, RequestStats(), record_plan=plan):
                typed_by_arrow = isinstance(records, ArrowRecords) and records.shape is plan.current
                kinds["arrow" if typed_by_arrow else "python"] += 1
                yield records

        result = sync_table(pages(), table=spec, transformations=[], table_uri=prep.uri, storage_options={},
                            run_id="r1", loaded_at=LOADED, record_plan=plan)
    return result, pl.read_delta(prep.uri), kinds


def same_table(tmp_path, server, table: dict) -> Counter[str]:
    """Sync both ways, check the results match, return how many pages of the fast run each path typed
    (answers requested ahead before the first page is typed may be parsed by either)."""
    fast, fast_rows, kinds = run(tmp_path, server, table, fast=True)
    slow, slow_rows, _ = run(tmp_path, server, table, fast=False)
    assert fast_rows.schema == slow_rows.schema
    assert fast_rows.to_dicts() == slow_rows.to_dicts()
    assert (fast.rows, fast.pages, fast.schema, fast.added_columns) == (slow.rows, slow.pages, slow.schema, slow.added_columns)
    return kinds


def same_error(tmp_path, server, table: dict) -> str:
    with pytest.raises(SchemaError) as fast:
        run(tmp_path, server, table, fast=True)
    with pytest.raises(SchemaError) as slow:
        run(tmp_path, server, table, fast=False)
    assert str(fast.value) == str(slow.value)
    return str(fast.value)


PAGES = [
    [{"id": 1, "name": "a", "score": 1.5, "ok": True, "seen": "2024-01-01T00:00:00Z", "tags": None,
      "address": {"city": "Oslo", "zip": 1}},
     {"id": 2, "name": None, "score": 2, "ok": False, "seen": "2024-01-01T01:00:00+02:00", "address": None},
     {"id": 3, "score": None, "ok": None, "address": {}}],
    [{"id": 4, "name": "d", "score": 4.25, "ok": True, "seen": "2024-02-01T00:00:00.5Z", "address": {"city": None}},
     {"id": 5, "name": "e", "score": 5.0, "ok": True, "seen": None, "address": {"city": "Rome", "zip": 2}},
     {"id": 6, "name": "f", "_restsync_note": "x", "address": {"city": "Bern", "zip": None}}],
    [{"id": 7, "name": "g", "score": 7, "ok": False, "seen": "2024-03-01", "address": {"city": "Kyiv", "zip": 3}},
     {"id": 8, "name": "h", "score": 8, "ok": True, "address": {"city": "Riga", "zip": 4}},
     {"id": 9, "name": "i", "score": 9, "ok": True, "address": {"city": "Oslo", "zip": 5}}],
    *[[{"id": i, "name": str(i), "score": i / 4, "ok": i % 2 == 0, "seen": f"2024-04-{i - 9:02d}T10:00:00Z",
        "address": {"city": "Lima", "zip": i}} for i in range(n, n + SIZE)] for n in (10, 13, 16)],
    [{"id": 19, "name": "s", "score": 19, "ok": True, "address": {"city": "Lima", "zip": 6}}],
]


def test_inferred_schema_with_nulls_missing_keys_and_nested_objects(httpserver, tmp_path):
    serve(httpserver, PAGES)
    kinds = same_table(tmp_path, httpserver, {})
    assert kinds["arrow"] >= 4  # every page requested once the first page was typed


def test_columns_and_struct_fields_that_appear_later(httpserver, tmp_path):
    base = [[{"id": i, "late": None, "obj": {"a": i}} for i in range(n, n + SIZE)] for n in (1, 4, 7)]
    grown = [[{"id": i, "late": "now", "obj": {"a": i, "b": i % 2 == 0}} for i in range(n, n + SIZE)] for n in (10, 13, 16)]
    pages = [*base, [{"id": 19, "late": "x", "obj": None}, {"id": 20, "obj": {"b": True, "c": 1.5}}, {"id": 21}],
             *grown, [{"id": 31, "extra": [1, 2]}], [{"id": 32, "extra": {"k": 1}}]]
    serve(httpserver, pages)
    kinds = same_table(tmp_path, httpserver, {})
    assert kinds["arrow"] >= 1 and kinds["python"] >= 5


def test_declared_schema_with_timestamps_nested_paths_structs_and_json(httpserver, tmp_path):
    serve(httpserver, PAGES)
    schema = [{"name": "id", "type": "long", "nullable": False}, {"name": "name", "type": "string"},
              {"name": "score", "type": "double"}, {"name": "ok", "type": "boolean"},
              {"name": "seen", "type": "timestamp"}, {"name": "day", "type": "date", "path": "seen"},
              {"name": "city", "type": "string", "path": "address.city"},
              {"name": "address", "type": "struct", "fields": [{"name": "zip", "type": "integer"}]},
              {"name": "whole", "type": "struct", "path": "address"}]
    kinds = same_table(tmp_path, httpserver, {"schema": schema})
    assert kinds["arrow"] >= 4  # "whole" has no fields until the first page is typed
    kinds = same_table(tmp_path / "json", httpserver, {"schema": [*schema, {"name": "raw", "type": "json", "path": "address"}]})
    assert kinds == {"python": 7}  # a json column keeps the table on the Python path


def test_epoch_timestamps_and_numbers_sent_as_text(httpserver, tmp_path):
    pages = [[{"id": 1, "at": "2024-01-01T00:00:00Z", "n": 1}, {"id": 2, "at": "2024-01-02T00:00:00Z", "n": 2},
              {"id": 3, "at": None, "n": 3}],
             [{"id": 4, "at": 1700000000, "n": "4"}, {"id": 5, "at": 1700000000123, "n": " 5 "}, {"id": 6, "at": 0, "n": None}],
             [{"id": 7, "at": "2024-01-07T00:00:00Z", "n": 7}, {"id": 8, "at": "2024-01-08T00:00:00Z", "n": 8},
              {"id": 9, "at": "2024-01-09T00:00:00Z", "n": 9.0}]]
    serve(httpserver, pages)
    same_table(tmp_path, httpserver, {"schema": [{"name": "id", "type": "long"}, {"name": "at", "type": "timestamp"},
                                                 {"name": "n", "type": "long"}]})


def test_a_key_spelled_like_a_dotted_path_and_max_records(httpserver, tmp_path):
    pages = [[{"id": i, "a": {"b": i}} for i in (1, 2, 3)], [{"id": 4, "a.b": 40, "a": {"b": 4}}, {"id": 5, "a": {"b": 5}},
                                                           {"id": 6}], [{"id": i, "a": {"b": i}} for i in (7, 8, 9)]]
    serve(httpserver, pages)
    schema = [{"name": "id", "type": "long"}, {"name": "ab", "type": "long", "path": "a.b"}]
    kinds = same_table(tmp_path, httpserver, {"schema": schema, "max_records": 8})
    assert kinds == {"arrow": 2, "python": 1}  # the page with an "a.b" key


def test_a_dotted_root_key_and_a_body_that_is_a_list(httpserver, tmp_path):
    serve(httpserver, PAGES, body=lambda records, total: {"result": {"items": records}, "meta": {"total": total}})
    kinds = same_table(tmp_path, httpserver, {"response": {"root_key": "result.items"},
                                             "pagination": {"type": "offset", "page_size": SIZE, "total_path": "meta.total"}})
    assert kinds["arrow"] >= 4
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        serve(other, PAGES, body=lambda records, total: records)
        kinds = same_table(tmp_path / "list", other, {"response": {"root_key": None},
                                                      "pagination": {"type": "offset", "page_size": SIZE}})
        assert kinds["arrow"] >= 4
    finally:
        other.clear()
        other.stop()


def test_a_boolean_in_a_number_column_is_taken_like_the_python_path_takes_it(httpserver, tmp_path):
    pages = [[{"id": i, "n": i} for i in (1, 2, 3)], [{"id": i, "n": i} for i in (4, 5, 6)],
             [{"id": 7, "n": 7}, {"id": 8, "n": True}, {"id": 9, "n": 9}], [{"id": 10, "n": 10}]]
    serve(httpserver, pages)
    same_table(tmp_path, httpserver, {})


@pytest.mark.parametrize("bad", ["abc", 1.5, {"x": 1}])
def test_a_value_that_does_not_fit_fails_the_same_way_naming_column_and_page(httpserver, tmp_path, bad):
    pages = [[{"id": i, "n": i} for i in (1, 2, 3)], [{"id": i, "n": i} for i in (4, 5, 6)],
             [{"id": 7, "n": 7}, {"id": 8, "n": bad}, {"id": 9, "n": 9}]]
    serve(httpserver, pages)
    message = same_error(tmp_path, httpserver, {})
    assert "column 'n' (long)" in message and "row 8 of this sync (page 3)" in message
    message = same_error(tmp_path / "declared", httpserver, {"schema": [{"name": "id", "type": "long"},
                                                                          {"name": "n", "type": "integer"}]})
    assert "column 'n' (integer)" in message and "(page 3)" in message


def test_a_missing_value_in_a_non_nullable_column_fails_the_same_way(httpserver, tmp_path):
    pages = [[{"id": i} for i in (1, 2, 3)], [{"id": 4}, {"other": 1}, {"id": 6}]]
    serve(httpserver, pages)
    message = same_error(tmp_path, httpserver, {"schema": [{"name": "id", "type": "long", "nullable": False}]})
    assert "column 'id'" in message and "page 2" in message


@pytest.mark.parametrize("column, bad", [("timestamp", "yesterday"), ("integer", 2**40), ("date", "2024-13-01")])
def test_a_value_the_reader_accepts_but_the_column_cannot_take_fails_the_same_way(httpserver, tmp_path, column, bad):
    good = "2024-01-01" if column != "integer" else 1
    pages = [[{"id": i, "v": good} for i in (1, 2, 3)], [{"id": i, "v": good} for i in (4, 5, 6)],
             [{"id": 7, "v": good}, {"id": 8, "v": bad}, {"id": 9, "v": good}]]
    serve(httpserver, pages)
    message = same_error(tmp_path, httpserver, {"schema": [{"name": "id", "type": "long"}, {"name": "v", "type": column}]})
    assert f"column 'v' ({column})" in message and "row 8 of this sync (page 3)" in message


@pytest.mark.parametrize("body", [b'{"data": [{"id": 7, "v": NaN}], "total": 9}', b'\xef\xbb\xbf{"data": [{"id": 7}], "total": 9}'])
def test_a_body_arrow_reads_but_orjson_refuses_fails_the_same_way(httpserver, tmp_path, body):
    good = [[{"id": i, "v": 0.5} for i in range(n, n + SIZE)] for n in (1, 4)]

    def handler(request: Request) -> Response:
        offset = int(request.args.get("offset", 0))
        payload = body if offset == 6 else orjson.dumps({"data": good[offset // SIZE], "total": 9})
        return Response(payload, content_type="application/json")

    httpserver.expect_request("/items").respond_with_handler(handler)
    with pytest.raises(RestSyncError) as fast:
        run(tmp_path, httpserver, {}, fast=True)
    with pytest.raises(RestSyncError) as slow:
        run(tmp_path, httpserver, {}, fast=False)
    assert str(fast.value) == str(slow.value) and "offset=6" in str(fast.value)


@pytest.mark.parametrize("table", [OFFSET, PAGE_NUMBER], ids=["offset", "page_number"])
def test_answers_parsed_while_the_next_page_is_sent_keep_one_request_in_flight(demo_reset, tmp_path, table):
    result = _sync(_project(tmp_path, demo_reset.base_url, table, {}))
    stats = httpx.get(f"{demo_reset.base_url}/_admin/stats").json()
    assert stats["peak_in_flight"] == 1
    assert stats["requests"] == result.fetch.requests == 20
    assert result.write.rows == 10_000

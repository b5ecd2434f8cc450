"""``#{field}`` rendering, value coercion and the send/skip decision, without a server."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from restsync_dagster.delivery import DeliveryState, LogWriter, RecordMapper, Template, jsonable, log_uri, rejects_uri
from restsync_dagster.errors import DeliveryError, TemplateError
from tests.delivery.helpers import request

ROW = {"id": 7, "name": 'Ada "A" Lovelace/1 & co', "vip": True, "score": None, "meta": {"a": [1, 2]}}


@pytest.mark.parametrize(
    ("context", "template", "expected"),
    [
        ("url", "/contacts/#{name}?vip=#{vip}", "/contacts/Ada%20%22A%22%20Lovelace%2F1%20%26%20co?vip=true"),
        ("url", "/c/#{ id }/#{score}", "/c/7/"),
        ("header", "id=#{id}; #{name}", 'id=7; Ada "A" Lovelace/1 & co'),
        ("form", "n=#{name}&m=#{meta}", "n=Ada+%22A%22+Lovelace%2F1+%26+co&m=%7B%22a%22%3A%5B1%2C2%5D%7D"),
        ("text", "#{id},#{vip},#{score}", "7,true,"),
        # JSON: unquoted → the JSON value; inside a string literal → escaped text, no quotes
        ("json", '{"id": #{id}, "vip": #{vip}, "score": #{score}, "meta": #{meta}, "name": #{name}}',
         '{"id": 7, "vip": true, "score": null, "meta": {"a":[1,2]}, "name": "Ada \\"A\\" Lovelace/1 & co"}'),
        ("json", '{"label": "#{name} (#{id})", "m": "#{meta}", "s": "#{score}"}',
         '{"label": "Ada \\"A\\" Lovelace/1 & co (7)", "m": "{\\"a\\":[1,2]}", "s": ""}'),
        ("json", '{"k\\"#{id}": "x\\\\", "v": #{id}}', '{"k\\"7": "x\\\\", "v": 7}'),
    ],
)
def test_template_rendering(context, template, expected):
    rendered = Template(template, context).render(ROW)
    assert rendered == expected
    if context == "json":
        json.loads(rendered)


def test_template_fields_and_missing_values():
    template = Template("/a/#{id}/#{name}/#{id}", "url")
    assert template.fields == ("id", "name")
    with pytest.raises(TemplateError, match=r"#\{name\} names no column"):
        template.render({"id": 1})


def test_jsonable_values():
    naive = datetime(2024, 1, 2, 3, 4, 5)
    cet = datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=timezone(timedelta(hours=1)))
    assert jsonable(naive) == "2024-01-02T03:04:05Z"
    assert jsonable(cet) == "2024-01-02T02:04:05.000600Z"
    assert jsonable(date(2024, 2, 29)) == "2024-02-29"
    assert jsonable(time(13, 5)) == "13:05:00"
    assert jsonable(Decimal("1.25")) == 1.25
    assert jsonable(float("nan")) is None
    assert jsonable({"t": naive, "l": [date(2024, 1, 1)]}) == {"t": "2024-01-02T03:04:05Z", "l": ["2024-01-01"]}
    assert jsonable([("k", 1), ("j", 2)]) == {"k": 1, "j": 2}  # an arrow map


def test_mapper_types_keys_and_stable_hashes():
    batch = pa.RecordBatch.from_pydict({
        "id": pa.array([1, 2], pa.int64()),
        "region": ["eu", "us"],
        "at": pa.array([datetime(2024, 1, 1, tzinfo=timezone.utc), None], pa.timestamp("us", "UTC")),
        "doc": ['{"x": 1}', None],
        "point": pa.array([{"lat": 1.5, "seen": date(2024, 1, 1)}, None]),
        "_restsync_run_id": ["r1", "r2"],
    })
    req = request(path="/x/#{region}", field_mapping=[
        {"field_name": "ID", "column_name": "id", "field_type": "integer"},
        {"field_name": "when", "column_name": "at", "field_type": "timestamp"},
        {"field_name": "doc", "column_name": "doc", "field_type": "json"},
        {"field_name": "where", "column_name": "point", "field_type": "struct"},
    ])
    mapper = RecordMapper(req, key_columns=["region", "id"], template_fields=("region",))
    first, second = mapper.records(batch)
    assert first.key == '["eu",1]' and second.key == '["us",2]'
    assert first.fields == {"ID": 1, "when": "2024-01-01T00:00:00Z", "doc": {"x": 1},
                            "where": {"lat": 1.5, "seen": "2024-01-01"}}
    assert first.row == {"region": "eu"}
    again = list(RecordMapper(req, key_columns=["region", "id"], template_fields=("region",)).records(batch))
    assert [r.hash for r in again] == [first.hash, second.hash] and first.hash != second.hash
    # without a mapping: every column but restsync's own; the hash does not see system columns
    plain = list(RecordMapper(request(path="/x"), key_columns=["id"]).records(batch))[0]
    assert "_restsync_run_id" not in plain.fields
    other = batch.set_column(5, "_restsync_run_id", pa.array(["r9", "r9"]))
    assert list(RecordMapper(request(path="/x"), key_columns=["id"]).records(other))[0].hash == plain.hash


def test_json_column_with_invalid_text_is_an_error():
    batch = pa.RecordBatch.from_pydict({"id": [1], "doc": ["{not json"]})
    with pytest.raises(DeliveryError, match="column 'doc' is of type json"):
        list(RecordMapper(request(path="/x"), key_columns=["id"], column_types={"doc": "json"}).records(batch))


def test_decisions_follow_the_latest_outcome(tmp_path):
    staging = str(tmp_path)

    def log(*rows):
        state = DeliveryState.load(log_uri(staging, "p", "t"))
        writer = LogWriter(log_uri=log_uri(staging, "p", "t"), rejects_uri=rejects_uri(staging, "p", "t"),
                           storage_options=None, run_id="r", first_seq=state.next_seq, table_name="t")
        for key, hash_, status in rows:
            writer.add(key, hash_, status, None, None)
        writer.commit()

    log(("k1", "A", "delivered"), ("k2", "A", "delivered"), ("k3", "A", "delivered"), ("k4", "A", "rejected"))
    log(("k2", "B", "rejected"), ("k3", "B", "pending"))
    state = DeliveryState.load(log_uri(staging, "p", "t"))
    assert state.next_seq == 6
    keys = ["k1", "k1", "k2", "k2", "k2", "k3", "k3", "k4", "k4", "new"]
    hashes = ["A", "B", "A", "B", "C", "A", "B", "A", "B", "A"]
    assert state.decide(keys, hashes) == [
        "unchanged", None,                 # delivered A: A skipped, B sent
        "unchanged", "rejected", None,     # delivered A then B rejected: the receiver still holds A
        None, None,                        # pending: the outcome is unknown, always resent
        "rejected", None,                  # rejected A: skipped until it changes
        None,                              # never seen
    ]

"""Every body format, custom payloads, nested attributes, static fields and templates, checked
byte for byte against what httpbin's ``/anything`` echoes."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timezone

import polars as pl
import pytest

from restsync_dagster.errors import DeliveryError
from tests.delivery.helpers import Lake, request

ROWS = pl.DataFrame({
    "id": [7, 8],
    "name": ["Ada Lovelace/1", 'Grace "Amazing" Hopper'],
    "score": [1.5, None],
    "active": [True, False],
    "born": [date(1815, 12, 10), date(1906, 12, 9)],
    "seen_at": [datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc), datetime(2024, 5, 2, 8, 30, tzinfo=timezone.utc)],
    "meta": ['{"lang": "en", "n": [1, 2]}', None],
})
TYPES = {"meta": "json"}
ADA = ('{"id":7,"name":"Ada Lovelace/1","score":1.5,"active":true,"born":"1815-12-10",'
       '"seen_at":"2024-05-01T12:00:00.123456Z","meta":{"lang":"en","n":[1,2]}}')
GRACE = ('{"id":8,"name":"Grace \\"Amazing\\" Hopper","score":null,"active":false,"born":"1906-12-09",'
         '"seen_at":"2024-05-02T08:30:00Z","meta":null}')


def by_id(echoes: list[dict]) -> list[dict]:
    return sorted(echoes, key=lambda e: e["raw_uri"])


def test_json_single_with_nested_attribute_static_fields_and_templates(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS)
    req = request(
        path="/anything/contacts/#{name}", method="PUT", nested_attribute="contact",
        static_fields={"source": "lake", "version": 2},
        headers={"X-Contact-Id": "#{id}", "X-Contact-Name": "#{name}", "X-Source": "restsync"},
    )
    result = lake.run(make_client(url), req, column_types=TYPES)
    assert (result.delivered, result.requests) == (2, 2)
    ada, grace = by_id(recorder.echoes)
    assert ada["raw_uri"] == "/anything/contacts/Ada%20Lovelace%2F1"
    assert grace["raw_uri"] == "/anything/contacts/Grace%20%22Amazing%22%20Hopper"
    assert ada["method"] == "PUT"
    assert ada["data"] == '{"contact":' + ADA + ',"source":"lake","version":2}'
    assert grace["data"] == '{"contact":' + GRACE + ',"source":"lake","version":2}'
    assert ada["json"] == {"contact": json.loads(ADA), "source": "lake", "version": 2}
    assert ada["headers"]["Content-Type"] == "application/json"
    assert (ada["headers"]["X-Contact-Id"], ada["headers"]["X-Contact-Name"], ada["headers"]["X-Source"]) == (
        "7", "Ada Lovelace/1", "restsync")
    assert grace["headers"]["X-Contact-Name"] == 'Grace "Amazing" Hopper'


def test_json_single_merges_static_fields_into_the_record(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS.head(1))
    lake.run(make_client(url), request(path="/anything", static_fields={"source": "lake"}), column_types=TYPES)
    (echo,) = recorder.echoes
    assert echo["data"] == ADA[:-1] + ',"source":"lake"}'


@pytest.mark.parametrize("nested", [None, "records"])
def test_json_batch_is_a_list_or_a_wrapped_list(httpbin, make_client, lake: Lake, nested):
    url, recorder = httpbin
    lake.write(ROWS)
    req = request(path="/anything", request_mode="batch", batch_size=10, nested_attribute=nested,
                  static_fields={"source": "lake"})
    result = lake.run(make_client(url), req, column_types=TYPES)
    assert (result.delivered, result.requests) == (2, 1)
    (echo,) = recorder.echoes
    if nested:
        assert echo["data"] == '{"records":[' + ADA + "," + GRACE + '],"source":"lake"}'
    else:
        assert echo["data"] == "[" + ADA[:-1] + ',"source":"lake"},' + GRACE[:-1] + ',"source":"lake"}]'


def test_batch_size_splits_requests_and_one_request_sends_everything_at_once(httpbin, make_client, tmp_path):
    url, recorder = httpbin
    client = make_client(url)
    frame = pl.DataFrame({"id": list(range(1, 8)), "n": [f"n{i}" for i in range(1, 8)]})
    batched = Lake(tmp_path / "b")
    batched.write(frame)
    result = batched.run(client, request(path="/anything", request_mode="batch", batch_size=3))
    assert (result.delivered, result.requests) == (7, 3)
    assert [len(e["json"]) for e in recorder.echoes] == [3, 3, 1]
    recorder.echoes.clear()
    single = Lake(tmp_path / "o")
    single.write(frame)
    result = single.run(client, request(path="/anything", request_mode="one_request", nested_attribute="items"))
    assert (result.delivered, result.requests) == (7, 1)
    (echo,) = recorder.echoes
    assert echo["json"] == {"items": [{"id": i, "n": f"n{i}"} for i in range(1, 8)]}


def test_csv_batch_has_a_header_and_one_line_per_record(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS)
    req = request(path="/anything", body_format="csv", request_mode="batch", static_fields={"source": "lake"},
                  field_mapping=[
                      {"field_name": "contact_id", "column_name": "id", "field_type": "long"},
                      {"field_name": "full_name", "column_name": "name", "field_type": "string"},
                      {"field_name": "active", "column_name": "active"},
                      {"field_name": "seen", "column_name": "seen_at", "field_type": "timestamp"},
                      {"field_name": "meta", "column_name": "meta", "field_type": "json"},
                  ])
    lake.run(make_client(url), req)
    (echo,) = recorder.echoes
    assert echo["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert echo["data"] == (
        "contact_id,full_name,active,seen,meta,source\r\n"
        '7,Ada Lovelace/1,true,2024-05-01T12:00:00.123456Z,"{""lang"":""en"",""n"":[1,2]}",lake\r\n'
        '8,"Grace ""Amazing"" Hopper",false,2024-05-02T08:30:00Z,,lake\r\n'
    )


def test_url_encoded_single_record(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS.head(1).select("id", "name", "active", "score"))
    lake.run(make_client(url), request(path="/anything", body_format="url_encoded", static_fields={"source": "lake"}))
    (echo,) = recorder.echoes
    assert echo["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert echo["form"] == {"id": "7", "name": "Ada Lovelace/1", "active": "true", "score": "1.5", "source": "lake"}


def test_a_content_type_header_overrides_the_format_and_shows_the_exact_bytes(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS.head(1).select("id", "name", "active"))
    lake.run(make_client(url), request(path="/anything", body_format="url_encoded", nested_attribute="contact",
                                       headers={"content-type": "text/plain"}))
    (echo,) = recorder.echoes
    assert echo["headers"]["Content-Type"] == "text/plain"
    assert echo["data"] == "contact%5Bid%5D=7&contact%5Bname%5D=Ada+Lovelace%2F1&contact%5Bactive%5D=true"


def test_form_data_sends_text_parts_and_binary_columns_as_files(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(pl.DataFrame({"id": [1], "name": ["Ada"], "avatar": [b"GIF89a-bytes"], "vip": [None]},
                            schema_overrides={"vip": pl.Boolean}))
    lake.run(make_client(url), request(path="/anything", body_format="form_data", static_fields={"source": "lake"}))
    (echo,) = recorder.echoes
    assert echo["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert echo["form"] == {"id": "1", "name": "Ada", "vip": "", "source": "lake"}
    assert echo["files"] == {"avatar": "GIF89a-bytes"}


def test_form_data_batch_uses_indexed_names(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(pl.DataFrame({"id": [1, 2], "name": ["Ada", "Alan"]}))
    lake.run(make_client(url), request(path="/anything", body_format="form_data", request_mode="batch",
                                       nested_attribute="people"))
    (echo,) = recorder.echoes
    assert echo["form"] == {"people[0][id]": "1", "people[0][name]": "Ada", "people[1][id]": "2", "people[1][name]": "Alan"}


def test_json_custom_payload_quoted_and_unquoted_placeholders(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS)
    payload = '{"ref": "contact-#{id}", "label": "#{name} (#{active})", "id": #{id}, "score": #{score}, "meta": #{meta}, "at": "#{seen_at}"}'
    result = lake.run(make_client(url), request(path="/anything", custom_payload=payload), column_types=TYPES)
    assert result.delivered == 2
    grace = next(e for e in recorder.echoes if e["json"]["id"] == 8)
    ada = next(e for e in recorder.echoes if e["json"]["id"] == 7)
    assert ada["data"] == ('{"ref": "contact-7", "label": "Ada Lovelace/1 (true)", "id": 7, "score": 1.5, '
                           '"meta": {"lang":"en","n":[1,2]}, "at": "2024-05-01T12:00:00.123456Z"}')
    assert grace["data"] == ('{"ref": "contact-8", "label": "Grace \\"Amazing\\" Hopper (false)", "id": 8, '
                             '"score": null, "meta": null, "at": "2024-05-02T08:30:00Z"}')
    assert grace["json"]["label"] == 'Grace "Amazing" Hopper (false)'


def test_custom_payload_in_a_batch_and_with_a_nested_attribute(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS.select("id", "name"))
    req = request(path="/anything", custom_payload='{"n": "#{name}", "i": #{id}}', request_mode="batch",
                  nested_attribute="rows", static_fields={"v": 1})
    lake.run(make_client(url), req)
    (echo,) = recorder.echoes
    assert echo["data"] == '{"rows":[{"n":"Ada Lovelace/1","i":7},{"n":"Grace \\"Amazing\\" Hopper","i":8}],"v":1}'


def test_url_encoded_custom_payload_encodes_values(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(ROWS.head(1).select("id", "name"))
    lake.run(make_client(url), request(path="/anything", body_format="url_encoded", custom_payload="who=#{name}&n=#{id}",
                                       headers={"Content-Type": "text/plain"}))
    (echo,) = recorder.echoes
    assert echo["data"] == "who=Ada+Lovelace%2F1&n=7"


def test_binary_values_are_base64_in_json(httpbin, make_client, lake: Lake):
    url, recorder = httpbin
    lake.write(pl.DataFrame({"id": [1], "blob": [b"\x00\xffhi"]}))
    lake.run(make_client(url), request(path="/anything"))
    (echo,) = recorder.echoes
    assert echo["json"] == {"id": 1, "blob": base64.b64encode(b"\x00\xffhi").decode()}


def test_get_and_single_delete_send_no_body(httpbin, make_client, tmp_path):
    url, recorder = httpbin
    client = make_client(url)
    for method in ("GET", "DELETE"):
        lake = Lake(tmp_path / method)
        lake.write(pl.DataFrame({"id": [3]}))
        lake.run(client, request(path="/anything/items/#{id}", method=method))
    get, delete = recorder.echoes
    assert (get["method"], get["data"], get["raw_uri"]) == ("GET", "", "/anything/items/3")
    assert (delete["method"], delete["data"]) == ("DELETE", "")
    assert "Content-Type" not in get["headers"] and "Content-Type" not in delete["headers"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"path": "/x/#{id}", "request_mode": "batch"}, "needs request_mode single"),
        ({"path": "/x", "body_format": "csv", "nested_attribute": "r"}, "CSV body cannot be nested"),
        ({"path": "/x", "body_format": "url_encoded", "request_mode": "batch"}, "needs a nested_attribute"),
        ({"path": "/x", "body_format": "form_data", "request_mode": "batch", "custom_payload": "{}"}, "one record per request"),
        ({"path": "/x", "static_fields": {"id": 1}}, "would overwrite record field"),
        ({"path": "/x/#{nope}"}, "names column 'nope'"),
        ({"path": "/x", "field_mapping": [{"field_name": "a", "column_name": "id", "field_type": "string"}]},
         "field_type 'string' does not match column 'id', which is long"),
    ],
)
def test_invalid_requests_fail_before_sending(httpbin, make_client, lake: Lake, fields, message):
    url, recorder = httpbin
    lake.write(pl.DataFrame({"id": [1]}))
    with pytest.raises(DeliveryError, match=message):
        lake.run(make_client(url), request(**fields))
    assert recorder.echoes == []

"""Pipeline documents through the API: listing, formats, validation errors, replace rules, safe writes."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from tests.api.conftest import Api, pipeline_doc

YAML = {"Content-Type": "application/yaml"}


def _create(api: Api, name: str) -> str:
    response = api.request("POST", "/pipelines", json=pipeline_doc(name))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_list_newest_first_with_pagination_capped_at_100(api: Api):
    shipped = [p["id"] for p in api.request("GET", "/pipelines").json()["data"]]
    assert sorted(shipped) == ["demo_auth_tour", "demo_contacts_push", "demo_reverse_etl", "demo_saas", "demo_shop"]
    created = []
    for i in range(3):
        created.append(_create(api, f"Paged {i}"))
        time.sleep(0.01)

    everything = api.request("GET", "/pipelines").json()
    assert everything["pagination"] == {"page": 1, "page_size": 50, "returned": 8, "has_more": False}
    assert [p["id"] for p in everything["data"]][:3] == ["paged_2", "paged_1", "paged_0"]

    capped = api.request("GET", "/pipelines", params={"page_size": 500}).json()
    assert capped["pagination"]["page_size"] == 100 and capped["pagination"]["returned"] == 8

    first = api.request("GET", "/pipelines", params={"page": 1, "page_size": 3}).json()
    third = api.request("GET", "/pipelines", params={"page": 3, "page_size": 3}).json()
    beyond = api.request("GET", "/pipelines", params={"page": 9, "page_size": 3}).json()
    assert first["pagination"] == {"page": 1, "page_size": 3, "returned": 3, "has_more": True}
    assert third["pagination"] == {"page": 3, "page_size": 3, "returned": 2, "has_more": False}
    assert beyond["pagination"]["returned"] == 0 and beyond["data"] == []
    pages = [api.request("GET", "/pipelines", params={"page": n, "page_size": 3}).json()["data"] for n in (1, 2, 3)]
    assert [p["id"] for page in pages for p in page] == [p["id"] for p in everything["data"]]

    summary = first["data"][0]
    assert summary["name"] == "Paged 2" and summary["table_count"] == 1 and summary["last_run"] is None
    assert summary["document"] == "pipelines/paged_2.yaml"

    for params in ({"page": 0}, {"page": "two"}, {"page_size": -1}, {"page_size": "1.5"}):
        bad = api.request("GET", "/pipelines", params=params)
        assert bad.status_code == 422, params
        assert bad.json()["errors"][0]["path"] == next(iter(params))


def test_yaml_and_json_round_trip_to_the_same_document(api: Api):
    shop_yaml = api.request("GET", "/pipelines/demo_shop/definition", headers={"Accept": "application/yaml"})
    assert shop_yaml.status_code == 200 and shop_yaml.headers["content-type"].startswith("application/yaml")
    assert "# Incremental" in shop_yaml.text  # the stored text, comments included
    shop_json = api.request("GET", "/pipelines/demo_shop/definition", headers={"Accept": "application/json"})
    assert shop_json.headers["content-type"].startswith("application/json")
    assert yaml.safe_load(shop_yaml.text) == shop_json.json()
    assert api.request("GET", "/pipelines/demo_shop/definition").json() == shop_json.json()  # JSON by default

    # The shipped JSON document reads back as YAML too.
    etl_json = api.request("GET", "/pipelines/demo_reverse_etl/definition").json()
    etl_yaml = api.request("GET", "/pipelines/demo_reverse_etl/definition", headers={"Accept": "text/yaml, application/json;q=0.5"})
    assert etl_yaml.headers["content-type"].startswith("application/yaml") and yaml.safe_load(etl_yaml.text) == etl_json

    # Created from JSON, read back as YAML and JSON: the same document.
    doc = pipeline_doc("Round Trip", tags={"on": "yes"})
    assert api.request("POST", "/pipelines", json=doc).status_code == 201
    back_yaml = api.request("GET", "/pipelines/round_trip/definition", headers={"Accept": "application/yaml"}).text
    back_json = api.request("GET", "/pipelines/round_trip/definition").json()
    assert back_json == doc and yaml.safe_load(back_yaml) == doc
    # Replacing it with the YAML form changes nothing.
    same = api.request("PUT", "/pipelines/round_trip/definition", content=back_yaml, headers=YAML)
    assert same.status_code == 200 and same.json()["changed"] is False


def test_replacing_a_json_document_keeps_it_json(api: Api):
    doc = api.request("GET", "/pipelines/demo_reverse_etl/definition").json()
    doc["description"] = "edited through the API"
    response = api.request("PUT", "/pipelines/demo_reverse_etl/definition", content=yaml.safe_dump(doc), headers=YAML)
    assert response.status_code == 200 and response.json()["changed"] is True
    stored = json.loads((api.definitions / "pipelines" / "demo_reverse_etl.json").read_text())
    assert stored == doc


INVALID = [
    # (what, change to a valid document, status, failing field path, part of the message)
    ("unknown key", {"schedule": {"every": 5}}, 422, "schedule", "unknown key 'schedule'"),
    ("nested unknown key", {"sync": {"frequency": 5, "frequncy": 5}}, 422, "sync.frequncy", "did you mean 'frequency'"),
    ("tables not a list", {"tables": "customers"}, 422, "tables", "expected a list"),
    ("include and exclude", {"tables": [{"name": "t", "columns": {"include": ["a"], "exclude": ["b"]}}]}, 400, "tables[0].columns", "not both"),
    ("unknown transformation", {"transformations": [{"type": "uppercase_everything"}]}, 400, "transformations[0]", "unknown type 'uppercase_everything'"),
    ("missing connection", {"source": {"connection": {"id": "nowhere"}}}, 400, "source.connection.id", "nowhere"),
    ("missing hook", {"hooks": [{"id": "nope", "events": ["pipeline_failed"]}]}, 400, "hooks[0].id", "nope"),
    ("both cadences", {"sync": {"frequency": 5, "source_frequency": 5, "destination_frequency": 10}}, 400, "sync", "not both"),
    ("bad version", {"definition_version": 2}, 400, "definition_version", "expected 1"),
]


@pytest.mark.parametrize("what,change,status,path,message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_documents_name_the_failing_field(api: Api, what, change, status, path, message):
    doc = {**pipeline_doc("Broken"), **change}
    for endpoint in ("/pipelines", "/pipelines/validate"):
        response = api.request("POST", endpoint, content=yaml.safe_dump(doc, sort_keys=False), headers=YAML)
        assert response.status_code == status, response.text
        body = response.json()
        assert body["valid"] is False
        assert any(e["path"] == path and message in e["message"] for e in body["errors"]), body["errors"]
        assert all(e["line"] is None or e["line"] >= 1 for e in body["errors"])
    assert api.request("GET", "/pipelines/broken").status_code == 404
    assert not (api.definitions / "pipelines" / "broken.yaml").exists()


def test_errors_carry_the_line_in_the_body_as_sent(api: Api):
    text = yaml.safe_dump({**pipeline_doc("Lines"), "sync": {"frequency": 5, "colour": "red"}}, sort_keys=False)
    errors = api.request("POST", "/pipelines/validate", content=text, headers=YAML).json()["errors"]
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "colour" in l)
    assert errors == [{"path": "sync.colour", "message": errors[0]["message"], "line": line}]


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"name: [unclosed", "application/yaml"),
        (b"{\"name\": ", "application/json"),
        (b"- just\n- a list\n", "application/yaml"),
        (b"", "application/yaml"),
        (b"\xff\xfe", "application/yaml"),
        (b"42", "application/json"),
    ],
)
def test_bodies_that_are_not_documents_are_422(api: Api, body, content_type):
    for endpoint in ("/pipelines", "/pipelines/validate", "/pipelines/demo_shop/definition/validate"):
        response = api.request("POST", endpoint, content=body, headers={"Content-Type": content_type})
        assert response.status_code == 422, (endpoint, response.text)
        assert response.json()["valid"] is False and response.json()["errors"]
    assert api.request("PUT", "/pipelines/demo_shop/definition", content=body, headers={"Content-Type": content_type}).status_code == 422


def test_create_conflicts_replace_rules_and_unknown_ids(api: Api):
    assert api.request("POST", "/pipelines/validate", json=pipeline_doc("Fresh")).json() == {"valid": True, "id": "fresh"}
    _create(api, "Fresh")
    assert api.request("POST", "/pipelines", json=pipeline_doc("fresh")).status_code == 409  # same key
    assert api.request("POST", "/pipelines/validate", json=pipeline_doc("FRESH")).status_code == 409

    renamed = api.request("PUT", "/pipelines/fresh/definition", json=pipeline_doc("Other"))
    assert renamed.status_code == 400 and renamed.json()["errors"][0]["path"] == "name"
    assert api.request("POST", "/pipelines/fresh/definition/validate", json=pipeline_doc("Other")).status_code == 400
    would_change = api.request("POST", "/pipelines/fresh/definition/validate", json=pipeline_doc("Fresh", description="new"))
    assert would_change.json() == {"valid": True, "id": "fresh", "changed": True}
    assert api.request("GET", "/pipelines/fresh/definition").json()["description"] != "new"  # dry run only

    for method, path in [
        ("GET", "/pipelines/nope"),
        ("GET", "/pipelines/nope/definition"),
        ("PUT", "/pipelines/nope/definition"),
        ("POST", "/pipelines/nope/definition/validate"),
        ("POST", "/pipelines/nope/start"),
        ("POST", "/pipelines/nope/stop"),
        ("DELETE", "/pipelines/nope"),
        ("GET", "/pipelines/Demo%20Shop"),
        ("GET", "/pipelines/..%2F..%2Fetc"),
    ]:
        response = api.request(method, path, json=pipeline_doc("nope"))
        assert response.status_code == 404, (method, path)
        assert response.json()["error"] == "not_found"
    assert api.request("GET", "/nothing/here").status_code == 404
    wrong_method = api.request("PATCH", "/pipelines")
    assert wrong_method.status_code == 405 and set(wrong_method.headers["allow"].split(", ")) >= {"GET", "POST"}


def test_concurrent_writers_never_corrupt_a_document(api: Api):
    _create(api, "Contended")
    path = api.definitions / "pipelines" / "contended.yaml"
    docs = [pipeline_doc("Contended", description=f"writer {i} " + "x" * 2000) for i in range(16)]

    def put(doc):
        return api.request("PUT", "/pipelines/contended/definition", json=doc).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(put, docs)) == {200}
    assert yaml.safe_load(path.read_text()) in docs
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: api.request("POST", "/pipelines", json=pipeline_doc("Racer")).status_code, range(4)))
    assert sorted(statuses) == [201, 409, 409, 409]
    assert len(list((api.definitions / "pipelines").glob("racer*"))) == 1


@pytest.mark.filterwarnings("ignore:Error loading repository location:UserWarning")
def test_start_answers_503_when_the_code_location_does_not_load(api: Api):
    (api.workspace.parent / "code" / "restsync_api_test_defs.py").write_text("raise RuntimeError('broken on purpose')\n")
    response = api.request("POST", "/pipelines/demo_shop/start")
    assert response.status_code == 503 and "broken on purpose" in response.json()["message"]
    meta = api.request("GET", "/pipelines/demo_shop").json()
    assert meta["state"] == "unknown" and "broken on purpose" in meta["schedules_error"]
    assert api.request("DELETE", "/pipelines/demo_shop").status_code == 503
    assert (api.definitions / "pipelines" / "demo_shop.yaml").exists()


@pytest.mark.filterwarnings("ignore:Error loading repository location:UserWarning")
def test_get_shows_why_a_pipeline_is_not_loaded(api: Api):
    assert api.request("GET", "/pipelines/demo_shop").json()["errors"] == []
    path = api.definitions / "pipelines" / "demo_shop.yaml"
    path.write_text(path.read_text().replace("  frequency: 15", "  frequency: 0"))
    body = api.request("GET", "/pipelines/demo_shop").json()
    assert body["valid"] is False
    assert body["errors"] == [{"path": "sync.frequency", "message": "expected a number > 0, got 0", "line": 12}]
    connection = api.definitions / "connections" / "demo_receiver.yaml"
    connection.write_text(connection.read_text().replace("type: rest", "type: soap"))
    pushed = api.request("GET", "/pipelines/demo_contacts_push").json()
    assert pushed["valid"] is False and "connection 'demo_receiver' is invalid" in pushed["errors"][0]["message"]

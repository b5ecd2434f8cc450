"""The OpenAPI document describes the API: schemathesis finds no 5xx and no response that breaks it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from restsync_dagster.api.keys import KeyStore
from restsync_dagster.api.server import ApiServer
from tests.api.conftest import SHIPPED, write_workspace


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("openapi")
    definitions = tmp / "definitions"
    shutil.copytree(SHIPPED, definitions)
    home = tmp / "home"
    key = KeyStore.for_home(home).create("schemathesis-admin-key-do-not-revoke", admin=True)
    with ApiServer(definitions, home, workspace=write_workspace(tmp)) as server:
        yield server.base_url, key
        server.app.state.services.runtime.close()


@pytest.fixture(scope="module")
def api_schema(served):
    base, _ = served
    return schemathesis.openapi.from_url(f"{base}/api/public/v1/openapi.json")


def test_openapi_document_is_public_and_covers_every_route(served):
    base, _ = served
    doc = httpx.get(f"{base}/api/public/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m != "parameters"}
    assert operations == {
        ("GET", "/pipelines"),
        ("POST", "/pipelines"),
        ("POST", "/pipelines/validate"),
        ("GET", "/pipelines/{id}"),
        ("DELETE", "/pipelines/{id}"),
        ("GET", "/pipelines/{id}/definition"),
        ("PUT", "/pipelines/{id}/definition"),
        ("POST", "/pipelines/{id}/definition/validate"),
        ("POST", "/pipelines/{id}/start"),
        ("POST", "/pipelines/{id}/stop"),
        ("GET", "/keys"),
        ("POST", "/keys"),
        ("DELETE", "/keys/{name}"),
        ("GET", "/openapi.json"),
    }


def test_api_conforms_to_its_openapi_document(api_schema, served):
    """Every operation, positive and negative examples, with an admin key (bounded: a few examples each).

    ``positive_data_acceptance`` is left out: a document can match the JSON schema and still fail
    validation the schema cannot express (a connection id that does not exist, conflicting sync
    cadences), which is the 400 of seed 004, not a bug.
    """
    base, key = served
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {o.label for o in operations} >= {"POST /pipelines", "PUT /pipelines/{id}/definition", "DELETE /keys/{name}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(
                base_url=f"{base}/api/public/v1",
                headers={"Authorization": f"Bearer {key}"},
                excluded_checks=[positive_data_acceptance],
                timeout=60,
            )

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)

"""OAuth2 as SaaS APIs use it, against the demo API's token endpoint: a rotating refresh token kept
between runs, and a Google-style service account (JWT bearer)."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from deltalake import DeltaTable

from restsync_dagster.dagster.factory import build_definitions
from restsync_dagster.demo.server import DemoServer
from restsync_dagster.errors import AuthError
from restsync_dagster.http import RestClient
from restsync_dagster.http.token_store import TokenStore
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import make_project
from tests.http.helpers import connection, rsa_pem_pair
from tests.support import errors_in_threads

CUSTOMERS = "/auth/oauth2/offset/customers"


@pytest.fixture(scope="module")
def demo():
    with DemoServer(port=0) as server:
        yield server


@pytest.fixture
def api(demo) -> str:
    httpx.post(f"{demo.base_url}/_admin/reset").raise_for_status()
    return demo.base_url


def stats(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/_admin/stats").json()


def refresh_auth(**extra: Any) -> dict[str, Any]:
    return {"type": "oauth2_refresh_token", "token_url": "/oauth/token", "client_id": "demo-client",
            "client_secret": "demo-secret", "refresh_token": "demo-oauth-refresh", **extra}


def client_for(base: str, auth: dict, store: TokenStore, secrets: Secrets | None = None) -> RestClient:
    return RestClient(connection(base, id="crm", auth=auth), secrets=secrets if secrets is not None else Secrets(), token_store=store)


def get_page(client: RestClient) -> dict:
    return client.request("GET", CUSTOMERS, params={"limit": 5}).response.json()


def test_a_rotated_refresh_token_is_kept_and_used_by_the_next_run(api, tmp_path):
    store = TokenStore(tmp_path / "tokens")
    with client_for(api, refresh_auth(), store) as first:
        assert len(get_page(first)["data"]) == 5
        assert len(get_page(first)["data"]) == 5  # the access token is cached: one refresh
    assert stats(api)["refresh_grants"] == 1 and stats(api)["rotations"] == 1
    saved = tmp_path / "tokens" / "crm.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert "demo-oauth-refresh" not in saved.read_text()

    with client_for(api, refresh_auth(), store) as second:  # a new run: the configured token is spent
        assert len(get_page(second)["data"]) == 5
    assert stats(api)["refresh_grants"] == 2 and stats(api)["rotations"] == 2

    with client_for(api, refresh_auth(), TokenStore(tmp_path / "elsewhere")) as forgetful:
        with pytest.raises(AuthError) as caught:
            get_page(forgetful)
    message = str(caught.value)
    assert "invalid_grant" in message and "connect the account again" in message
    assert "demo-oauth-refresh" not in message and "demo-secret" not in message


def test_an_expired_access_token_is_refreshed_with_the_newest_refresh_token(api, tmp_path):
    store = TokenStore(tmp_path)
    with client_for(api, refresh_auth(), store) as client:
        get_page(client)
        httpx.post(f"{api}/_admin/expire_tokens").raise_for_status()
        get_page(client)
    assert stats(api)["refresh_grants"] == 2 and stats(api)["rotations"] == 2


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_client_authentication_basic_or_in_the_body(api, tmp_path, client_auth):
    auth = refresh_auth(client_auth=client_auth, scopes=["crm.read", "crm.write"], extra_body={"audience": "crm"})
    with client_for(api, auth, TokenStore(tmp_path)) as client:
        get_page(client)
    seen = stats(api)
    assert seen["last_client_auth"] == client_auth
    assert seen["last_oauth_request"]["scope"] == "crm.read crm.write"
    assert seen["last_oauth_request"]["audience"] == "crm"
    assert ("client_id" in seen["last_oauth_request"]) == (client_auth == "body")


def test_two_processes_refreshing_at_once_never_spend_the_same_token(api, tmp_path):
    store_dir = tmp_path / "tokens"

    def run() -> None:
        with client_for(api, refresh_auth(), TokenStore(store_dir)) as client:
            get_page(client)

    assert errors_in_threads([run] * 4) == []
    assert stats(api)["rotations"] == 4


def test_refresh_tokens_never_reach_the_log(api, tmp_path, caplog):
    secrets = Secrets()
    caplog.set_level(logging.DEBUG)
    store = TokenStore(tmp_path)
    with client_for(api, refresh_auth(), store, secrets) as client:
        get_page(client)
    rotated = json.loads((tmp_path / "crm.json").read_text()).popitem()[1]
    assert rotated in secrets and "demo-oauth-refresh" in secrets
    assert rotated not in caplog.text and "demo-oauth-refresh" not in caplog.text


# ----------------------------------------------------------------------------- JWT bearer
@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return rsa_pem_pair()


def service_account(path: Path, base: str, private: str, email: str = "sync@demo.iam") -> Path:
    path.write_text(json.dumps({"type": "service_account", "client_email": email, "private_key_id": "k1",
                                "private_key": private, "token_uri": f"{base}/oauth/token"}))
    return path


def test_a_service_account_key_file_is_exchanged_for_an_access_token(api, tmp_path, keys):
    private, public = keys
    httpx.post(f"{api}/_admin/jwt_keys", json={"issuer": "sync@demo.iam", "public_key": public}).raise_for_status()
    key_file = service_account(tmp_path / "sa.json", api, private)
    auth = {"type": "jwt_bearer", "key_file": str(key_file), "subject": "admin@demo",
            "scopes": ["https://www.googleapis.com/auth/webmasters.readonly"]}
    secrets = Secrets()
    with client_for(api, auth, TokenStore(tmp_path), secrets) as client:
        assert len(get_page(client)["data"]) == 5
        get_page(client)
    seen = stats(api)
    assert seen["jwt_grants"] == 1
    assert seen["last_jwt_claims"] == {"iss": "sync@demo.iam", "sub": "admin@demo", "aud": f"{api}/oauth/token",
                                       "scope": "https://www.googleapis.com/auth/webmasters.readonly"}
    assert private in secrets


def test_a_pem_key_with_the_wrong_signer_fails_clearly(api, tmp_path, keys):
    _, public = keys
    other, _ = rsa_pem_pair()
    httpx.post(f"{api}/_admin/jwt_keys", json={"issuer": "etl@demo", "public_key": public}).raise_for_status()
    auth = {"type": "jwt_bearer", "private_key": other, "issuer": "etl@demo", "token_url": "/oauth/token"}
    with client_for(api, auth, TokenStore(tmp_path)) as client, pytest.raises(AuthError) as caught:
        get_page(client)
    message = str(caught.value)
    assert "JWT bearer token request failed (invalid_grant" in message and "status 400" in message
    assert all(line not in message for line in other.splitlines()[1:-2])


def test_a_missing_key_file_names_the_file(api, tmp_path):
    auth = {"type": "jwt_bearer", "key_file": str(tmp_path / "nope.json")}
    with client_for(api, auth, TokenStore(tmp_path)) as client, pytest.raises(AuthError, match="cannot read jwt_bearer key_file"):
        get_page(client)


# ----------------------------------------------------------------------------- end to end
def test_a_dagster_run_syncs_through_a_rotating_refresh_token_twice(api, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CRM_REFRESH_TOKEN", "demo-oauth-refresh")
    table = {"name": "customers", "path": CUSTOMERS, "response": {"root_key": "data"}, "primary_key": ["id"],
             "pagination": {"type": "offset", "page_size": 1000, "total_path": "total"}}
    conn = {"id": "demo", "type": "rest", "base_url": api,
            "auth": refresh_auth(refresh_token="{{ env.CRM_REFRESH_TOKEN }}")}
    project = make_project(tmp_path, api, [table], extra_docs={"connections/demo.yaml": conn})
    for _ in range(2):
        defs = build_definitions(project=project)
        result = dg.materialize(list(defs.get_repository_def().assets_defs_by_key.values()),
                                instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
        assert result.success, result.get_run_failure_event()
    assert DeltaTable(str(tmp_path / "lake" / "shop" / "customers")).to_pyarrow_table().num_rows == 10_000
    assert stats(api)["rotations"] == 2
    stored = tmp_path / "home" / "restsync" / "tokens" / "demo.json"
    assert stored.exists() and stat.S_IMODE(os.stat(stored).st_mode) == 0o600

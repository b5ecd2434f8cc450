"""API keys: every endpoint refuses a missing, wrong, revoked or expired key; key management needs admin."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from restsync_dagster.api.commands import keys_group
from restsync_dagster.api.keys import KeyStore, KeyStoreError
from tests.api.conftest import Api, pipeline_doc

ENDPOINTS = [
    ("GET", "/pipelines"),
    ("POST", "/pipelines"),
    ("POST", "/pipelines/validate"),
    ("GET", "/pipelines/demo_shop"),
    ("DELETE", "/pipelines/demo_shop"),
    ("GET", "/pipelines/demo_shop/definition"),
    ("PUT", "/pipelines/demo_shop/definition"),
    ("POST", "/pipelines/demo_shop/definition/validate"),
    ("POST", "/pipelines/demo_shop/start"),
    ("POST", "/pipelines/demo_shop/stop"),
    ("GET", "/keys"),
    ("POST", "/keys"),
    ("DELETE", "/keys/test-admin"),
]
KEY_ENDPOINTS = [e for e in ENDPOINTS if e[1].startswith("/keys")]


def _bad_keys(api: Api) -> dict[str, dict[str, str]]:
    revoked = api.keys.create("revoked-admin", admin=True)
    api.keys.revoke("revoked-admin")
    three_days_ago = KeyStore(api.keys.path, clock=lambda: time.time() - 3 * 86400)
    expired = three_days_ago.create("expired-admin", expires_days=1, admin=True)
    return {
        "missing": {},
        "wrong": {"Authorization": "Bearer rsk_" + "x" * 43},
        "wrong scheme": {"Authorization": f"Basic {api.admin_key}"},
        "not a key": {"Authorization": "Bearer hello"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "expired": {"Authorization": f"Bearer {expired}"},
    }


def test_every_endpoint_refuses_missing_wrong_revoked_and_expired_keys(api: Api):
    bad = _bad_keys(api)
    for method, path in ENDPOINTS:
        for label, headers in bad.items():
            response = api.client.request(method, api.base + path, headers=headers, json=pipeline_doc("x"))
            assert response.status_code == 401, (method, path, label, response.text)
            body = response.json()
            assert body["error"] == "unauthorized" and "rsk_" not in body["message"].replace("rsk_...", "")
            assert response.headers["www-authenticate"].startswith("Bearer")
            if "Authorization" in headers:
                assert headers["Authorization"].split()[-1] not in response.text
    # Nothing happened: the pipeline is still there and the admin key still works.
    assert api.request("GET", "/pipelines/demo_shop").status_code == 200


def test_key_endpoints_need_an_admin_key(api: Api):
    user = api.keys.create("reader")
    for method, path in KEY_ENDPOINTS:
        response = api.request(method, path, key=user, json={"name": "another"})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "forbidden"
    assert api.request("GET", "/pipelines", key=user).status_code == 200
    assert [k.name for k in api.keys.list()] == ["test-admin", "reader"]


def test_mint_list_and_revoke_keys_through_the_api(api: Api):
    minted = api.request("POST", "/keys", json={"name": "ci", "expires_days": 30})
    assert minted.status_code == 201, minted.text
    value = minted.json()["key"]
    assert value.startswith("rsk_") and minted.json()["admin"] is False and minted.json()["expires_at"]
    assert api.request("GET", "/pipelines", key=value).status_code == 200

    listed = api.request("GET", "/keys")
    assert listed.status_code == 200
    assert value not in listed.text and value[len("rsk_") + 6 :] not in api.keys.path.read_text()
    names = {k["name"]: k for k in listed.json()["keys"]}
    assert names["ci"]["status"] == "active" and names["ci"]["prefix"] == value[:10]

    assert api.request("POST", "/keys", json={"name": "ci"}).status_code == 409
    assert api.request("POST", "/keys", json={"name": "ci2", "colour": "red"}).status_code == 422
    assert api.request("POST", "/keys", json={"name": "ci2", "admin": "yes"}).status_code == 422
    assert api.request("POST", "/keys", content=b"[1, 2]", headers={"Content-Type": "application/json"}).status_code == 422
    bad_name = api.request("POST", "/keys", json={"name": "no spaces please"})
    assert bad_name.status_code == 400 and bad_name.json()["errors"][0]["path"] == "name"
    assert api.request("POST", "/keys", json={"name": "ci3", "expires_days": 0}).status_code == 400

    revoked = api.request("DELETE", "/keys/ci")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert api.request("GET", "/pipelines", key=value).status_code == 401
    assert api.request("DELETE", "/keys/ci").status_code == 404
    assert api.request("DELETE", "/keys/never-existed").status_code == 404


def test_key_store_keeps_only_salted_hashes(tmp_path):
    store = KeyStore(tmp_path / "keys.json")
    a = store.create("a", admin=True)
    b = store.create("b", expires_days=2)
    raw = json.loads((tmp_path / "keys.json").read_text())
    assert a not in json.dumps(raw) and b not in json.dumps(raw)
    salts = {k["salt"] for k in raw["keys"]}
    assert len(salts) == 2
    assert store.verify(a).name == "a" and store.verify(a).admin
    assert store.verify(b).name == "b" and not store.verify(b).admin
    assert store.verify(a[:-1] + ("A" if a[-1] != "A" else "B")) is None
    assert store.verify("") is None and store.verify(None) is None
    later = KeyStore(tmp_path / "keys.json", clock=lambda: time.time() + 3 * 86400)
    assert later.verify(b) is None and later.verify(a) is not None
    with pytest.raises(KeyStoreError):
        store.create("a")
    store.revoke("a")
    assert store.verify(a) is None
    store.create("a")  # the name is free again once revoked
    with pytest.raises(KeyStoreError):
        store.create("bad name")


def test_keys_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    created = runner.invoke(keys_group, ["create", "ops", "--expires", "7", "--admin"])
    assert created.exit_code == 0, created.output
    value = created.stdout.strip().splitlines()[0]
    assert value.startswith("rsk_")
    store = KeyStore.for_home(tmp_path / "home")
    assert store.verify(value).admin
    listed = runner.invoke(keys_group, ["list"])
    assert listed.exit_code == 0 and "ops" in listed.output and value not in listed.output and "admin" in listed.output
    assert runner.invoke(keys_group, ["create", "ops"]).exit_code == 1
    assert runner.invoke(keys_group, ["revoke", "ops"]).exit_code == 0
    assert store.verify(value) is None
    assert runner.invoke(keys_group, ["revoke", "ops"]).exit_code == 1


def test_dagster_home_defaults_to_dot_dagster_home_created_on_demand(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    created = CliRunner().invoke(keys_group, ["create", "first", "--admin"])
    assert created.exit_code == 0, created.output
    assert (tmp_path / ".dagster_home" / "restsync" / "keys.json").is_file()

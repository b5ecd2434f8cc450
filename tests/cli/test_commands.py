"""Each ``restsync`` command run for real against the demo API, once working and once failing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from deltalake import DeltaTable

from restsync_dagster.cli import main
from tests.cli.helpers import free_port
from tests.dagster.conftest import make_project

RESTSYNC = str(Path(sys.executable).with_name("restsync"))


def test_validate_prints_each_pipeline(runner, defs):
    result = runner.invoke(main, ["validate", str(defs)])
    assert result.exit_code == 0, result.output
    assert "shop: demo (rest) -> lake (delta), 1 table, every 60 min; schedules off" in result.output
    assert "ok: 1 pipeline(s), 3 connection(s), 0 hook(s)" in result.output


def test_validate_names_the_file_and_field_of_an_error(runner, defs):
    bad = defs / "pipelines" / "shop.yaml"
    bad.write_text(bad.read_text().replace("page_size: 20", "page_size: -1"))
    result = runner.invoke(main, ["validate", str(defs)])
    assert result.exit_code == 1
    assert "shop.yaml" in result.output and "page_size" in result.output
    assert "1 error(s); not loaded (the rest loads and runs): pipeline 'shop'" in result.output


def test_ping_ok(runner, defs, demo):
    result = runner.invoke(main, ["ping", "demo", "--dir", str(defs)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")


def test_ping_fails_on_a_closed_port(runner, defs):
    result = runner.invoke(main, ["ping", "down", "--dir", str(defs)])
    assert result.exit_code == 1
    assert result.output.startswith("FAILED: ")


def test_ping_unknown_connection(runner, defs):
    result = runner.invoke(main, ["ping", "nope", "--dir", str(defs)])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_preview_shows_pages_and_schema(runner, defs):
    result = runner.invoke(main, ["preview", "shop", "customers", "--pages", "2", "--dir", str(defs)])
    assert result.exit_code == 0, result.output
    assert "40 records in 2 page(s), 2 request(s)" in result.output
    assert "schema" in result.output and "email" in result.output


def test_preview_unknown_table(runner, defs):
    result = runner.invoke(main, ["preview", "shop", "nope", "--dir", str(defs)])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_preview_of_a_table_with_no_partition_yet_is_a_usage_error(runner, demo, tmp_path):
    table = {"name": "later", "path": "/offset/customers", "response": {"root_key": "data"},
             "partitions": {"type": "daily", "start": "2999-01-01"}}
    root = make_project(tmp_path, demo.base_url, [table]).root
    result = runner.invoke(main, ["preview", "shop", "later", "--dir", str(root)])
    assert result.exit_code == 2, result.output
    assert "table 'later' has no partition yet: its partitions start 2999-01-01" in result.output


def _run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DAGSTER_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([RESTSYNC, *args], env=env, capture_output=True, text=True, timeout=300)


def test_sync_writes_the_delta_table(defs, home, tmp_path):
    result = _run("sync", "shop", "--dir", str(defs), home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr, result.stderr
    table = DeltaTable(str(tmp_path / "lake" / "shop" / "customers"))
    assert table.to_pyarrow_table().num_rows == 50


def test_sync_of_a_table_with_no_partition_yet_is_a_usage_error(demo, home, tmp_path):
    table = {"name": "later", "path": "/offset/customers", "response": {"root_key": "data"},
             "partitions": {"type": "daily", "start": "2999-01-01"}}
    root = make_project(tmp_path, demo.base_url, [table]).root
    result = _run("sync", "shop", "--dir", str(root), home=home)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "table 'later' has no partition yet: its partitions start 2999-01-01" in result.stderr


def test_sync_unknown_pipeline(defs, home):
    result = _run("sync", "nope", "--dir", str(defs), home=home)
    assert result.returncode == 2
    assert "nope" in result.stderr


def test_keys_create_list_revoke(runner, home):
    created = runner.invoke(main, ["keys", "create", "ops", "--admin"])
    assert created.exit_code == 0, created.output
    value = created.output.splitlines()[0]
    assert value.startswith("rsk_")
    listed = runner.invoke(main, ["keys", "list"])
    assert listed.exit_code == 0
    assert "ops\t" in listed.output and "admin" in listed.output and value not in listed.output
    assert (home / "restsync").is_dir()
    revoked = runner.invoke(main, ["keys", "revoke", "ops"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output


def test_keys_revoke_unknown(runner, home):
    result = runner.invoke(main, ["keys", "revoke", "nope"])
    assert result.exit_code == 1
    assert "nope" in result.output


def test_docs_check_fails_when_stale(runner, tmp_path):
    out = tmp_path / "reference.md"
    assert runner.invoke(main, ["docs", "--out", str(out)]).exit_code == 0
    assert runner.invoke(main, ["docs", "--check", "--out", str(out)]).exit_code == 0
    out.write_text(out.read_text() + "edited\n")
    result = runner.invoke(main, ["docs", "--check", "--out", str(out)])
    assert result.exit_code == 1
    assert "run `make docs`" in result.output


def test_api_serves_pipelines(runner, defs, home):
    key = runner.invoke(main, ["keys", "create", "ops"]).output.splitlines()[0]
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    proc = subprocess.Popen([RESTSYNC, "api", "--port", str(port), "--dir", str(defs)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/api/public/v1"
        assert "restsync API on" in proc.stdout.readline()
        _wait_up(f"{base}/openapi.json", proc)
        listed = httpx.get(f"{base}/pipelines", headers={"Authorization": f"Bearer {key}"})
        assert listed.status_code == 200
        assert "shop" in listed.text
        anonymous = httpx.get(f"{base}/pipelines")
        assert anonymous.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_api_bad_port(defs, home):
    result = _run("api", "--port", "not-a-port", "--dir", str(defs), home=home)
    assert result.returncode == 2
    assert "not-a-port" in result.stderr


def _wait_up(url: str, proc: subprocess.Popen) -> None:
    for _ in range(600):
        assert proc.poll() is None, "restsync api exited"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")

"""Loading the shipped folder, env-less loading without leaks, the CLI and the code location."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from restsync_dagster.cli import main
from restsync_dagster.config import load_project
from restsync_dagster.config.templating import Renderer
from restsync_dagster.errors import ConfigError, TemplateError
from restsync_dagster.secrets import Secrets
from tests.support import base_docs, write_docs  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "definitions_yaml"


def test_shipped_examples_cover_every_feature():
    project = load_project(SHIPPED)
    auth_kinds = {c.auth.type for c in project.connections.values() if c.type == "rest"}
    auth_kinds |= {t.auth.type for p in project.pipelines.values() for t in p.tables if t.auth}
    assert auth_kinds >= {"none", "basic", "bearer", "api_key", "token", "oauth2_client_credentials", "cookie",
                          "oauth2_refresh_token"}
    tables = [t for p in project.pipelines.values() for t in p.tables]
    assert {t.pagination.type for t in tables if t.pagination} == {
        "offset", "page_number", "cursor", "next_link", "link_header", "keyset"
    }
    assert {x.type for p in project.pipelines.values() for x in p.transformations} == {
        "exclude_fields", "rename_fields", "toggle_case", "find_and_replace", "replace_in_field_name", "history_mode",
        "filter_rows",
    }
    saas = project.pipeline("demo_saas").tables
    assert any(t.response.skip_statuses for t in saas) and any(t.response.error_path for t in saas)
    assert any(t.incremental and t.incremental.window for t in saas)
    assert any(t.fan_out for t in saas) and any(t.job for t in saas)
    assert any(t.pagination and t.pagination.stop_on_empty_page for t in saas)
    assert any(t.pagination and t.pagination.inject and t.pagination.inject.into == "body" for t in saas)
    assert any(t.response.explode for t in saas) and any(t.response.format == "header_rows" for t in saas)
    assert any(t.response.compression for t in saas) and any("page.cursor" in str(t.body) for t in saas)
    assert any(t.partitions for t in tables) and any(t.incremental for t in tables) and any(t.parent for t in tables)
    assert project.hooks and any(p.hooks for p in project.pipelines.values())
    assert any(project.connection(p.destination.connection.id).type == "rest" for p in project.pipelines.values())
    assert any(str(c.base_url).startswith("http://127.0.0.1:8765") for c in project.connections.values() if c.type == "rest")


SECRET_VALUES = {"API_TOKEN": "tok-SECRET-4711", "HOOK_URL": "https://hooks.example/SECRET-9"}


def test_unset_env_vars_warn_without_failing_or_leaking(base_docs, tmp_path, monkeypatch, caplog):
    for name in ("API_TOKEN", "HOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.DEBUG)
    project = load_project(write_docs(tmp_path / "ok", base_docs))
    assert project.missing_env == {"API_TOKEN", "HOOK_URL"}
    (warning,) = [w for w in project.warnings if "environment variables" in w.message]
    assert "API_TOKEN, HOOK_URL" in warning.message
    assert "API_TOKEN, HOOK_URL" in caplog.text


def test_set_env_values_never_appear_in_errors_or_logs(base_docs, tmp_path, monkeypatch, caplog):
    for name, value in SECRET_VALUES.items():
        monkeypatch.setenv(name, value)
    base_docs["connections/api.yaml"]["auth"]["token"] = "{{ env.API_TOKEN }}"
    base_docs["connections/api.yaml"]["timeout_s"] = "{{ env.API_TOKEN }}"  # a template where a number belongs
    base_docs["pipelines/p.yaml"]["tables"][0]["params"] = {"x": "{{ env.API_TOKEN "}
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as info:
        load_project(write_docs(tmp_path / "bad", base_docs))
    text = str(info.value) + caplog.text + repr(info.value.issues)
    for value in SECRET_VALUES.values():
        assert value not in text
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "bad")])
    assert result.exit_code == 1
    for value in SECRET_VALUES.values():
        assert value not in result.output


def test_render_registers_env_values_as_secrets():
    secrets = Secrets()
    renderer = Renderer(secrets, environ={"TOKEN": "s3cr3t-value"})
    assert renderer.render({"h": "Bearer {{ env.TOKEN }}"}) == {"h": "Bearer s3cr3t-value"}
    assert secrets.redact("got s3cr3t-value back") == "got *** back"
    with pytest.raises(TemplateError) as info:
        renderer.render_str("{{ env.MISSING }}", where="auth.token")
    assert "MISSING" in str(info.value) and "auth.token" in str(info.value)


def test_validate_cli_ok_prints_one_line_per_pipeline():
    result = CliRunner().invoke(main, ["validate", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any(line.startswith("demo_shop: demo_public (rest) -> lake (delta), 4 tables") for line in lines)
    assert lines[-1].startswith("ok: 5 pipeline(s)")


def test_validate_cli_reports_every_error_and_exits_1(base_docs, tmp_path):
    base_docs["pipelines/p.yaml"]["sync"]["frequency"] = 0
    base_docs["hooks/h.yaml"]["typo"] = True
    result = CliRunner().invoke(main, ["validate", str(write_docs(tmp_path / "d", base_docs))])
    assert result.exit_code == 1
    assert "sync.frequency: expected a number > 0, got 0" in result.output
    assert "typo: unknown key 'typo'" in result.output
    assert "2 error(s)" in result.output


def test_code_location_loads_and_reports_a_broken_pipeline_with_the_same_messages(base_docs, tmp_path):
    good = write_docs(tmp_path / "good", base_docs)
    base_docs["pipelines/p.yaml"]["tables"][0]["pagination"]["page_size"] = 0
    bad = write_docs(tmp_path / "bad", base_docs)
    code = (
        "import restsync_dagster.definitions as d; r = d.defs.get_repository_def(); "
        "print(sorted(s.name for s in r.sensor_defs)); print(d.defs.metadata)"
    )
    env = dict(os.environ, RESTSYNC_DEFINITIONS_DIR=str(good))
    ok = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "restsync_invalid_" not in ok.stdout
    env["RESTSYNC_DEFINITIONS_DIR"] = str(bad)
    loaded = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "restsync_invalid_pipeline_p" in loaded.stdout
    assert "tables[0].pagination.page_size: expected a number > 0, got 0" in loaded.stdout

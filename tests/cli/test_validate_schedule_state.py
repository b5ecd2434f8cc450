"""`restsync validate` says for every pipeline whether its schedules are on or off."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from restsync_dagster.cli import main
from tests.support import BASE_DOCS, write_docs


def test_validate_prints_each_pipelines_schedule_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    docs = {k: v for k, v in BASE_DOCS.items()}
    off = dict(docs["pipelines/p.yaml"], name="q", sync={"frequency": 5, "enabled": False})
    docs["pipelines/q.yaml"] = off
    root = write_docs(tmp_path / "defs", docs)
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 0, result.output
    lines = {line.split(":")[0]: line for line in result.output.splitlines()}
    assert lines["p"].endswith("every 5 min; schedules on")
    assert lines["q"].endswith("every 5 min; schedules off")


def test_the_shipped_examples_have_their_schedules_off():
    shipped = Path(__file__).resolve().parents[2] / "definitions_yaml"
    result = CliRunner().invoke(main, ["validate", str(shipped)])
    assert result.exit_code == 0, result.output
    pipelines = [line for line in result.output.splitlines() if "->" in line]
    assert pipelines and all(line.endswith("schedules off") for line in pipelines)

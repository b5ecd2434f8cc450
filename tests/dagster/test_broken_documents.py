"""One invalid document stops only its own pipeline (and those using it); the rest keeps ticking."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import dagster as dg
import pytest
import yaml
from click.testing import CliRunner

from restsync_dagster.cli import main
from restsync_dagster.config import load_project
from restsync_dagster.dagster.broken import METADATA_KEY
from restsync_dagster.dagster.factory import build_definitions
from restsync_dagster.errors import ConfigError
from tests.support import base_docs, write_docs  # noqa: F401 (fixture)

WHEN = datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def folder(tmp_path, base_docs):
    """Pipelines p and q on connection api, r on connection other; all valid."""
    for name, conn in (("q", "api"), ("r", "other")):
        doc = copy.deepcopy(base_docs["pipelines/p.yaml"])
        doc["name"] = name
        doc["source"]["connection"]["id"] = conn
        base_docs[f"pipelines/{name}.yaml"] = doc
    base_docs["connections/other.yaml"] = {"id": "other", "type": "rest", "base_url": "http://127.0.0.1:9"}
    return write_docs(tmp_path / "defs", base_docs)


def edit(path, change):
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def ticks(defs: dg.Definitions, name: str) -> int:
    schedule = defs.resolve_schedule_def(name)
    return len(schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=WHEN)).run_requests)


def test_other_pipelines_tick_and_the_broken_one_is_reported(folder):
    assert {ticks(build_definitions(folder), f"{p}_sync_schedule") for p in "pqr"} == {1}
    edit(folder / "pipelines/p.yaml", lambda d: d["tables"][0]["pagination"].update(page_size=0))

    defs = build_definitions(folder)
    repo = defs.get_repository_def()
    assert ticks(defs, "q_sync_schedule") == 1 and ticks(defs, "r_sync_schedule") == 1
    assert "p_sync_schedule" not in {s.name for s in repo.schedule_defs}
    assert not [key for key in repo.assets_defs_by_key if key.path[0] == "p"]

    expected = "pipelines/p.yaml:16: tables[0].pagination.page_size: expected a number > 0, got 0"
    sensor = repo.get_sensor_def("restsync_invalid_pipeline_p")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert expected in sensor.description
    with pytest.raises(ConfigError, match="page_size: expected a number > 0"):
        sensor.evaluate_tick(dg.build_sensor_context())
    assert expected in defs.metadata[METADATA_KEY].value

    with pytest.raises(ConfigError):
        load_project(folder, environ={})
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1
    assert expected in result.output and "not loaded (the rest loads and runs): pipeline 'p'" in result.output
    assert "q: api (rest) -> lake (delta)" in result.output


def test_a_broken_connection_disables_the_pipelines_that_use_it(folder):
    edit(folder / "connections/other.yaml", lambda d: d.update(base_url=" "))
    project = load_project(folder, environ={}, strict=False)
    assert sorted(project.pipelines) == ["p", "q"] and "other" not in project.connections
    broken = {b.label: b for b in project.broken}
    assert set(broken) == {"connection 'other'", "pipeline 'r'"}
    assert broken["pipeline 'r'"].message().endswith(
        "pipelines/r.yaml:5: source.connection.id: pipeline disabled: connection 'other' is invalid "
        f"(see {folder}/connections/other.yaml)"
    )

    defs = build_definitions(project=project)
    repo = defs.get_repository_def()
    assert ticks(defs, "p_sync_schedule") == 1
    assert {"restsync_invalid_connection_other", "restsync_invalid_pipeline_r"} <= {s.name for s in repo.sensor_defs}
    assert "r_sync_schedule" not in {s.name for s in repo.schedule_defs}


def test_a_file_that_does_not_parse_is_reported_by_file_name(folder):
    (folder / "pipelines/q.yaml").write_bytes(b"name: q\n\xff\n")
    project = load_project(folder, environ={}, strict=False)
    assert sorted(project.pipelines) == ["p", "r"]
    [broken] = project.broken
    assert broken.id is None and broken.file.endswith("pipelines/q.yaml")
    repo = build_definitions(project=project).get_repository_def()
    assert "restsync_invalid_pipeline_q" in {s.name for s in repo.sensor_defs}


def test_sync_refuses_only_the_broken_pipeline(folder):
    edit(folder / "pipelines/p.yaml", lambda d: d["tables"][0]["pagination"].update(page_size=0))
    refused = CliRunner().invoke(main, ["sync", "p", "--dir", str(folder)])
    assert refused.exit_code == 1
    assert "page_size: expected a number > 0, got 0" in refused.output
    assert refused.output.strip().splitlines()[-1] == "1 error(s) in pipeline 'p'; nothing was run."
    unknown = CliRunner().invoke(main, ["sync", "nope", "--dir", str(folder)])
    assert unknown.exit_code == 2 and "no pipeline named 'nope'" in unknown.output

"""A failed sync ends with restsync's own message and its exit code, in the CLI and in Dagster's event log."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from restsync_dagster.dagster.run import materialize_pipeline
from restsync_dagster.errors import HttpError, SchemaError
from tests.dagster.conftest import CUSTOMERS, make_project

RESTSYNC = str(Path(sys.executable).with_name("restsync"))


def failing_500() -> dict:
    table = copy.deepcopy(CUSTOMERS)
    table["params"]["fail_status"] = "500"
    return table


def bad_schema() -> dict:
    table = copy.deepcopy(CUSTOMERS)
    table["schema"][0]["type"] = "boolean"  # ids are 1, 2, 3...
    return table


def sync(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"DAGSTER_HOME": str(home)}
    return subprocess.run(
        [RESTSYNC, "sync", "shop", "--dir", str(tmp_path / "defs"), *args],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


def test_persistent_500_ends_with_the_http_cause_and_exit_3(tmp_path, demo_reset):
    make_project(tmp_path, demo_reset.base_url, [failing_500()])
    done = sync(tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == HttpError.exit_code == 3, output
    closing = last_line(done.stderr)
    assert closing.startswith("shop/customers failed: connection 'demo', table 'customers': GET ")
    assert "last status 500" in closing and "(HttpError; check the service" in closing
    for noise in ("Traceback", "Stack Trace", "Error occurred while executing", "Telemetry", "Welcome to Dagster"):
        assert noise not in output
    assert "telemetry:\n  enabled: false" in (tmp_path / "home" / "dagster.yaml").read_text()


def test_bad_schema_value_ends_with_the_column_and_row_and_plain_progress(tmp_path, demo_reset):
    make_project(tmp_path, demo_reset.base_url, [bad_schema()])
    done = sync(tmp_path)
    assert done.returncode == SchemaError.exit_code == 5, done.stderr
    closing = last_line(done.stderr)
    assert "shop/customers failed: table 'customers': column 'id' (boolean) cannot take 2 in row 2" in closing
    assert "(page 1)" in closing and "SchemaError" in closing
    assert "customers: 1,000 rows, 1 pages" in done.stderr  # plain lines, stdout is a pipe
    assert "\x1b[" not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_debug_shows_the_stack_trace(tmp_path, demo_reset):
    make_project(tmp_path, demo_reset.base_url, [bad_schema()])
    done = sync(tmp_path, "--debug")
    assert done.returncode == 5
    assert 'File "' in done.stderr and "SchemaError" in done.stderr
    assert last_line(done.stderr).startswith("shop/customers failed: table 'customers'")


def test_step_failure_in_the_event_log_carries_restsyncs_message(tmp_path, demo_reset):
    project = make_project(tmp_path, demo_reset.base_url, [failing_500()])
    with dg.DagsterInstance.ephemeral() as instance:
        [result] = materialize_pipeline(project, project.pipeline("shop"), project.pipeline("shop").tables, dagster_instance=instance)
        assert not result.success
        records = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    [record] = records
    data = record.dagster_event.step_failure_data
    assert data.error.cls_name == "Failure"
    assert data.error.message.startswith("dagster._core.definitions.events.Failure: connection 'demo', table 'customers': GET")
    failure = data.user_failure_data
    assert "last status 500" in failure.description
    assert failure.metadata["restsync/error_class"].value == "HttpError"
    assert failure.metadata["restsync/exit_code"].value == 3
    assert failure.metadata["restsync/table"].value == "shop/customers"

"""Pipelines whose Delta connection is an ``s3://`` root on a local S3-compatible server: sync
(merge and partitions), maintenance, and REST delivery staged on S3, with credentials from ``env``
that never reach an event, metadata or error."""

from __future__ import annotations

import dagster as dg
import httpx
import polars as pl
import pytest
from deltalake import DeltaTable

from restsync_dagster.dagster.factory import build_definitions
from tests.dagster.conftest import CONTACTS as BASE_CONTACTS, CUSTOMERS, EVENTS, make_project
from tests.s3server import ACCESS_KEY, SECRET_KEY

CONTACTS = dict(BASE_CONTACTS, max_records=20)


@pytest.fixture
def s3_env(s3, monkeypatch):
    """A Delta connection document on S3 whose keys come from the environment, as a user writes it."""
    monkeypatch.setenv("RS_TEST_S3_KEY", ACCESS_KEY)
    monkeypatch.setenv("RS_TEST_S3_SECRET", SECRET_KEY)
    root = s3.prefix()
    connection = {
        "id": "lake",
        "type": "delta",
        "path": root,
        "storage_options": {
            "AWS_ACCESS_KEY_ID": "{{ env.RS_TEST_S3_KEY }}",
            "AWS_SECRET_ACCESS_KEY": "{{ env.RS_TEST_S3_SECRET }}",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": s3.endpoint,
            "AWS_ALLOW_HTTP": "true",
        },
    }
    return root, connection


def _everything(instance: dg.DagsterInstance, run_id: str) -> str:
    parts = [str(instance.get_run_by_id(run_id).run_config)]
    for record in instance.all_logs(run_id):
        parts.append(record.user_message or "")
        parts.append(str(record.dagster_event) if record.dagster_event else "")
    return "\n".join(parts)


def _assert_no_secret(text: str) -> None:
    assert ACCESS_KEY not in text and SECRET_KEY not in text


def _read(s3, uri: str) -> pl.DataFrame:
    return pl.from_arrow(DeltaTable(uri, storage_options=s3.storage_options()).to_pyarrow_table())


def test_sync_partitions_and_maintenance_on_s3(demo_reset, tmp_path, s3, s3_env):
    root, connection = s3_env
    project = make_project(tmp_path, demo_reset.base_url, [CUSTOMERS, EVENTS],
                           extra_docs={"connections/lake.yaml": connection},
                           sync={"source_frequency": 60, "destination_frequency": 1440})
    defs = build_definitions(project=project)
    with dg.instance_for_test() as instance:
        runs = [defs.resolve_job_def("shop_sync").execute_in_process(instance=instance, raise_on_error=False)]
        daily = defs.resolve_job_def("shop_sync_daily")
        for key in ("2026-01-02", "2026-01-03", "2026-01-02"):
            runs.append(daily.execute_in_process(instance=instance, partition_key=key, raise_on_error=False))
        runs.append(defs.resolve_job_def("shop_maintenance").execute_in_process(instance=instance, raise_on_error=False))
        for run in runs:
            assert run.success, run.get_run_failure_event()
        (mat,) = runs[0].asset_materializations_for_node("shop__customers")
        assert mat.metadata["restsync/table_uri"].value == f"{root}/shop/customers"
        text = "\n".join(_everything(instance, run.run_id) for run in runs)
    _assert_no_secret(text)

    customers = _read(s3, f"{root}/shop/customers")
    assert customers.height == mat.metadata["dagster/row_count"].value > 0
    assert customers["id"].is_unique().all()
    events = _read(s3, f"{root}/shop/events")
    assert sorted(events["_restsync_partition"].unique().to_list()) == ["2026-01-02", "2026-01-03"]
    assert events.height == events.select("id", "_restsync_partition").unique().height
    (output,) = [e for e in runs[-1].all_events if e.event_type_value == "STEP_OUTPUT"]
    assert set(output.step_output_data.metadata["tables"].value) == {"customers", "events"}


def test_delivery_log_and_rejects_staged_on_s3(demo_reset, tmp_path, s3, s3_env):
    root, connection = s3_env
    base = demo_reset.base_url
    rejected = dict(CONTACTS, name="no_email", columns={"exclude": ["email"]})
    project = make_project(
        tmp_path, base, [CONTACTS, rejected],
        destination={"connection": {"id": "out"}, "request": {"path": "/receiver/contacts/#{id}", "method": "PUT"}},
        staging={"connection": {"id": "lake"}},
        extra_docs={"connections/lake.yaml": connection,
                    "connections/out.yaml": {"id": "out", "type": "rest", "base_url": base}},
    )
    defs = build_definitions(project=project)
    with dg.instance_for_test() as instance:
        first = defs.resolve_job_def("shop_sync").execute_in_process(instance=instance, raise_on_error=False)
        second = defs.resolve_job_def("shop_sync").execute_in_process(instance=instance, raise_on_error=False)
        text = _everything(instance, first.run_id) + _everything(instance, second.run_id)
    _assert_no_secret(text)
    assert not first.success  # the rows without an email are rejected by the receiver
    assert f"see the rejects table at {root}/shop/no_email__rejects" in text
    (mat,) = second.asset_materializations_for_node("shop__contacts__delivery")
    assert mat.metadata["restsync/skipped_unchanged"].value == 20  # read back from the log on S3
    assert len(httpx.get(f"{base}/receiver/contacts").json()["data"]) == 20
    assert _read(s3, f"{root}/shop/contacts__delivery_log").height == 20
    assert _read(s3, f"{root}/shop/no_email__rejects")["http_status"].unique().to_list() == [422]


def test_unreachable_bucket_fails_clearly_without_the_secret(demo_reset, tmp_path, s3_env):
    root, connection = s3_env
    connection = dict(connection, path=root.replace("s3://restsync-lake/", "s3://no-such-bucket/"))
    project = make_project(tmp_path, demo_reset.base_url, [CUSTOMERS], extra_docs={"connections/lake.yaml": connection})
    with dg.instance_for_test() as instance:
        result = build_definitions(project=project).resolve_job_def("shop_sync").execute_in_process(instance=instance, raise_on_error=False)
        text = _everything(instance, result.run_id)
    assert not result.success
    _assert_no_secret(text)
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    user = failure.step_failure_data.user_failure_data
    assert user.description == (
        f"cannot read the Delta table at {connection['path']}/shop/customers: "
        "NoSuchBucket (The specified bucket does not exist)"
    )
    assert user.metadata["restsync/error_class"].value == "LakeError"

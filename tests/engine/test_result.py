"""A table sync's result: the fetch side (``fetch``) and the lake's write outcome (``write``), each
counter in one place, and the totals of a multi-partition run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from restsync_dagster.engine import TableSyncResult, open_client, run_table_sync
from restsync_dagster.secrets import Secrets
from tests.dagster.conftest import EVENTS, make_project


def _window(day: str) -> tuple[str, datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    return day, start, start + timedelta(days=1)


def _sync_days(project, days: list[str]) -> list[TableSyncResult]:
    pipeline, secrets = project.pipeline("shop"), Secrets()
    with open_client(project, pipeline.source.connection.id, secrets=secrets) as client:
        return [run_table_sync(project, pipeline, pipeline.table("events"), client=client, run_id="r1",
                               partition=_window(day), secrets=secrets) for day in days]


def test_a_result_composes_the_fetch_and_the_write_and_totals_partitions(demo_reset, tmp_path):
    first, second = _sync_days(make_project(tmp_path, demo_reset.base_url, [EVENTS]), ["2026-01-01", "2026-01-02"])
    assert (first.fetch.requests, first.fetch.pages, first.write.pages, first.write.rows) == (3, 3, 3, 144)
    assert (first.write.partition_key, first.write.version, first.write.mode, first.table_rows) == ("2026-01-01", 0, "overwrite", 144)
    assert (second.write.partition_key, second.write.version, second.table_rows) == ("2026-01-02", 1, 288)
    assert first.write.table_uri == second.write.table_uri == str(tmp_path / "lake" / "shop" / "events")

    total = second.combined([first])
    assert (total.fetch.requests, total.fetch.pages, total.fetch.bytes_received) == (
        6, 6, first.fetch.bytes_received + second.fetch.bytes_received)
    assert (total.write.rows, total.write.rows_written, total.write.files_added) == (
        288, 288, first.write.files_added + second.write.files_added)
    assert (total.write.version, total.write.partition_key, total.table_rows) == (1, "2026-01-02", 288)
    assert total.elapsed_s == pytest.approx(first.elapsed_s + second.elapsed_s)
    assert (first.fetch.requests, first.write.rows, second.fetch.requests, second.write.rows) == (3, 144, 3, 144)

"""Concurrent writers on S3: commits are made with conditional puts, so two processes that commit
disjoint partitions of one table against the same version both land, and no row is lost or doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from botocore.exceptions import ClientError
from deltalake import DeltaTable

from restsync_dagster.lake import sync_table
from restsync_dagster.lake.storage import with_commit_safety
from tests.lake.helpers import make_table

ROOT = Path(__file__).resolve().parents[2]
ROWS = 500


def test_commit_safety_is_explicit_on_s3_only():
    assert with_commit_safety("s3://b/lake", {"AWS_REGION": "eu-west-1"}) == {"AWS_REGION": "eu-west-1", "conditional_put": "etag"}
    assert with_commit_safety("s3://b/lake", {"AWS_S3_ALLOW_UNSAFE_RENAME": "true"}) == {"AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
    assert with_commit_safety("s3://b/lake", {"conditional_put": "dynamo:locks"}) == {"conditional_put": "dynamo:locks"}
    assert with_commit_safety("/data/lake", {}) == {} and with_commit_safety("gs://b/lake", {}) == {}


def test_the_local_server_honours_conditional_puts(s3):
    """What the commit protocol relies on: a second create of the same key is refused."""
    client, key = s3.client(), s3.prefix().split("/", 3)[3] + "/_delta_log/00000000000000000000.json"
    client.put_object(Bucket=s3.bucket, Key=key, Body=b"{}", IfNoneMatch="*")
    with pytest.raises(ClientError, match="PreconditionFailed"):
        client.put_object(Bucket=s3.bucket, Key=key, Body=b"{}", IfNoneMatch="*")


def _writers(uri: str, options: dict, partitions: list[str], first_ids: list[int], barrier: Path) -> list[subprocess.CompletedProcess]:
    barrier.mkdir()
    env = dict(os.environ, RS_TEST_STORAGE_OPTIONS=json.dumps(options))
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.lake.concurrent_writer", uri, partition, str(first), str(ROWS),
                          str(barrier), str(len(partitions))], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for partition, first in zip(partitions, first_ids)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=240), *p.communicate()) for p in procs]


def _race(s3, tmp_path, rounds: list[list[str]]) -> tuple[str, dict]:
    """Seed a partitioned table, then per round one writer process per partition, all committing at once."""
    options = with_commit_safety("s3://", s3.storage_options())
    uri = f"{s3.prefix()}/demo/events"
    sync_table(iter([[{"id": -1, "partition": "seed"}]]), table=make_table(append_only=True), transformations=[],
               table_uri=uri, storage_options=options, run_id="seed", partition_key="2026-01-01")
    for i, partitions in enumerate(rounds):
        version = DeltaTable(uri, storage_options=options).version()
        first_ids = [(i * len(partitions) + j) * 10_000 for j in range(len(partitions))]
        done = _writers(uri, options, partitions, first_ids, tmp_path / f"barrier{i}")
        for proc in done:
            assert proc.returncode == 0, proc.stderr[-3000:]
        history = DeltaTable(uri, storage_options=options).history(len(partitions))
        assert sorted(c["version"] for c in history) == [version + 1 + j for j in range(len(partitions))]
        assert {c["restsync.run_id"] for c in history} == {f"writer-{p}" for p in partitions}
    return uri, options


def _partition_rows(uri: str, options: dict) -> pl.DataFrame:
    return pl.from_arrow(DeltaTable(uri, storage_options=options).to_pyarrow_table())


def test_two_processes_commit_new_partitions_at_once(s3, tmp_path):
    rounds = [["2026-02-01", "2026-02-02"], ["2026-02-03", "2026-02-04"], ["2026-02-05", "2026-02-06"]]
    uri, options = _race(s3, tmp_path, rounds)
    table = _partition_rows(uri, options)
    expected = {"2026-01-01": 1, **{p: ROWS for r in rounds for p in r}}
    assert dict(table.group_by("_restsync_partition").len().iter_rows()) == expected
    assert table["id"].n_unique() == table.height == 1 + 6 * ROWS


def test_two_processes_replace_existing_partitions_at_once(s3, tmp_path):
    rounds = [["2026-02-01", "2026-02-02"], ["2026-02-01", "2026-02-02"]]
    uri, options = _race(s3, tmp_path, rounds)
    table = _partition_rows(uri, options)
    assert dict(table.group_by("_restsync_partition").len().iter_rows()) == {"2026-01-01": 1, "2026-02-01": ROWS, "2026-02-02": ROWS}
    assert table["id"].n_unique() == table.height

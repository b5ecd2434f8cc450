"""Builders shared by the delivery tests: connections, requests, Delta source tables, runs."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import write_deltalake

from restsync_dagster.config.connection import RestConnection
from restsync_dagster.config.destination import DestinationRequest
from restsync_dagster.delivery import DeliveryResult, deliver_table, log_uri, read_frame, rejects_uri
from restsync_dagster.http import RestClient
from restsync_dagster.lake import iter_table_batches

_ids = itertools.count(1)
FAST = {"max_retries": 0, "backoff_s": 0}
"""A rate_limit block that fails a request at its first 5xx (the tests drive reruns themselves)."""


def connection(base_url: str, **fields: Any) -> RestConnection:
    """A REST connection with a fresh id (rate limiters are shared per id inside the process)."""
    return RestConnection.model_validate({"id": f"dest-{next(_ids)}", "type": "rest", "base_url": base_url, **fields})


def request(**fields: Any) -> DestinationRequest:
    return DestinationRequest.model_validate(fields)


def write_table(uri: str | Path, frame: pl.DataFrame) -> str:
    """Replace the Delta table at ``uri`` with ``frame`` (the source a delivery reads)."""
    write_deltalake(str(uri), frame.to_arrow(), mode="overwrite")
    return str(uri)


class Lake:
    """A source table and a staging root in one temp folder, and ``run`` to deliver it."""

    def __init__(self, root: Path, *, table: str = "contacts", pipeline: str = "crm"):
        self.root = root
        self.source = str(root / "lake" / pipeline / table)
        self.staging = str(root / "staging")
        self.pipeline_key = pipeline
        self.table_key = table

    def write(self, frame: pl.DataFrame) -> None:
        write_table(self.source, frame)

    def run(self, client: RestClient, req: DestinationRequest, *, key: list[str] | None = None,
            batches: Any = None, **options: Any) -> DeliveryResult:
        return deliver_table(
            batches if batches is not None else iter_table_batches(self.source),
            client=client, request=req, key_columns=["id"] if key is None else key,
            staging_root=self.staging, storage_options={}, pipeline_key=self.pipeline_key,
            table_key=self.table_key, table_name=self.table_key, run_id=uuid.uuid4().hex, **options,
        )

    def log(self) -> pl.DataFrame:
        frame = read_frame(log_uri(self.staging, self.pipeline_key, self.table_key), None)
        assert frame is not None, "no delivery log was written"
        return frame

    def rejects(self) -> pl.DataFrame | None:
        return read_frame(rejects_uri(self.staging, self.pipeline_key, self.table_key), None)

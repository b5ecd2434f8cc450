"""One table sync through the engine: ``python -m tests.faults.sync_once <definitions> <run id>``."""

from __future__ import annotations

import sys
from pathlib import Path

from restsync_dagster.config import load_project
from restsync_dagster.engine import TableSyncResult, open_client, run_table_sync


def sync_once(definitions: Path | str, run_id: str) -> TableSyncResult:
    """Sync table ``items`` of pipeline ``faults`` with its own client, as the CLI does."""
    project = load_project(definitions)
    pipeline = project.pipeline("faults")
    with open_client(project, pipeline.source.connection.id) as client:
        return run_table_sync(project, pipeline, pipeline.table("items"), client=client, run_id=run_id)


if __name__ == "__main__":
    sync_once(sys.argv[1], sys.argv[2])

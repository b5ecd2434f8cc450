"""One table sync through the engine, for the kill -9 test: ``python -m tests.faults.sync_once <defs> <run id>``."""

from __future__ import annotations

import sys

from restsync_dagster.config import load_project
from restsync_dagster.engine import run_table_sync

if __name__ == "__main__":
    project = load_project(sys.argv[1])
    pipeline = project.pipeline("faults")
    run_table_sync(project, pipeline, pipeline.table("items"), run_id=sys.argv[2])

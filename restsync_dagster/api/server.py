"""Run the management API: blocking for ``restsync api``, or on a background thread for tests."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from ..config import definitions_dir as default_definitions_dir
from ..serving import ThreadedServer
from .app import create_app
from ..home import dagster_home as resolve_home

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    definitions_dir: str | os.PathLike | None = None,
    dagster_home: str | os.PathLike | None = None,
    *,
    workspace: str | os.PathLike | None = None,
    log_level: str = "info",
) -> None:
    """Serve until interrupted. Defaults: ``$RESTSYNC_DEFINITIONS_DIR`` or ``definitions_yaml/``;
    ``$DAGSTER_HOME`` or ``.dagster_home/`` (created on demand)."""
    definitions = default_definitions_dir(definitions_dir).resolve()
    home = resolve_home(dagster_home, project_root=definitions.parent)
    # This process serves one folder: child processes (the Dagster code server) see it too.
    os.environ["RESTSYNC_DEFINITIONS_DIR"] = str(definitions)
    app = create_app(definitions, home, workspace=Path(workspace) if workspace else None)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


class ApiServer(ThreadedServer):
    """``with ApiServer(defs, home) as srv:`` serves on ``srv.base_url`` (a free port) until the block ends."""

    def __init__(
        self,
        definitions_dir: Path,
        dagster_home: Path,
        *,
        workspace: Path | None = None,
        host: str = DEFAULT_HOST,
        port: int = 0,
        log_level: str = "warning",
    ):
        app = create_app(definitions_dir, dagster_home, workspace=workspace)
        super().__init__(app, host=host, port=port, log_level=log_level, name="restsync-api")

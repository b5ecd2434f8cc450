"""Run the management API: blocking for ``restsync api``, or on a background thread for tests."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import uvicorn

from ..config import definitions_dir as default_definitions_dir
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


class ApiServer:
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
        self.host = host
        self.port = port
        self.app = create_app(definitions_dir, dagster_home, workspace=workspace)
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "ApiServer":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level=self._log_level, access_log=False, timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name=f"restsync-api-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)

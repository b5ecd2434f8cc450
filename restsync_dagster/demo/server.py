"""Run the demo API: blocking for the CLI, or on a background thread for tests."""

from __future__ import annotations

import uvicorn

from ..serving import ThreadedServer
from .app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until interrupted (`restsync demo-api --port 8765`)."""
    uvicorn.run(create_app(), host=host, port=port, log_level="info", lifespan="off")


class DemoServer(ThreadedServer):
    """`with DemoServer(port=0) as srv:` serves a fresh app on `srv.base_url` until the block ends."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, *, log_level: str = "warning",
                 startup_timeout_s: float = 10.0) -> None:
        super().__init__(create_app(), host=host, port=port, log_level=log_level, lifespan="off",
                         startup_timeout_s=startup_timeout_s, shutdown_timeout_s=2, name="demo-api")

    def __enter__(self) -> DemoServer:
        super().__enter__()
        self.app.state.demo.stats.reset()
        return self

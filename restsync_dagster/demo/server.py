"""Run the demo API: blocking for the CLI, or on a background thread for tests."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import httpx
import uvicorn

from .app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until interrupted (`restsync demo-api --port 8765`)."""
    uvicorn.run(create_app(), host=host, port=port, log_level="info", lifespan="off")


class DemoServer:
    """`with DemoServer(port=0) as srv:` serves a fresh app on `srv.base_url` until the block ends.

    The socket is bound before the thread starts, so `port=0` picks a free port without races,
    and `__enter__` returns only once `/health` answers.
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, *, log_level: str = "warning",
                 startup_timeout_s: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.app = create_app()
        self._log_level = log_level
        self._startup_timeout_s = startup_timeout_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> DemoServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level=self._log_level, access_log=False,
                                lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"demo-api-{self.port}", daemon=True)
        self._thread.start()
        try:
            self._wait_until_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.app.state.demo.stats.reset()  # forget the readiness probe
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError("demo API server thread exited during startup")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"demo API did not answer on {self.base_url} within "
                           f"{self._startup_timeout_s} s")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

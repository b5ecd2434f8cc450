"""Serve an ASGI app with uvicorn on a background thread (the demo API and the management API in tests)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Literal

import uvicorn


class ThreadedServer:
    """``with ThreadedServer(app, port=0) as srv:`` serves ``app`` on ``srv.base_url`` until the block ends.

    The socket is bound before the thread starts, so ``port=0`` picks a free port without races, and
    ``__enter__`` returns only once uvicorn accepts connections.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 lifespan: Literal["auto", "on", "off"] = "auto", startup_timeout_s: float = 15.0,
                 shutdown_timeout_s: float = 5.0, name: str = "server") -> None:
        self.app = app
        self.host = host
        self.port = port
        self._log_level = log_level
        self._lifespan = lifespan
        self._startup_timeout_s = startup_timeout_s
        self._shutdown_timeout_s = shutdown_timeout_s
        self._name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level=self._log_level, access_log=False, lifespan=self._lifespan,
                                timeout_graceful_shutdown=int(self._shutdown_timeout_s))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"{self._name}-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"{self._name} did not start on {self.base_url} within {self._startup_timeout_s} s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=self._shutdown_timeout_s * 2)
        self._server = self._thread = None

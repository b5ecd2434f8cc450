"""Helpers of the CLI tests."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the OS just handed out and released, for a server the test starts itself."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

"""Helpers shared by the HTTP engine tests: model builders and a scripted raw-socket server."""

from __future__ import annotations

import itertools
import socket
import threading
from typing import Any

from restsync_dagster.config.connection import RestConnection
from restsync_dagster.config.pipeline import Table

_ids = itertools.count(1)


def connection(base_url: str, **fields: Any) -> RestConnection:
    """A REST connection with a fresh id (rate limiters are shared per id inside the process)."""
    doc = {"id": f"test-{next(_ids)}", "type": "rest", "base_url": base_url, **fields}
    return RestConnection.model_validate(doc)


def table(**fields: Any) -> Table:
    fields.setdefault("name", "items")
    return Table.model_validate(fields)


class ScriptedServer:
    """Answers successive connections per a script: ``"drop"`` closes without answering,
    ``"truncate"`` promises more bytes than it sends, ``(status, body)`` answers properly."""

    def __init__(self, script: list[Any], *, repeat_last: bool = True):
        self.script = list(script)
        self.repeat_last = repeat_last
        self.connections = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True, name="scripted")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self._thread.join(5)
        self._sock.close()

    def _next_action(self) -> Any:
        index = self.connections
        self.connections += 1
        if index < len(self.script):
            return self.script[index]
        return self.script[-1] if self.repeat_last else "drop"

    def _serve(self) -> None:
        while not self._stop:
            conn, _ = self._sock.accept()
            if self._stop:
                conn.close()
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                action = self._next_action()
                if action == "drop":
                    continue
                if action == "truncate":
                    body = b'{"data": [{"id": 1}, {"id": 2'
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 500\r\nConnection: close\r\n\r\n" + body)
                    continue
                status, body = action
                payload = body if isinstance(body, bytes) else body.encode()
                conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)


def rsa_pem_pair() -> tuple[str, str]:
    """A fresh RSA key pair as PEM text (private PKCS#8, public SubjectPublicKeyInfo) for JWT tests."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public

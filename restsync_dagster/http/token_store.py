"""Rotated OAuth2 refresh tokens, kept between runs.

Providers that rotate refresh tokens answer every refresh with a new one and invalidate the old, so
the token in the connection document works once. The newest token is stored under
``$DAGSTER_HOME/restsync/tokens/<connection>.json`` (mode 0600, written to a temp file and renamed),
keyed by a hash of the configured token: when a user pastes a new refresh token into the connection,
the stored chain of the old one is no longer used. Refreshes take an exclusive file lock around the
whole exchange, so two processes never both spend the same token.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..home import restsync_home


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "connection"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Lease:
    """The stored token of one (connection, configured token) while the lock is held."""

    def __init__(self, store: "TokenStore", connection: str, configured: str):
        self._store = store
        self._connection = connection
        self._key = _digest(configured)
        self.token: str | None = store._read(connection).get(self._key)

    def save(self, token: str) -> None:
        entries = self._store._read(self._connection)
        entries[self._key] = token
        self._store._write(self._connection, entries)
        self.token = token


class TokenStore:
    """A folder of per-connection token files; created on first write."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self._folder = Path(folder) if folder is not None else None

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = restsync_home() / "tokens"
        return self._folder

    def _path(self, connection: str) -> Path:
        return self.folder / f"{_slug(connection)}.json"

    def _read(self, connection: str) -> dict[str, str]:
        try:
            data = json.loads(self._path(connection).read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, connection: str, entries: dict[str, str]) -> None:
        path = self._path(connection)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(entries, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def current(self, connection: str, configured: str) -> str:
        """The newest refresh token descended from ``configured`` (``configured`` itself if none)."""
        return self._read(connection).get(_digest(configured)) or configured

    @contextmanager
    def lease(self, connection: str, configured: str) -> Iterator[Lease]:
        """Hold the connection's lock while a refresh spends and replaces its token."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.folder / f".{_slug(connection)}.lock"
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield Lease(self, connection, configured)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

"""Where a sync keeps its uncommitted files, and how a later run removes those of a crashed one.

Layout (``STAGING`` starts with ``_``, so Delta readers and ``vacuum`` ignore it)::

    <table>/_restsync_staging/<token>/lease.json   the run's lease: run id, host, pid, heartbeat,
                                                  the part files it wrote into the table, its commit id
    <table>/_restsync_staging/<token>/*.parquet    keyed modes: rows staged for deduplication
                                                  (local tables; object-store tables stage under
                                                  ``<restsync home>/staging/<token>/``)

Part files of ``append`` and ``overwrite`` syncs are written into the table folder itself (their
final place) and listed in the lease *before* each is created. A thread rewrites the lease every
``HEARTBEAT_S``. ``sweep`` (run when a writer opens a table, and by maintenance) removes every
staging folder whose lease is stale — no heartbeat for ``STALE_AFTER_S``, or written on this host by
a process that is gone — and, unless the lease's commit landed, the part files it lists. A live
concurrent run's files are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from . import state
from .parts import Store

STAGING = "_restsync_staging"
LEASE = "lease.json"
HEARTBEAT_S = 15.0
STALE_AFTER_S = 600.0
"""A lease not refreshed for this long belongs to a dead run (any host)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_staging_root() -> Path:
    """Staging for tables on object stores: ``<restsync home>/staging``."""
    from ..home import restsync_home

    return restsync_home() / "staging"


class Lease:
    """One run's claim on ``<table>/_restsync_staging/<token>/``; see the module doc."""

    def __init__(self, store: Store, *, run_id: str, local_dir: bool = False, heartbeat_s: float = HEARTBEAT_S):
        self.store = store
        self.token = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"
        self.folder = f"{STAGING}/{self.token}"
        self.local_dir: str | None = None
        if local_dir:
            self.local_dir = self.store.path(self.folder) if store.is_local else str(local_staging_root() / self.token)
            os.makedirs(self.local_dir, exist_ok=True)
        self._info: dict[str, Any] = {
            "run_id": run_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "files": [],
            "commit_id": None,
            "local_dir": self.local_dir,
        }
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._write()
        self._thread = threading.Thread(
            target=_beat, args=(weakref.ref(self), self._stop, heartbeat_s), name="restsync-lease", daemon=True
        )
        self._thread.start()

    def add_file(self, rel: str) -> None:
        """Record a part file (table-relative) before it is created."""
        with self._lock:
            self._info["files"].append(rel)
            self._write()

    def set_commit(self, commit_id: str) -> None:
        with self._lock:
            self._info["commit_id"] = commit_id
            self._write()

    def held(self) -> bool:
        """False when a sweeper removed this lease (the run stalled longer than ``STALE_AFTER_S``)."""
        return self.store.exists(f"{self.folder}/{LEASE}")

    def release(self) -> None:
        """Stop the heartbeat and remove the staging folder (the files it lists are the caller's)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        _remove(self.store, self.folder, self.local_dir)

    def refresh(self) -> None:
        with self._lock:
            if not self._stop.is_set():
                self._write()

    def _write(self) -> None:
        self._info["heartbeat"] = time.time()
        self.store.write_text(f"{self.folder}/{LEASE}", json.dumps(self._info))


def _beat(ref: "weakref.ref[Lease]", stop: threading.Event, every: float) -> None:
    """The heartbeat; it ends with the lease, so a writer dropped without commit or abort goes stale."""
    while not stop.wait(every):
        lease = ref()
        if lease is None:
            return
        try:
            lease.refresh()
        except OSError:
            pass  # a transient storage error: the next beat tries again
        del lease


def _remove(store: Store, folder: str, local_dir: str | None) -> None:
    if local_dir and not store.is_local:
        shutil.rmtree(local_dir, ignore_errors=True)
    store.delete_dir(folder)


def _stale(info: dict[str, Any] | None, mtime: float | None, stale_after_s: float) -> bool:
    now = time.time()
    if info is None:
        return mtime is not None and now - mtime > stale_after_s
    if now - float(info.get("heartbeat", 0)) > stale_after_s:
        return True
    return info.get("host") == socket.gethostname() and not _pid_alive(int(info.get("pid", 0)))


def sweep(table_uri: str, storage_options: dict[str, str] | None = None, *, stale_after_s: float = STALE_AFTER_S) -> list[str]:
    """Remove the staging folders (and uncommitted part files) of dead runs; returns what was removed."""
    store = Store(table_uri, storage_options)
    try:
        entries = store.fs.get_file_info(pafs.FileSelector(store.path(STAGING), allow_not_found=True, recursive=True))
    except OSError:
        return []
    folders: dict[str, float | None] = {}
    prefix = store.path(STAGING).rstrip("/") + "/"
    for entry in entries:
        token = entry.path[len(prefix):].split("/", 1)[0] if entry.path.startswith(prefix) else ""
        if token:
            mtime = entry.mtime.timestamp() if entry.mtime is not None else None
            folders[token] = max(folders.get(token) or 0, mtime or 0) or None
    removed: list[str] = []
    for token, mtime in folders.items():
        folder = f"{STAGING}/{token}"
        info = store.read_json(f"{folder}/{LEASE}")
        if not _stale(info, mtime, stale_after_s):
            continue
        info = info or {}
        commit_id = info.get("commit_id")
        if not (commit_id and _landed(table_uri, storage_options, commit_id)):
            for rel in info.get("files", []):
                store.delete(rel)
                removed.append(rel)
        local_dir = info.get("local_dir") if info.get("host") == socket.gethostname() else None
        _remove(store, folder, local_dir)
        removed.append(folder + "/")
    return removed


def _landed(table_uri: str, storage_options: dict[str, str] | None, commit_id: str) -> bool:
    table = state.open_table(table_uri, storage_options)
    return table is not None and any(c.get(state.COMMIT_ID) == commit_id for c in state.iter_commits(table))

"""The pipeline documents of a definitions folder, as the API reads and writes them.

A pipeline's id is its key. New documents go to ``pipelines/<key>.yaml``; a replaced
document keeps its file and format; an archived one moves to ``.archive/<key>-<UTC time>.<ext>``,
outside the folders the loader reads.

"Newest first" uses the creation time the API records in ``$DAGSTER_HOME/restsync/pipelines.json``
when it creates a pipeline; a document the API did not create (shipped or written by hand) counts
as created at its file's modification time.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ..config.common import to_key
from ..config.pipeline import Pipeline
from ..config.source import SUFFIXES, read_source
from .files import FileLock, atomic_move, atomic_write_json, atomic_write_text
from .problems import ApiError, not_found
from .validation import Checked

log = logging.getLogger("restsync.api")


@dataclass
class Document:
    key: str
    path: Path
    text: str
    data: dict[str, Any]
    created_at: float
    updated_at: float

    @property
    def format(self) -> str:
        return "json" if self.path.suffix == ".json" else "yaml"

    def pipeline(self) -> Pipeline | None:
        try:
            return Pipeline.model_validate(self.data)
        except ValueError:
            return None


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def to_json(data: Any, *, indent: int | None = None) -> str:
    return json.dumps(data, indent=indent, default=_json_default, ensure_ascii=False)


def jsonable(data: Any) -> Any:
    """The document as JSON would carry it (YAML dates become ISO strings)."""
    return json.loads(to_json(data))


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(jsonable(data), sort_keys=False, allow_unicode=True)


class DefinitionStore:
    def __init__(self, root: Path, dagster_home: Path):
        self.root = Path(root)
        self.folder = self.root / "pipelines"
        self.archive_dir = self.root / ".archive"
        self.index_path = Path(dagster_home) / "restsync" / "pipelines.json"
        self.lock = FileLock(self.root / ".restsync.lock")
        self._cache: dict[Path, tuple[tuple, tuple[str, dict[str, Any], float] | None]] = {}
        self._cache_lock = threading.Lock()

    # reading

    def _created(self) -> dict[str, float]:
        try:
            raw = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        created = raw.get("created", {}) if isinstance(raw, dict) else {}
        return {k: float(v) for k, v in created.items() if isinstance(v, (int, float))}

    def _set_created(self, key: str, ts: float | None) -> None:
        created = self._created()
        if ts is None:
            created.pop(key, None)
        else:
            created[key] = ts
        atomic_write_json(self.index_path, {"version": 1, "created": created})

    def _parse(self, path: Path) -> tuple[str, dict[str, Any], float] | None:
        """``(text, data, mtime)`` of a pipeline file, cached until the file changes (YAML parsing is slow)."""
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with self._cache_lock:
            cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            src, problems = read_source(path, path.name)
        except (OSError, UnicodeDecodeError):
            return None
        parsed = None if problems else (src.text, src.data, stat.st_mtime)
        with self._cache_lock:
            self._cache[path] = (stamp, parsed)
        return parsed

    def documents(self) -> dict[str, Document]:
        """Every pipeline document that parses and has a name, by key (first file wins, as in the loader)."""
        if not self.folder.is_dir():
            return {}
        created = self._created()
        docs: dict[str, Document] = {}
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file() and p.suffix in SUFFIXES):
            parsed = self._parse(path)
            if parsed is None:
                continue
            text, data, mtime = parsed
            name = data.get("name")
            if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name):
                continue
            key = to_key(str(name))
            if key in docs:
                continue
            docs[key] = Document(
                key=key, path=path, text=text, data=data, created_at=created.get(key, mtime), updated_at=mtime
            )
        return docs

    def get(self, key: str) -> Document:
        doc = self.documents().get(key)
        if doc is None:
            raise not_found(f"pipeline {key!r}")
        return doc

    def newest_first(self) -> list[Document]:
        return sorted(self.documents().values(), key=lambda d: (-d.created_at, d.key))

    # writing

    def _free_path(self, key: str) -> Path:
        path = self.folder / f"{key}.yaml"
        n = 2
        while path.exists():
            path = self.folder / f"{key}-{n}.yaml"
            n += 1
        return path

    def create(self, checked: Checked, *, now: float) -> Document:
        with self.lock():
            if checked.key in self.documents():
                raise ApiError(409, "conflict", f"pipeline {checked.key!r} already exists; replace it with PUT /pipelines/{checked.key}/definition")
            path = self._free_path(checked.key)
            atomic_write_text(path, self._render(checked, "yaml"))
            self._set_created(checked.key, now)
            return self.get(checked.key)

    def replace(self, key: str, checked: Checked) -> tuple[Document, bool]:
        """Write the document unless it equals the stored one (then the file is left untouched)."""
        with self.lock():
            current = self.get(key)
            if jsonable(current.data) == jsonable(checked.data):
                return current, False
            atomic_write_text(current.path, self._render(checked, current.format))
            return self.get(key), True

    def archive(self, key: str, *, now: float) -> Path:
        with self.lock():
            doc = self.get(key)
            stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            target = self.archive_dir / f"{key}-{stamp}{doc.path.suffix}"
            atomic_move(doc.path, target)
            self._set_created(key, None)
            log.info("archived pipeline %s to %s", key, target)
            return target

    @staticmethod
    def _render(checked: Checked, fmt: str) -> str:
        if fmt == "json":
            return to_json(checked.data, indent=2) + "\n"
        if checked.format == "yaml":
            return checked.text if checked.text.endswith("\n") else checked.text + "\n"
        return to_yaml(checked.data)

"""The operations behind each endpoint, as plain functions of ``Services`` and parsed input.

They run in a worker thread (file and Dagster I/O block) and return ``(status, body)`` or raise
``ApiError``; ``app.py`` turns both into responses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from ..config.common import to_key
from ..config import load_project
from ..config.issues import Issue
from ..errors import ConfigError
from .documents import DefinitionStore, Document, iso, jsonable, to_json, to_yaml
from .keys import MAX_EXPIRES_DAYS, KeyRecord, KeyStore, KeyStoreError
from .problems import ApiError, field_errors, invalid, not_found
from .runtime import CodeLocationUnavailable, Runtime, ScheduleState
from .validation import Checked, check_document

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass
class Services:
    definitions: Path
    dagster_home: Path
    store: DefinitionStore
    keys: KeyStore
    runtime: Runtime
    clock: Callable[[], float] = field(default=time.time)


# helpers


def _conn_id(data: dict, side: str) -> str | None:
    block = data.get(side)
    conn = block.get("connection") if isinstance(block, dict) else None
    value = conn.get("id") if isinstance(conn, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def _tables(data: dict) -> list[str]:
    tables = data.get("tables")
    if not isinstance(tables, list):
        return []
    return [str(t["name"]) for t in tables if isinstance(t, dict) and isinstance(t.get("name"), (str, int))]


def _run(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {**run, "created_at": iso(run["created_at"]), "started_at": iso(run["started_at"]), "ended_at": iso(run["ended_at"])}


def summary(services: Services, doc: Document) -> dict[str, Any]:
    data = doc.data
    description = data.get("description")
    pipeline = doc.pipeline()
    return {
        "id": doc.key,
        "name": str(data.get("name")),
        "description": description if isinstance(description, str) else None,
        "source_connection_id": _conn_id(data, "source"),
        "destination_connection_id": _conn_id(data, "destination"),
        "table_count": len(_tables(data)),
        "sync_enabled": pipeline.sync.enabled if pipeline is not None else None,
        "document": doc.path.relative_to(services.definitions).as_posix(),
        "created_at": iso(doc.created_at),
        "updated_at": iso(doc.updated_at),
        "last_run": _run(services.runtime.last_run(doc.key)),
    }


def _state(schedules: list[ScheduleState]) -> str:
    running = sum(s.status == "running" for s in schedules)
    if running == 0:
        return "stopped"
    return "running" if running == len(schedules) else "partial"


def _keys(services: Services) -> list[str]:
    return list(services.store.documents())


def _unavailable(exc: CodeLocationUnavailable) -> ApiError:
    return ApiError(503, "code_location_unavailable", str(exc))


def _positive_int(params: Any, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise invalid([Issue("", name, f"expected a whole number >= 1, got {raw[:40]!r}")], status=422)
    return int(text)


def _flag(params: Any, name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise invalid([Issue("", name, f"expected true or false, got {raw[:40]!r}")], status=422)


def _check_same_key(key: str, checked: Checked) -> None:
    if checked.key != key:
        message = (
            f"the document's key is {checked.key!r} (from its name {checked.pipeline.name!r}) "
            f"but the path names {key!r}; a replace cannot rename a pipeline"
        )
        raise invalid([Issue("", "name", message, checked.name_line)])


# pipelines


def list_pipelines(services: Services, params: Any) -> tuple[int, dict]:
    page = _positive_int(params, "page", 1)
    page_size = min(_positive_int(params, "page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    docs = services.store.newest_first()
    start = (page - 1) * page_size
    chunk = docs[start : start + page_size]
    return 200, {
        "data": [summary(services, d) for d in chunk],
        "pagination": {"page": page, "page_size": page_size, "returned": len(chunk), "has_more": start + page_size < len(docs)},
    }


def get_pipeline(services: Services, key: str) -> tuple[int, dict]:
    doc = services.store.get(key)
    body = summary(services, doc)
    tables = _tables(doc.data)
    table_keys = [to_key(t) for t in tables]
    last = services.runtime.last_materializations(key, table_keys)
    body["tables"] = [
        {"name": name, "key": tk, "asset_key": [key, tk], "last_materialization_at": iso(last.get(tk))}
        for name, tk in zip(tables, table_keys)
    ]
    problems = _problems(services, key)
    body["valid"] = not problems
    body["errors"] = field_errors(problems)
    try:
        schedules = services.runtime.schedules(key, _keys(services))
        body["schedules"] = [s.as_dict() for s in schedules]
        body["state"] = _state(schedules)
        body["schedules_error"] = None
    except CodeLocationUnavailable as exc:
        body["schedules"] = []
        body["state"] = "unknown"
        body["schedules_error"] = str(exc)
    return 200, body


def _problems(services: Services, key: str) -> list[Issue]:
    """Why pipeline ``key`` is not loaded (its own errors, or a broken connection or hook it uses)."""
    try:
        project = load_project(services.definitions, strict=False)
    except ConfigError:
        return []
    return [issue for b in project.broken if b.kind == "pipelines" and b.id == key for issue in b.issues]


def get_definition(services: Services, key: str, accept: str | None) -> tuple[int, str, str]:
    """``(status, text, media type)``: YAML when ``Accept`` prefers a YAML type, else JSON."""
    doc = services.store.get(key)
    if _wants_yaml(accept):
        text = doc.text if doc.format == "yaml" else to_yaml(doc.data)
        return 200, text, "application/yaml"
    return 200, to_json(doc.data), "application/json"


def _wants_yaml(accept: str | None) -> bool:
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((accept or "").split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        media = media.lower()
        if media not in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/json"):
            continue
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, media)
    return best is not None and best[2] != "application/json"


def create_pipeline(services: Services, body: bytes, content_type: str | None) -> tuple[int, dict]:
    checked = check_document(body, content_type, services.definitions)
    doc = services.store.create(checked, now=services.clock())
    return 201, {**summary(services, doc), "changed": True}


def validate_new(services: Services, body: bytes, content_type: str | None) -> tuple[int, dict]:
    checked = check_document(body, content_type, services.definitions)
    if checked.key in services.store.documents():
        raise ApiError(409, "conflict", f"pipeline {checked.key!r} already exists; validate a change with POST /pipelines/{checked.key}/definition/validate")
    return 200, {"valid": True, "id": checked.key}


def validate_existing(services: Services, key: str, body: bytes, content_type: str | None) -> tuple[int, dict]:
    current = services.store.get(key)
    checked = check_document(body, content_type, services.definitions)
    _check_same_key(key, checked)
    return 200, {"valid": True, "id": key, "changed": jsonable(current.data) != jsonable(checked.data)}


def replace_definition(services: Services, key: str, body: bytes, content_type: str | None) -> tuple[int, dict]:
    services.store.get(key)
    checked = check_document(body, content_type, services.definitions)
    _check_same_key(key, checked)
    doc, changed = services.store.replace(key, checked)
    return 200, {**summary(services, doc), "changed": changed}


def start_pipeline(services: Services, key: str) -> tuple[int, dict]:
    schedules = _switch(services, key, services.runtime.start)
    return 200, _switched(key, schedules, canceled=[])


def stop_pipeline(services: Services, key: str, params: Any) -> tuple[int, dict]:
    force = _flag(params, "force")
    schedules = _switch(services, key, services.runtime.stop)
    canceled = services.runtime.cancel_runs(key) if force else []
    return 200, _switched(key, schedules, canceled=canceled)


def _switch(services: Services, key: str, change: Callable[[str, list[str]], list[ScheduleState]]) -> list[ScheduleState]:
    """Start or stop (``change``) pipeline ``key``'s schedules; a pipeline without schedules is a conflict."""
    services.store.get(key)
    schedules = _change_schedules(services, key, change)
    if not schedules:
        raise ApiError(409, "no_schedules", f"the Dagster code location has no schedule for pipeline {key!r} (names starting with '{key}_')")
    return schedules


def _change_schedules(services: Services, key: str, change: Callable[[str, list[str]], list[ScheduleState]]) -> list[ScheduleState]:
    try:
        return change(key, _keys(services))
    except CodeLocationUnavailable as exc:
        raise _unavailable(exc) from None


def _switched(key: str, schedules: list[ScheduleState], *, canceled: list[str]) -> dict[str, Any]:
    return {"id": key, "state": _state(schedules), "schedules": [s.as_dict() for s in schedules], "canceled_runs": canceled}


def archive_pipeline(services: Services, key: str) -> tuple[int, dict]:
    services.store.get(key)
    with services.store.lock():
        schedules = _change_schedules(services, key, services.runtime.stop)
        target = services.store.archive(key, now=services.clock())
    return 200, {
        "id": key,
        "archived": True,
        "archived_to": target.relative_to(services.definitions).as_posix(),
        "schedules": [s.as_dict() for s in schedules],
    }


# keys


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr
    expires_days: StrictInt | None = Field(default=None, ge=1, le=MAX_EXPIRES_DAYS)
    admin: StrictBool = False


def _key_issues(exc: ValidationError) -> tuple[list[Issue], bool]:
    issues, shape = [], False
    for error in exc.errors(include_url=False):
        loc = [p for p in error["loc"]]
        kind = error["type"]
        shape = shape or kind == "extra_forbidden" or kind.endswith("_type") or kind.endswith("_parsing")
        path = ".".join(str(p) for p in loc)
        issues.append(Issue("", path, "unknown key" if kind == "extra_forbidden" else str(error["msg"]), None))
    return issues, shape


def list_keys(services: Services) -> tuple[int, dict]:
    now = services.clock()
    return 200, {"keys": [r.public(now) for r in services.keys.list()]}


def create_key(services: Services, body: bytes) -> tuple[int, dict]:
    import json

    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid([Issue("", "", f"invalid JSON: {exc}", None)], status=422) from None
    if not isinstance(data, dict):
        raise invalid([Issue("", "", "expected a JSON object {\"name\": ..., \"expires_days\": ..., \"admin\": ...}", None)], status=422)
    try:
        request = KeyCreate.model_validate(data)
    except ValidationError as exc:
        issues, shape = _key_issues(exc)
        raise invalid(issues, status=422 if shape else 400) from None
    try:
        value = services.keys.create(request.name, expires_days=request.expires_days, admin=request.admin)
    except KeyStoreError as exc:
        if exc.code == "conflict":
            raise ApiError(409, "conflict", str(exc)) from None
        raise invalid([Issue("", exc.field, str(exc), None)]) from None
    record = services.keys.verify(value)
    assert record is not None
    return 201, {**record.public(services.clock()), "key": value}


def revoke_key(services: Services, name: str) -> tuple[int, dict]:
    try:
        record: KeyRecord = services.keys.revoke(name)
    except KeyStoreError:
        raise not_found(f"key {name!r}") from None
    return 200, record.public(services.clock())

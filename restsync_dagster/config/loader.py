"""Load a definitions folder into validated models, collecting every problem in one pass.

Loading reads files only: it never renders a template, reads a secret or touches the network.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import ConfigError
from .checks import check_pipeline, check_templates, connection_scope, hook_scope, pipeline_scope
from .common import to_key
from .connection import Connection, DeltaConnection, RestConnection
from .hook import Hook
from .issues import Issue, format_path, from_validation_error
from .pipeline import Pipeline
from .seed002 import is_seed_document, translate
from .source import SUFFIXES, MappedSource, SourceFile, read_source
from .templated import is_rendered

log = logging.getLogger("restsync.config")

KINDS = ("connections", "pipelines", "hooks")
DEFAULT_DIR = "definitions_yaml"


_CONNECTION = TypeAdapter(Connection)
ConnectionT = TypeVar("ConnectionT", RestConnection, DeltaConnection)


def definitions_dir(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("RESTSYNC_DEFINITIONS_DIR") or DEFAULT_DIR)


@dataclass
class BrokenDocument:
    """A document that does not load, or a pipeline disabled because a document it uses does not."""

    kind: str
    """``connections``, ``pipelines`` or ``hooks``."""
    id: str | None
    """The pipeline key or the connection/hook id, when the document states it."""
    file: str
    issues: list[Issue]

    @property
    def label(self) -> str:
        return f"{self.kind[:-1]} {self.id!r}" if self.id else self.file

    def message(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


@dataclass
class Project:
    """Every valid document of a definitions folder (and, when loaded leniently, the broken ones)."""

    root: Path
    connections: dict[str, RestConnection | DeltaConnection] = field(default_factory=dict)
    pipelines: dict[str, Pipeline] = field(default_factory=dict)
    hooks: dict[str, Hook] = field(default_factory=dict)
    files: dict[tuple[str, str], Path] = field(default_factory=dict)
    table_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    """(pipeline key, table key) → line of the table in its pipeline's file, for code references."""
    warnings: list[Issue] = field(default_factory=list)
    missing_env: set[str] = field(default_factory=set)
    broken: list[BrokenDocument] = field(default_factory=list)

    def pipeline(self, name_or_key: str) -> Pipeline:
        for pipeline in self.pipelines.values():
            if name_or_key in (pipeline.name, pipeline.key):
                return pipeline
        raise KeyError(f"no pipeline named {name_or_key!r} (pipelines: {', '.join(p.name for p in self.pipelines.values()) or 'none'})")

    def connection(self, conn_id: Any) -> RestConnection | DeltaConnection:
        try:
            return self.connections[str(conn_id)]
        except KeyError:
            raise KeyError(f"no connection with id {conn_id!r} (connections: {', '.join(self.connections) or 'none'})") from None

    def connection_of(self, conn_id: Any, kind: type[ConnectionT]) -> ConnectionT:
        """Connection ``conn_id`` where the load-time checks already require ``kind``."""
        connection = self.connection(conn_id)
        if not isinstance(connection, kind):
            raise TypeError(f"connection {conn_id!r} is a {type(connection).__name__}, not a {kind.__name__}")
        return connection


@dataclass
class _Doc:
    kind: str
    src: SourceFile
    model: Any = None


def _files(root: Path, kind: str) -> list[Path]:
    folder = root / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _validate(kind: str, src: SourceFile, issues: list[Issue]) -> Any:
    data = src.data
    try:
        if kind == "connections":
            if not isinstance(data.get("type"), str):
                issues.append(Issue(src.display, "type", "missing or invalid 'type'; expected 'rest' or 'delta'", src.line_of(["type"]) or 1))
                return None
            return _CONNECTION.validate_python(data)
        if kind == "pipelines":
            return Pipeline.model_validate(data)
        return Hook.model_validate(data)
    except ValidationError as exc:
        roots: dict[str, type[BaseModel]] = {"pipelines": Pipeline, "hooks": Hook}
        root = roots.get(kind) or (
            RestConnection if data.get("type") == "rest" else DeltaConnection
        )
        loc_fix: Callable[[tuple], tuple] = (lambda loc: loc[1:]) if kind == "connections" else (lambda loc: loc)
        errors = exc.errors(include_url=False)
        for error in errors:
            error["loc"] = loc_fix(tuple(error["loc"]))
        found = from_validation_error(errors, root=root, data=data, file=src.display, line_of=src.line_of)
        issues.extend(replace(i, path=format_path(src.field_path(_split(i.path)))) for i in found)
        return None


def load_project(
    path: str | os.PathLike | None = None, *, environ: Mapping[str, str] | None = None, strict: bool = True
) -> Project:
    """Load and check a definitions folder.

    ``strict`` (the default) raises ``ConfigError`` listing every problem found. ``strict=False``
    returns every valid document and lists the others in ``Project.broken``, each with its issues; a
    pipeline that uses a broken connection or hook is left out and listed too. A missing folder
    raises either way.
    """
    root = definitions_dir(path)
    environ = os.environ if environ is None else environ
    issues: list[Issue] = []
    project = Project(root=root)
    if not root.is_dir():
        raise ConfigError([Issue(_display(root), "", "definitions folder not found; expected connections/, pipelines/ and hooks/ inside it")])

    docs: list[_Doc] = []
    kinds: dict[str, str] = {}
    for kind in KINDS:
        for path_ in _files(root, kind):
            src, problems = read_source(path_, _display(path_))
            kinds[src.display] = kind
            issues.extend(problems)
            if problems:
                continue
            if kind == "pipelines" and is_seed_document(src.data):
                docs.extend(_seed_docs(src, issues))
            else:
                docs.append(_Doc(kind, src))
    if not any(doc.kind == "pipelines" for doc in docs) and not _files(root, "pipelines"):
        project.warnings.append(Issue(_display(root), "", "no pipeline documents found in pipelines/", severity="warning"))

    invalid_ids: set[str] = set()
    seen: dict[tuple[str, str], str] = {}
    for doc in docs:
        data = doc.src.data
        report = _reporter(doc.src, issues)
        scope = {"connections": connection_scope, "hooks": hook_scope}.get(doc.kind) or pipeline_scope(data)
        kind = doc.kind if doc.kind != "connections" else str(data.get("type"))
        rendered = functools.partial(is_rendered, kind)
        project.missing_env |= {n for n in check_templates(data, scope, report, rendered) if n not in environ}
        doc.model = _validate(doc.kind, doc.src, issues)
        ident = str(data.get("id")) if doc.kind != "pipelines" else to_key(str(data.get("name", "")))
        if doc.model is None:
            invalid_ids.add(ident)
            continue
        field_name = "name" if doc.kind == "pipelines" else "id"
        if (doc.kind, ident) in seen:
            report(field_name, f"duplicate {doc.kind[:-1]} {field_name} {ident!r}, also used in {seen[(doc.kind, ident)]}")
            doc.model = None
            continue
        seen[(doc.kind, ident)] = doc.src.display
        project.files[(doc.kind, ident)] = doc.src.path
        getattr(project, doc.kind)[ident] = doc.model
        if doc.kind == "pipelines":
            _keep_table_lines(project, ident, doc)

    for doc in docs:
        if doc.kind == "pipelines" and doc.model is not None:
            check_pipeline(doc.model, project.connections, project.hooks, _reporter(doc.src, issues), invalid_ids)

    if project.missing_env:
        names = ", ".join(sorted(project.missing_env))
        project.warnings.append(
            Issue(_display(root), "", f"environment variables not set (needed when a run starts): {names}", severity="warning")
        )
    for warning in project.warnings:
        log.warning("%s", warning)
    if issues and strict:
        raise ConfigError(issues)
    if issues:
        _set_aside(project, docs, issues, kinds)
    return project


def _keep_table_lines(project: Project, pipeline_key: str, doc: _Doc) -> None:
    for i, table in enumerate(doc.model.tables):
        line = doc.src.line_of(["tables", i])
        if line is not None:
            project.table_lines[(pipeline_key, table.key)] = line


def _set_aside(project: Project, docs: list[_Doc], issues: list[Issue], kinds: dict[str, str]) -> None:
    """Move every document with an issue, and every pipeline using one, from ``project`` to ``broken``."""
    by_file: dict[str, list[Issue]] = {}
    for issue in issues:
        by_file.setdefault(issue.file, []).append(issue)
    parsed: dict[str, list[_Doc]] = {}
    for doc in docs:
        parsed.setdefault(doc.src.display, []).append(doc)
    for file, found in by_file.items():
        group = parsed.get(file)
        if not group:
            project.broken.append(BrokenDocument(kinds.get(file, "pipelines"), None, file, found))
            continue
        for doc in group:  # an ETL model file stands for a pipeline and its connections
            ident = _ident(doc)
            if ident is not None and project.files.get((doc.kind, ident)) == doc.src.path:
                getattr(project, doc.kind).pop(ident, None)
                project.files.pop((doc.kind, ident), None)
        first = next((d for d in group if d.kind == "pipelines"), group[0])
        project.broken.append(BrokenDocument(first.kind, _ident(first), file, found))
    bad_refs = {
        b.id: b.file for b in project.broken if b.kind != "pipelines" and b.id is not None and b.id not in getattr(project, b.kind)
    }
    by_path = {doc.src.path: doc for doc in docs if doc.kind == "pipelines"}
    for key, pipeline in list(project.pipelines.items()):
        refs = [("source.connection.id", pipeline.source.connection.id), ("destination.connection.id", pipeline.destination.connection.id)]
        if pipeline.staging is not None:
            refs.append(("staging.connection.id", pipeline.staging.connection.id))
        refs += [(f"hooks[{i}].id", ref.id) for i, ref in enumerate(pipeline.hooks)]
        blocked = [(where, str(ref)) for where, ref in refs if str(ref) in bad_refs]
        if not blocked:
            continue
        src = by_path[project.files.pop(("pipelines", key))].src
        del project.pipelines[key]
        found = []
        for where, ref in blocked:
            what = "hook" if where.startswith("hooks") else "connection"
            message = f"pipeline disabled: {what} {ref!r} is invalid (see {bad_refs[ref]})"
            found.append(Issue(src.display, where, message, src.line_of(_split(where))))
        project.broken.append(BrokenDocument("pipelines", key, src.display, found))


def _ident(doc: _Doc) -> str | None:
    data = doc.src.data if isinstance(doc.src.data, dict) else {}
    raw = data.get("name") if doc.kind == "pipelines" else data.get("id")
    if raw is None or isinstance(raw, (dict, list)):
        return None
    return to_key(str(raw)) if doc.kind == "pipelines" else str(raw)


def _seed_docs(src: SourceFile, issues: list[Issue]) -> list[_Doc]:
    """An ETL model document as the pipeline and connection documents it stands for; their line
    numbers and field paths point back into the original file."""
    translation = translate(src.data, src.path.stem)
    for parts, message in translation.problems:
        issues.append(Issue(src.display, format_path(parts), message, src.line_of(parts)))
    if translation.pipeline is None:
        return []
    out = [_Doc("pipelines", MappedSource.of(src, translation.pipeline, translation.original))]
    for conn in translation.connections:
        anchor = translation.output_path if conn["id"].endswith("__destination") else (translation.table_paths or [["CONFIG"]])[0]
        out.append(_Doc("connections", MappedSource.of(src, conn, lambda parts, a=anchor: a)))
    return out


def _reporter(src: SourceFile, issues: list[Issue]) -> Callable[[str, str], None]:
    def report(path: str, message: str) -> None:
        parts = _split(path)
        issues.append(Issue(src.display, format_path(src.field_path(parts)), message, src.line_of(parts)))

    return report


def _split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in path.replace("]", "").split("."):
        head, *indices = chunk.split("[")
        if head:
            parts.append(head)
        parts.extend(int(i) for i in indices if i.isdigit())
    return parts


__all__ = ["BrokenDocument", "Project", "load_project", "definitions_dir", "format_path"]

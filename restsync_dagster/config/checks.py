"""Rules that span documents or fields: references, schedules, keys, templates."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from .columns import output_columns, output_name
from .connection import DeltaConnection, RestConnection
from .destination import FieldMapping, field_refs
from .hook import Hook
from .pipeline import Pipeline, Table
from .templating import inspect, is_template
from ..errors import TemplateError

Report = Callable[[str, str], None]  # (field path, message)

_TABLE_PATH = re.compile(r"^tables\[(\d+)\]")

HOOK_PAYLOAD_VARIABLES = ("event", "pipeline", "run_id", "error", "url")


def walk_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk_strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_strings(v, f"{path}[{i}]")


def check_templates(
    data: dict,
    allowed_for: Callable[[str], dict[str, set[str] | None]],
    report: Report,
    rendered: Callable[[str], bool] | None = None,
) -> set[str]:
    """Parse every template; report syntax errors, unknown variables and filters, and templates in
    fields that are never rendered; return required env names."""
    required: set[str] = set()
    for path, text in walk_strings(data):
        if not is_template(text):
            continue
        if rendered is not None and not rendered(path):
            report(path, "this field is read as written, templates are not rendered here")
            continue
        try:
            info = inspect(text)
        except TemplateError as exc:
            report(path, str(exc))
            continue
        for name in sorted(info.unknown_filters):
            report(path, f"unknown template filter {name!r}; date filters: epoch, epoch_ms, strftime")
        allowed = allowed_for(path)
        for name in sorted(info.names):
            if name not in allowed:
                report(path, f"unknown template variable {name!r}; usable here: {', '.join(sorted(allowed))}")
                continue
            attrs = allowed[name]
            for attr in sorted(info.attributes.get(name, ())):
                if attrs is not None and attr not in attrs:
                    report(path, f"'{name}.{attr}' is not available here; {name} has: {', '.join(sorted(attrs)) or 'nothing'}")
        required |= info.env_required
    return required


def connection_scope(_path: str) -> dict[str, set[str] | None]:
    return {"env": None, "dt": None}


def hook_scope(path: str) -> dict[str, set[str] | None]:
    scope: dict[str, set[str] | None] = {"env": None}
    if path.startswith("payload"):
        scope.update({name: None for name in HOOK_PAYLOAD_VARIABLES})
    return scope


def pipeline_scope(data: dict) -> Callable[[str], dict[str, set[str] | None]]:
    raw_tables = data.get("tables")
    tables: list[Any] = raw_tables if isinstance(raw_tables, list) else []

    def scope(path: str) -> dict[str, set[str] | None]:
        allowed: dict[str, set[str] | None] = {"env": None, "dt": None}
        match = _TABLE_PATH.match(path)
        if match:
            index = int(match.group(1))
            table = tables[index] if index < len(tables) and isinstance(tables[index], dict) else {}
            field = path[path.index("]") + 2 :]
            if field.startswith(("incremental.", "fan_out")):
                return allowed
            if table.get("partitions"):
                allowed["partition"] = {"start", "end", "key"}
            incremental = table.get("incremental")
            if incremental:
                allowed["incremental"] = {"start", "end"}
                if isinstance(incremental, dict) and incremental.get("window"):
                    allowed["window"] = {"start", "end"}
            fan_out = table.get("fan_out")
            if isinstance(fan_out, dict):
                allowed["fan"] = set(map(str, fan_out))
            if table.get("pagination") and field.startswith(("params", "body")):
                allowed["page"] = {"cursor", "offset", "number", "size"}
            if field.startswith(("job.poll", "job.download")):
                allowed["job"] = {"id"}
            parent = table.get("parent")
            if isinstance(parent, dict):
                fields = parent.get("fields")
                listed = fields.values() if isinstance(fields, dict) else fields if isinstance(fields, list) else []
                names = {str(name) for name in listed}
                allowed["parent"] = names
        return allowed

    return scope


def check_pipeline(
    pipeline: Pipeline,
    connections: dict[str, RestConnection | DeltaConnection],
    hooks: dict[str, Hook],
    report: Report,
    invalid_ids: set[str],
) -> None:
    def connection(ref_path: str, ref_id: Any) -> RestConnection | DeltaConnection | None:
        found = connections.get(str(ref_id))
        if found is None and str(ref_id) not in invalid_ids:
            known = ", ".join(sorted(connections)) or "none"
            report(ref_path, f"no connection with id {ref_id!r} (known connections: {known})")
        return found

    source = connection("source.connection.id", pipeline.source.connection.id)
    destination = connection("destination.connection.id", pipeline.destination.connection.id)
    if isinstance(source, DeltaConnection) and isinstance(destination, DeltaConnection):
        report("destination.connection.id", "a Delta source needs a REST destination (reverse ETL); Delta to Delta is not supported")
    rest_destination = isinstance(destination, RestConnection)
    if pipeline.staging is not None:
        staging = connection("staging.connection.id", pipeline.staging.connection.id)
        if staging is not None and not isinstance(staging, DeltaConnection):
            report("staging.connection.id", f"staging must be a Delta connection, {staging.id!r} is {staging.type}")
    if isinstance(destination, DeltaConnection):
        if pipeline.destination.request is not None:
            report("destination.request", "'request' is only for REST destinations; this destination is a Delta connection")
        for i, table in enumerate(pipeline.tables):
            if table.request is not None:
                report(f"tables[{i}].request", "'request' is only for REST destinations; this destination is a Delta connection")
    if rest_destination:
        for i, table in enumerate(pipeline.tables):
            if pipeline.request_for(table) is None:
                report("destination.request", f"a REST destination needs 'destination.request' (or tables[{i}].request)")
                break

    for i, ref in enumerate(pipeline.hooks):
        if str(ref.id) not in hooks and str(ref.id) not in invalid_ids:
            report(f"hooks[{i}].id", f"no hook with id {ref.id!r} (known hooks: {', '.join(sorted(hooks)) or 'none'})")

    keys: dict[str, int] = {}
    names = {t.name: i for i, t in enumerate(pipeline.tables)}
    for i, table in enumerate(pipeline.tables):
        if table.key in keys:
            report(f"tables[{i}].name", f"table {table.name!r} has the same key {table.key!r} as tables[{keys[table.key]}]")
        keys.setdefault(table.key, i)

    for t_index, transformation in enumerate(pipeline.transformations):
        if transformation.table is not None and transformation.table not in names and transformation.table not in keys:
            report(f"transformations[{t_index}].table", f"no table {transformation.table!r} in this pipeline (tables: {', '.join(names)})")

    for i, table in enumerate(pipeline.tables):
        applied = [(t_i, t) for t_i, t in enumerate(pipeline.transformations) if t.table in (None, table.name, table.key)]
        history = [t_i for t_i, t in applied if t.type == "history_mode"]
        if history and not table.primary_key:
            report(f"transformations[{history[0]}]", f"history_mode needs a primary_key on table {table.name!r}")
        if history and table.append_only:
            report(f"transformations[{history[0]}]", f"history_mode cannot be used with append_only on table {table.name!r}")
        if table.incremental is not None and not table.append_only and not table.primary_key and not isinstance(source, DeltaConnection):
            report(f"tables[{i}].primary_key", "an incremental table merges new rows on primary_key: set primary_key, or append_only: true")
        cols, problems = output_columns(table, i, applied)
        for path, message in problems:
            report(path, message)
        if cols is not None:
            for k, name in enumerate(table.primary_key or []):
                if name not in cols and output_name(table, [t for _, t in applied], name) not in cols:
                    report(f"tables[{i}].primary_key[{k}]", f"primary key column {name!r} is not a column of the table ({', '.join(cols)})")
            if table.incremental is not None and table.incremental.cursor_field not in {f.name for f in table.schema_ or []}:
                report(f"tables[{i}].incremental.cursor_field", f"{table.incremental.cursor_field!r} is not in the table's schema")
        if table.fan_out and table.schema_ is not None:
            declared = {f.name for f in table.schema_}
            for name in table.fan_out:
                if name not in declared:
                    report(f"tables[{i}].fan_out.{name}", f"fan-out values are written to column {name!r}: declare it in the table's schema")
        if table.parent is not None:
            _check_parent(pipeline, i, report)
        if rest_destination:
            _check_request(pipeline, i, cols, report)


def _check_parent(pipeline: Pipeline, index: int, report: Report) -> None:
    table = pipeline.tables[index]
    link = table.parent
    if link is None:
        return
    by_name = {t.name: t for t in pipeline.tables} | {t.key: t for t in pipeline.tables}
    parent = by_name.get(link.table)
    if parent is None:
        report(f"tables[{index}].parent.table", f"no table {link.table!r} in this pipeline")
        return
    if parent is table:
        report(f"tables[{index}].parent.table", "a table cannot be its own parent")
        return
    seen = {table.name}
    node: Table | None = parent
    while node is not None and node.parent is not None:
        if node.name in seen:
            report(f"tables[{index}].parent.table", f"parent chain loops back to {node.name!r}")
            return
        seen.add(node.name)
        node = by_name.get(node.parent.table)
    if parent.schema_ is not None:
        declared = {f.name for f in parent.schema_}
        for column in link.fields:
            if column not in declared:
                report(f"tables[{index}].parent.fields.{column}", f"column {column!r} is not in parent table {parent.name!r}'s schema")


def _check_request(pipeline: Pipeline, index: int, cols: dict[str, str] | None, report: Report) -> None:
    table = pipeline.tables[index]
    request = pipeline.request_for(table)
    if request is None:
        return
    base = f"tables[{index}].request" if table.request is not None else "destination.request"
    if not (request.key or table.primary_key):
        report(f"tables[{index}].primary_key", "a REST destination tracks delivered records by key: set primary_key or request.key")
    if cols is None:
        return
    available = ", ".join(cols)
    for path, text in request.templates().items():
        for name in field_refs(text):
            if name not in cols:
                report(f"{base}.{path}", f"#{{{name}}} names no column of table {table.name!r} (columns: {available})")
    for k, mapping in enumerate(request.field_mapping or []):
        _check_mapping(mapping, cols, f"{base}.field_mapping[{k}]", report)
    for k, name in enumerate(request.key or []):
        if name not in cols:
            report(f"{base}.key[{k}]", f"key column {name!r} is not a column of table {table.name!r}")


def _check_mapping(mapping: FieldMapping, cols: dict[str, str], path: str, report: Report) -> None:
    if mapping.column_name not in cols:
        report(f"{path}.column_name", f"column {mapping.column_name!r} does not exist (columns: {', '.join(cols)})")
    elif mapping.field_type is not None and mapping.field_type != cols[mapping.column_name]:
        report(f"{path}.field_type", f"column {mapping.column_name!r} has type {cols[mapping.column_name]}, not {mapping.field_type}")

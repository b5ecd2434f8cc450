"""Pipelines written as ETL model documents (``MODEL: etl`` with ``CONFIG.inputs`` / ``transform`` /
``outputs``), so users coming from that format paste their configuration unchanged.

The document is translated into an ordinary pipeline document plus the connections it implies, and
validated as one; every problem is reported at the line of the original field:

=========================================  ==========================================================
``CONFIG.inputs.<name>`` (``rest_api``)    a table ``<name>`` reading its absolute ``url``; ``method``,
                                           ``headers``, ``params``, ``body``, ``auth``, ``pagination``,
                                           ``response``, ``rate_limit``, ``schema`` and every other table
                                           field keep their meaning
``CONFIG.transform``                       ``type: noop`` (or absent); a list of transformations also works
``CONFIG.outputs.<name>`` ``delta``        the destination: ``path`` is where the table lands (with
                                           several inputs, ``<path>/<input name>``); ``mode`` ``overwrite``
                                           (default) or ``append``; ``storage_options`` as on a Delta connection
``CONFIG.outputs.<name>`` ``rest_api``     a REST destination: ``url``, ``method`` (POST), ``headers``,
                                           ``auth``, ``rate_limit``; ``batch_size`` sends that many records
                                           per request; ``key`` names the columns that identify a record
``CONFIG.sync`` / ``SYNC``                 the schedule (``frequency`` minutes or ``cron``); default daily
=========================================  ==========================================================

The pipeline is named after the file (``crm_sync.yaml`` → ``crm_sync``) unless ``NAME`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .common import to_key

INPUT_FORMATS = ("rest_api",)
OUTPUT_FORMATS = ("delta", "rest_api")
DELTA_MODES = ("overwrite", "append")
DEFAULT_SYNC = {"frequency": 1440}


def is_seed_document(data: Any) -> bool:
    return isinstance(data, dict) and ("CONFIG" in data or "MODEL" in data)


@dataclass
class Translation:
    """A seed document as a pipeline document, the connection documents it implies, and the way back
    from a field of the pipeline document to the original field (for line numbers)."""

    pipeline: dict[str, Any] | None = None
    connections: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[list[str | int], str]] = field(default_factory=list)
    table_paths: list[list[str | int]] = field(default_factory=list)
    output_path: list[str | int] = field(default_factory=list)

    def original(self, parts: list[str | int]) -> list[str | int]:
        """The path in the seed document of a field of the translated pipeline document."""
        if len(parts) >= 2 and parts[0] == "tables" and isinstance(parts[1], int) and parts[1] < len(self.table_paths):
            rest = list(parts[2:])
            return self.table_paths[parts[1]] + ([] if rest[:1] == ["name"] else rest)
        if parts[:1] in (["destination"], ["staging"]):
            tail = list(parts[2:]) if parts[1:2] == ["request"] else []
            return self.output_path + tail
        if parts[:1] == ["sync"]:
            return ["CONFIG", "sync", *parts[1:]]
        return ["CONFIG"]


def _origin(url: Any) -> str | None:
    if not isinstance(url, str) or "://" not in url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def translate(data: dict[str, Any], stem: str) -> Translation:
    out = Translation()
    config = data.get("CONFIG")
    if data.get("MODEL", "etl") != "etl":
        out.problems.append((["MODEL"], f"expected MODEL: etl, got {data.get('MODEL')!r}"))
    unknown = [k for k in data if k not in ("MODEL", "VERSION", "NAME", "DESCRIPTION", "CONFIG", "SYNC")]
    for key in unknown:
        out.problems.append(([key], f"unknown key '{key}'; expected one of: MODEL, VERSION, NAME, DESCRIPTION, CONFIG, SYNC"))
    if not isinstance(config, dict):
        out.problems.append((["CONFIG"], "expected a mapping with 'inputs' and 'outputs'"))
        return out
    for key in config:
        if key not in ("inputs", "transform", "outputs", "sync"):
            out.problems.append((["CONFIG", key], f"unknown key '{key}'; expected one of: inputs, transform, outputs, sync"))
    name = str(data.get("NAME") or stem)
    key = to_key(name)
    inputs = config.get("inputs")
    outputs = config.get("outputs")
    if not isinstance(inputs, dict) or not inputs:
        out.problems.append((["CONFIG", "inputs"], "expected at least one input: a mapping of name → {format: rest_api, url: ...}"))
        inputs = {}
    if not isinstance(outputs, dict) or len(outputs) != 1:
        out.problems.append((["CONFIG", "outputs"], "expected exactly one output: {<name>: {format: delta, path: ...}} or {format: rest_api, url: ...}"))
        outputs = {}

    tables: list[dict[str, Any]] = []
    origins: list[str] = []
    for input_name, spec in inputs.items():
        where = ["CONFIG", "inputs", input_name]
        if not isinstance(spec, dict):
            out.problems.append((where, "expected a mapping with format: rest_api and url"))
            continue
        if spec.get("format") not in INPUT_FORMATS:
            out.problems.append((where + ["format"], f"expected format: rest_api, got {spec.get('format')!r}"))
            continue
        table = {k: v for k, v in spec.items() if k != "format"}
        table["name"] = str(input_name)
        origin = _origin(table.get("url"))
        if "url" not in table:
            out.problems.append((where, "missing required key 'url' (the endpoint's absolute URL)"))
        elif origin is None and "{{" not in str(table.get("url")):
            out.problems.append((where + ["url"], f"expected an absolute http:// or https:// URL, got {table.get('url')!r}"))
        if origin:
            origins.append(origin)
        out.table_paths.append(where)
        tables.append(table)

    source_id = f"{key}__source"
    out.connections.append({"id": source_id, "type": "rest", "base_url": origins[0] if origins else "http://localhost",
                            "name": f"{name} (source)"})
    pipeline: dict[str, Any] = {
        "definition_version": 1,
        "name": name,
        "source": {"connection": {"id": source_id}},
        "sync": config.get("sync") or data.get("SYNC") or dict(DEFAULT_SYNC),
        "tables": tables,
    }
    if data.get("DESCRIPTION"):
        pipeline["description"] = str(data["DESCRIPTION"])
    transform = config.get("transform")
    if isinstance(transform, list):
        pipeline["transformations"] = transform
    elif transform is not None and not (isinstance(transform, dict) and transform.get("type") == "noop" and len(transform) == 1):
        out.problems.append((["CONFIG", "transform"], "expected {type: noop} or a list of transformations"))

    for output_name, spec in outputs.items():
        out.output_path = ["CONFIG", "outputs", output_name]
        if not isinstance(spec, dict) or spec.get("format") not in OUTPUT_FORMATS:
            got = spec.get("format") if isinstance(spec, dict) else spec
            out.problems.append((out.output_path + ["format"], f"expected format: delta or rest_api, got {got!r}"))
            break
        if spec["format"] == "delta":
            _delta_output(out, spec, key, pipeline)
        else:
            _rest_output(out, spec, key, pipeline)
    if "destination" not in pipeline:
        pipeline["destination"] = {"connection": {"id": f"{key}__destination"}}
    out.pipeline = pipeline
    return out


def _delta_output(out: Translation, spec: dict[str, Any], key: str, pipeline: dict[str, Any]) -> None:
    unknown = [k for k in spec if k not in ("format", "path", "mode", "storage_options")]
    for k in unknown:
        out.problems.append((out.output_path + [k], f"unknown key '{k}'; expected one of: format, path, mode, storage_options"))
    path = spec.get("path")
    if not isinstance(path, str) or not path.strip():
        out.problems.append((out.output_path + ["path"], "missing required key 'path' (where the Delta table lands)"))
        path = "."
    mode = spec.get("mode", "overwrite")
    if mode not in DELTA_MODES:
        out.problems.append((out.output_path + ["mode"], f"expected mode overwrite or append, got {mode!r}"))
    conn = {"id": f"{key}__destination", "type": "delta", "path": path.rstrip("/") or path}
    if spec.get("storage_options"):
        conn["storage_options"] = spec["storage_options"]
    out.connections.append(conn)
    pipeline["destination"] = {"connection": {"id": conn["id"]}}
    single = len(pipeline["tables"]) == 1
    for table in pipeline["tables"]:
        table.setdefault("location", "." if single else to_key(table["name"]))
        if mode == "append":
            table.setdefault("append_only", True)


def _rest_output(out: Translation, spec: dict[str, Any], key: str, pipeline: dict[str, Any]) -> None:
    origin = _origin(spec.get("url"))
    if origin is None:
        out.problems.append((out.output_path + ["url"], f"expected an absolute http:// or https:// URL, got {spec.get('url')!r}"))
    conn = {"id": f"{key}__destination", "type": "rest", "base_url": origin or "http://localhost"}
    out.connections.append(conn)
    request = {k: v for k, v in spec.items() if k != "format"}
    if "batch_size" in request:
        request.setdefault("request_mode", "batch")
    pipeline["destination"] = {"connection": {"id": conn["id"]}, "request": request}

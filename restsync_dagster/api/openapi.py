"""The OpenAPI 3.1 document of ``/api/public/v1``, served at ``/api/public/v1/openapi.json``.

Written by hand so each status code and body is the one the handlers return; the pipeline document
schema comes from the pydantic models (``Definition.*`` components).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from typing import Any

from ..config.pipeline import Pipeline
from .keys import MAX_EXPIRES_DAYS, NAME

BASE = "/api/public/v1"
ID_PATTERN = r"^[a-z0-9_]+$"
RUN_STATUSES = ["QUEUED", "NOT_STARTED", "MANAGED", "STARTING", "STARTED", "SUCCESS", "FAILURE", "CANCELING", "CANCELED"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties) if required is None else required, **extra}


TIME = {"type": "string", "format": "date-time"}
STR = {"type": "string"}
_ERRORS = {
    400: "The document parsed but failed validation; `errors` names each failing field.",
    401: "Missing, invalid, revoked or expired API key.",
    403: "The key is not an admin key (key management needs one).",
    404: "No such pipeline or key.",
    409: "Conflict (see `message`).",
    413: "The body is larger than 1 MB.",
    422: "The body or a parameter has the wrong shape: unparseable YAML/JSON, not a mapping, unknown keys, wrong types.",
    503: "The Dagster code location did not load, so schedules cannot be read or changed.",
}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": _ERRORS[code], "content": {"application/json": {"schema": _ref("Error")}}}
        for code in codes
    }


def _ok(schema_name: str, description: str, status: int = 200) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}}


def _document_body(description: str) -> dict[str, Any]:
    schema = _ref("Definition.Pipeline")
    return {
        "required": True,
        "description": description + " `Content-Type: application/json` is read as JSON, anything else as YAML.",
        "content": {"application/yaml": {"schema": schema}, "application/json": {"schema": schema}},
    }


def _path_param(name: str, description: str, pattern: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string", "pattern": pattern}}


PIPELINE_ID = _path_param("id", "The pipeline's key (its name lower-cased, runs of other characters than [a-z0-9_] as `_`).", ID_PATTERN)
KEY_NAME = _path_param("name", "The key's name.", NAME.pattern)


def _schemas() -> dict[str, Any]:
    summary = {
        "id": STR,
        "name": STR,
        "description": _nullable(STR),
        "source_connection_id": _nullable(STR),
        "destination_connection_id": _nullable(STR),
        "table_count": {"type": "integer", "minimum": 0},
        "sync_enabled": _nullable({"type": "boolean"}),
        "document": {"type": "string", "description": "Path of the document, relative to the definitions folder."},
        "created_at": TIME,
        "updated_at": TIME,
        "last_run": _nullable(_ref("RunSummary")),
    }
    schedules = {"type": "array", "items": _ref("Schedule")}
    state = {"type": "string", "enum": ["running", "stopped", "partial", "unknown"]}
    key = {
        "name": STR,
        "prefix": {"type": "string", "description": "The first characters of the value, to tell keys apart."},
        "admin": {"type": "boolean"},
        "created_at": TIME,
        "expires_at": _nullable(TIME),
        "revoked_at": _nullable(TIME),
        "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
    }
    return {
        "Error": _obj(
            {
                "error": {"type": "string", "description": "A short code: not_found, unauthorized, forbidden, conflict, validation_failed, invalid_document, ..."},
                "message": STR,
                "valid": {"type": "boolean", "const": False},
                "errors": {"type": "array", "items": _ref("FieldError")},
            },
            required=["error", "message"],
        ),
        "FieldError": _obj({"path": {"type": "string", "description": "Field path, e.g. `tables[2].columns`; empty for the whole document."}, "message": STR, "line": _nullable({"type": "integer", "minimum": 1})}),
        "Pagination": _obj(
            {
                "page": {"type": "integer", "minimum": 1},
                "page_size": {"type": "integer", "minimum": 1, "maximum": 100},
                "returned": {"type": "integer", "minimum": 0},
                "has_more": {"type": "boolean"},
            }
        ),
        "RunSummary": _obj(
            {
                "run_id": STR,
                "job_name": STR,
                "status": {"type": "string", "enum": RUN_STATUSES},
                "created_at": TIME,
                "started_at": _nullable(TIME),
                "ended_at": _nullable(TIME),
            }
        ),
        "PipelineSummary": _obj(summary),
        "PipelineList": _obj({"data": {"type": "array", "items": _ref("PipelineSummary")}, "pagination": _ref("Pagination")}),
        "TableState": _obj(
            {
                "name": STR,
                "key": STR,
                "asset_key": {"type": "array", "items": STR, "minItems": 2, "maxItems": 2},
                "last_materialization_at": _nullable(TIME),
            }
        ),
        "Schedule": _obj({"name": STR, "cron_schedule": STR, "status": {"type": "string", "enum": ["running", "stopped"]}}),
        "PipelineMetadata": _obj(
            {
                **summary,
                "state": state,
                "schedules": schedules,
                "schedules_error": _nullable(STR),
                "valid": {"type": "boolean", "description": "False when the document (or a connection or hook it uses) is invalid, so the pipeline is not loaded and does not run."},
                "errors": {"type": "array", "items": _ref("FieldError"), "description": "Why the pipeline is not loaded; empty when valid."},
                "tables": {"type": "array", "items": _ref("TableState")},
            }
        ),
        "PipelineWriteResult": _obj({**summary, "changed": {"type": "boolean", "description": "False when the stored document already equalled this one (nothing was written)."}}),
        "ValidationResult": _obj(
            {"valid": {"type": "boolean", "const": True}, "id": STR, "changed": {"type": "boolean", "description": "Whether a replace would change the stored document (existing pipelines only)."}},
            required=["valid", "id"],
        ),
        "ScheduleChange": _obj({"id": STR, "state": state, "schedules": schedules, "canceled_runs": {"type": "array", "items": STR}}),
        "ArchiveResult": _obj({"id": STR, "archived": {"type": "boolean", "const": True}, "archived_to": STR, "schedules": schedules}),
        "ApiKey": _obj(key),
        "ApiKeyList": _obj({"keys": {"type": "array", "items": _ref("ApiKey")}}),
        "NewApiKey": _obj({**key, "key": {"type": "string", "pattern": "^rsk_", "description": "The key value. Shown only in this response."}}),
        "KeyCreate": _obj(
            {
                "name": {"type": "string", "pattern": NAME.pattern},
                "expires_days": _nullable({"type": "integer", "minimum": 1, "maximum": MAX_EXPIRES_DAYS}),
                "admin": {"type": "boolean", "default": False},
            },
            required=["name"],
            additionalProperties=False,
        ),
    }


def _definition_schemas() -> dict[str, Any]:
    schema = Pipeline.model_json_schema(ref_template="#/components/schemas/Definition.{model}", by_alias=True)
    defs = schema.pop("$defs", {})
    out = {f"Definition.{name}": body for name, body in defs.items()}
    out["Definition.Pipeline"] = schema
    return out


def _paths() -> dict[str, Any]:
    pipeline_tags = ["pipelines"]
    return {
        "/pipelines": {
            "get": {
                "operationId": "listPipelines",
                "tags": pipeline_tags,
                "summary": "List pipelines, newest first",
                "description": "Newest first by creation time (documents the API did not create count from their file's modification time). Page until `has_more` is false.",
                "parameters": [
                    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {
                        "name": "page_size",
                        "in": "query",
                        "required": False,
                        "description": "Default 50; values above 100 are capped at 100.",
                        "schema": {"type": "integer", "minimum": 1, "default": 50},
                    },
                ],
                "responses": {**_ok("PipelineList", "A page of pipeline summaries."), **_errors(401, 422)},
            },
            "post": {
                "operationId": "createPipeline",
                "tags": pipeline_tags,
                "summary": "Create a pipeline from a definition document",
                "description": "Writes `pipelines/<key>.yaml`. Fetch the document afterwards with GET /pipelines/{id}/definition.",
                "requestBody": _document_body("A pipeline definition document."),
                "responses": {
                    "201": {
                        "description": "Created.",
                        "headers": {"Location": {"schema": STR, "description": "URL of the new pipeline."}},
                        "content": {"application/json": {"schema": _ref("PipelineWriteResult")}},
                    },
                    **_errors(400, 401, 409, 413, 422),
                },
            },
        },
        "/pipelines/validate": {
            "post": {
                "operationId": "validateNewPipeline",
                "tags": pipeline_tags,
                "summary": "Dry-run a create",
                "requestBody": _document_body("A pipeline definition document."),
                "responses": {**_ok("ValidationResult", "The document is valid and its key is free."), **_errors(400, 401, 409, 413, 422)},
            }
        },
        "/pipelines/{id}": {
            "parameters": [PIPELINE_ID],
            "get": {
                "operationId": "getPipeline",
                "tags": pipeline_tags,
                "summary": "Runtime metadata: schedule state, last run, last materialization per table",
                "responses": {**_ok("PipelineMetadata", "The pipeline's metadata."), **_errors(401, 404)},
            },
            "delete": {
                "operationId": "archivePipeline",
                "tags": pipeline_tags,
                "summary": "Archive: stop the schedules, then move the document to `.archive/`",
                "responses": {**_ok("ArchiveResult", "Archived."), **_errors(401, 404, 503)},
            },
        },
        "/pipelines/{id}/definition": {
            "parameters": [PIPELINE_ID],
            "get": {
                "operationId": "getPipelineDefinition",
                "tags": pipeline_tags,
                "summary": "The definition document, as JSON (default) or YAML (`Accept: application/yaml`)",
                "responses": {
                    "200": {
                        "description": "The document.",
                        "content": {
                            "application/json": {"schema": {"type": "object", "description": "The stored document (see Definition.Pipeline)."}},
                            "application/yaml": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(401, 404),
                },
            },
            "put": {
                "operationId": "replacePipelineDefinition",
                "tags": pipeline_tags,
                "summary": "Replace the document (idempotent: the same document again writes nothing)",
                "requestBody": _document_body("The new document; its key must be the id in the path."),
                "responses": {**_ok("PipelineWriteResult", "Replaced, or unchanged (`changed: false`)."), **_errors(400, 401, 404, 413, 422)},
            },
        },
        "/pipelines/{id}/definition/validate": {
            "parameters": [PIPELINE_ID],
            "post": {
                "operationId": "validatePipelineDefinition",
                "tags": pipeline_tags,
                "summary": "Dry-run a replace",
                "requestBody": _document_body("The new document; its key must be the id in the path."),
                "responses": {**_ok("ValidationResult", "The document is valid."), **_errors(400, 401, 404, 413, 422)},
            },
        },
        "/pipelines/{id}/start": {
            "parameters": [PIPELINE_ID],
            "post": {
                "operationId": "startPipeline",
                "tags": pipeline_tags,
                "summary": "Turn the pipeline's schedules on",
                "responses": {**_ok("ScheduleChange", "The schedules are running."), **_errors(401, 404, 409, 503)},
            },
        },
        "/pipelines/{id}/stop": {
            "parameters": [PIPELINE_ID],
            "post": {
                "operationId": "stopPipeline",
                "tags": pipeline_tags,
                "summary": "Turn the pipeline's schedules off; `force=true` also cancels its runs in flight",
                "parameters": [{"name": "force", "in": "query", "required": False, "schema": {"type": "boolean", "default": False}}],
                "responses": {**_ok("ScheduleChange", "The schedules are stopped."), **_errors(401, 404, 409, 422, 503)},
            },
        },
        "/keys": {
            "get": {
                "operationId": "listKeys",
                "tags": ["keys"],
                "summary": "List API keys (never their values); admin keys only",
                "responses": {**_ok("ApiKeyList", "Every key, including revoked and expired ones."), **_errors(401, 403)},
            },
            "post": {
                "operationId": "createKey",
                "tags": ["keys"],
                "summary": "Mint an API key; the value is returned once; admin keys only",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("KeyCreate")}}},
                "responses": {**_ok("NewApiKey", "The new key, with its value.", status=201), **_errors(400, 401, 403, 409, 413, 422)},
            },
        },
        "/keys/{name}": {
            "parameters": [KEY_NAME],
            "delete": {
                "operationId": "revokeKey",
                "tags": ["keys"],
                "summary": "Revoke an API key; admin keys only",
                "responses": {**_ok("ApiKey", "The revoked key."), **_errors(401, 403, 404)},
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "tags": ["meta"],
                "summary": "This document (no key needed)",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }
        },
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    try:
        version = metadata.version("restsync-dagster")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "0.0.0"

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "restsync management API",
            "version": version,
            "description": (
                "Manage restsync pipelines (definition documents) and their Dagster schedules. "
                "Every operation except this document needs `Authorization: Bearer rsk_...`; "
                "key management needs an admin key. Errors are JSON `{error, message}`; validation "
                "errors add `valid: false` and `errors: [{path, message, line}]`."
            ),
        },
        "servers": [{"url": BASE}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "An `rsk_...` key minted with `restsync keys create`."}},
            "schemas": {**_schemas(), **_definition_schemas()},
        },
    }

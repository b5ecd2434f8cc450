"""An asynchronous report API: create a report, poll its status, download its result files.

- ``POST /reports`` with a JSON body ``{"resource": "orders" | "customers", "format": "jsonl" |
  "csv", "compression": "none" | "gzip", "files": 1..5, "polls": n, "fail": false}`` (all optional;
  defaults orders, jsonl, none, 2, 2, false) → 202 ``{"report": {"id": "rep-1", "status":
  "pending"}}``.
- ``GET /reports/{id}`` → ``{"report": {"id", "status", "polls"}}``: ``running`` for the first
  ``polls`` polls, then ``done`` with ``"files": [absolute URLs]`` (or ``failed`` with an
  ``error`` when created with ``fail: true``). Unknown id → 404.
- ``GET /reports/{id}/files/{n}`` → file ``n`` (1-based) of the report once done: the resource's
  records split evenly over the files, as JSON lines (``application/x-ndjson``) or CSV with a header
  row (``text/csv``), gzip-compressed (``application/gzip``, no ``Content-Encoding``) when asked.
  Before the report is done → 409.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .payloads import error, json_response, read_body
from .views import ParamError


@dataclass
class Report:
    id: str
    resource: str
    format: str
    compression: str
    files: int
    polls_needed: int
    fail: bool
    polls: int = 0

    @property
    def status(self) -> str:
        if self.polls <= self.polls_needed:
            return "running"
        return "failed" if self.fail else "done"


@dataclass
class ReportState:
    reports: dict[str, Report] = field(default_factory=dict)

    def reset(self) -> None:
        self.reports.clear()


def _state(request: Request) -> ReportState:
    return request.app.state.demo.reports


def _choice(body: dict, name: str, allowed: tuple[str, ...]) -> str:
    value = body.get(name, allowed[0])
    if value not in allowed:
        raise ParamError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _count(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ParamError(f"{name}: expected an integer between {low} and {high}, got {value!r}")
    return value


async def create(request: Request) -> Response:
    body = await read_body(request) or {}
    if not isinstance(body, dict):
        raise ParamError("expected a JSON object body")
    state = _state(request)
    report = Report(
        id=f"rep-{len(state.reports) + 1}",
        resource=_choice(body, "resource", ("orders", "customers")),
        format=_choice(body, "format", ("jsonl", "csv")),
        compression=_choice(body, "compression", ("none", "gzip")),
        files=_count(body, "files", 2, 1, 5),
        polls_needed=_count(body, "polls", 2, 0, 10_000),
        fail=bool(body.get("fail", False)),
    )
    state.reports[report.id] = report
    return json_response({"report": {"id": report.id, "status": "pending"}}, 202)


def _report(request: Request) -> Report | None:
    return _state(request).reports.get(request.path_params["report_id"])


async def status(request: Request) -> Response:
    report = _report(request)
    if report is None:
        return error("unknown report", 404)
    report.polls += 1
    out: dict[str, Any] = {"id": report.id, "status": report.status, "polls": report.polls}
    if out["status"] == "done":
        base = str(request.url).split("?")[0]
        out["files"] = [f"{base}/files/{n}" for n in range(1, report.files + 1)]
    elif out["status"] == "failed":
        out["error"] = "the report backend gave up"
    return json_response({"report": out})


async def download(request: Request) -> Response:
    report = _report(request)
    if report is None:
        return error("unknown report", 404)
    if report.status != "done":
        return error(f"report is {report.status}", 409)
    number = int(request.path_params["number"])
    if not 1 <= number <= report.files:
        return error("unknown file", 404)
    store = request.app.state.demo.store
    rows = store.orders if report.resource == "orders" else store.customers
    size = -(-len(rows) // report.files)
    chunk = rows[(number - 1) * size : number * size]
    if report.format == "jsonl":
        content, media = b"".join(orjson.dumps(row) + b"\n" for row in chunk), "application/x-ndjson"
    else:
        flat = [{k: v for k, v in row.items() if not isinstance(v, (dict, list))} for row in chunk]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(flat[0]) if flat else [])
        writer.writeheader()
        writer.writerows(flat)
        content, media = text.getvalue().encode(), "text/csv"
    if report.compression == "gzip":
        content, media = gzip.compress(content), "application/gzip"
    return Response(content, 200, media_type=media)


def routes() -> list[Route]:
    return [
        Route("/reports", create, methods=["POST"]),
        Route("/reports/{report_id}", status),
        Route("/reports/{report_id}/files/{number:int}", download),
    ]

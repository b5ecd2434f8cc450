"""An in-memory `contacts` endpoint that REST-destination pipelines deliver to.

It accepts every body shape restsync can send — one object, a list, a list wrapped in any
(nested) attribute, CSV, url-encoded or multipart fields — upserts by `id`, and keeps a raw log
of every non-GET request so tests can assert on exactly what went over the wire.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .faults import DroppedConnection, Handler, with_faults
from .payloads import BodyError, error, json_response, read_body


class ReceiverState:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.contacts: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.next_id = 1

    def upsert(self, record: dict) -> tuple[dict, bool]:
        """Store the record and say whether it is new. A record without `id` gets the next free one."""
        if record.get("id") in (None, ""):
            record = {"id": self.next_id, **record}
        if isinstance(record["id"], int) or str(record["id"]).isdigit():
            self.next_id = max(self.next_id, int(record["id"]) + 1)
        key = str(record["id"])
        created = key not in self.contacts
        self.contacts[key] = record
        return record, created


def _find_list(body: dict) -> list | None:
    for value in body.values():
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return value
        if isinstance(value, dict) and (found := _find_list(value)) is not None:
            return found
    return None


def extract_records(body: Any) -> tuple[list[dict], bool]:
    """(records, was_batch). An object with `id` or `email` is a record, else a wrapper."""
    if isinstance(body, dict) and ("id" in body or "email" in body):
        return [body], False
    records = body if isinstance(body, list) else _find_list(body) if isinstance(body, dict) else None
    if records is None:
        if isinstance(body, dict):
            return [body], False
        raise BodyError("expected a JSON object, a list of objects, CSV or form fields")
    if not all(isinstance(r, dict) for r in records):
        raise BodyError("every record must be an object")
    return records, True


def _state(request: Request) -> ReceiverState:
    return request.app.state.demo.receiver


def _missing_email(records: list[dict]) -> Response | None:
    for index, record in enumerate(records):
        if not record.get("email"):
            return error("email is required", 422, index=index, id=record.get("id"))
    return None


async def _record_body(request: Request) -> dict | Response:
    try:
        body = await read_body(request)
    except BodyError as exc:
        return error(str(exc), 400)
    if not isinstance(body, dict):
        return error("expected one record (a JSON object or form fields)", 400)
    return body


def logged(handler: Handler) -> Handler:
    """Log the raw request and the status it got (None when the connection was dropped)."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        if request.method == "GET":
            return await handler(request)
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": dict(request.headers),
            "body": (await request.body()).decode("utf-8", "replace"),
            "status": None,
        }
        _state(request).requests.append(entry)
        response = await handler(request)
        if not isinstance(response, DroppedConnection):
            entry["status"] = response.status_code
        return response

    return endpoint


@logged
@with_faults
async def contacts(request: Request) -> Response:
    state = _state(request)
    if request.method == "GET":
        rows = list(state.contacts.values())
        return json_response({"data": rows, "total": len(rows)})
    try:
        records, batch = extract_records(await read_body(request))
    except BodyError as exc:
        return error(str(exc), 400)
    if (rejected := _missing_email(records)) is not None:
        return rejected
    stored = [state.upsert(record) for record in records]
    if not batch:
        record, is_new = stored[0]
        return json_response(record, 201 if is_new else 200)
    created = sum(new for _, new in stored)
    return json_response({"received": len(stored), "created": created,
                          "updated": len(stored) - created})


@logged
@with_faults
async def contact(request: Request) -> Response:
    state = _state(request)
    key = request.path_params["id"]
    current = state.contacts.get(key)
    if request.method in ("GET", "DELETE", "PATCH") and current is None:
        return error(f"contact {key} not found", 404)
    if request.method == "GET":
        return json_response(current)
    if request.method == "DELETE":
        del state.contacts[key]
        return Response(status_code=204)
    body = await _record_body(request)
    if isinstance(body, Response):
        return body
    record = {**(current or {}), **body} if request.method == "PATCH" else dict(body)
    record["id"] = int(key) if key.isdigit() else key
    if (rejected := _missing_email([record])) is not None:
        return rejected
    record, created = state.upsert(record)
    return json_response(record, 201 if created else 200)


async def request_log(request: Request) -> Response:
    return json_response({"requests": _state(request).requests})


def routes() -> list[Route]:
    return [
        Route("/receiver/contacts", contacts, methods=["GET", "POST"]),
        Route("/receiver/contacts/{id}", contact, methods=["GET", "PUT", "PATCH", "DELETE"]),
        Route("/receiver/requests", request_log),
    ]

"""`/_admin`: change the data between syncs, reset everything, and see what clients asked for.

Admin requests are not counted in the stats, so a test can read them without disturbing them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from .data import RESOURCES, UnknownRecords
from .payloads import BodyError, error, json_response, read_body

MAX_ADD = 100_000


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.by_path: dict[str, int] = {}
        self.last_params: dict[str, dict[str, str]] = {}
        self.in_flight = 0
        self.peak_in_flight = 0

    def record(self, scope: Scope) -> bool:
        """Count a request; False for the admin routes, which are not counted."""
        path = scope["path"]
        if path.startswith("/_admin"):
            return False
        self.requests += 1
        self.by_path[path] = self.by_path.get(path, 0) + 1
        query = scope.get("query_string", b"").decode("latin-1")
        self.last_params[path] = dict(parse_qsl(query, keep_blank_values=True))
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return True

    def done(self) -> None:
        self.in_flight -= 1


async def _command(request: Request) -> tuple[str, dict[str, Any]] | Response:
    try:
        body = await read_body(request)
    except BodyError as exc:
        return error(str(exc), 400)
    if not isinstance(body, dict) or body.get("resource") not in RESOURCES:
        return error(f"resource: expected one of {', '.join(RESOURCES)}", 400)
    return body["resource"], body


async def touch(request: Request) -> Response:
    command = await _command(request)
    if isinstance(command, Response):
        return command
    resource, body = command
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        return error("ids: expected a list of integers", 400)
    try:
        stamp = request.app.state.demo.store.touch(resource, ids)
    except UnknownRecords as exc:
        return error(f"no {resource} with ids {exc.args[0]}", 404)
    return json_response({"resource": resource, "touched": ids, "updated_at": stamp})


async def add(request: Request) -> Response:
    command = await _command(request)
    if isinstance(command, Response):
        return command
    resource, body = command
    count = body.get("count", 1)
    if not isinstance(count, int) or not 1 <= count <= MAX_ADD:
        return error(f"count: expected an integer between 1 and {MAX_ADD}", 400)
    ids, stamp = request.app.state.demo.store.add(resource, count)
    return json_response({"resource": resource, "ids": ids, "updated_at": stamp})


async def reset(request: Request) -> Response:
    request.app.state.demo.reset()
    return json_response({"ok": True})


async def stats(request: Request) -> Response:
    demo = request.app.state.demo
    return json_response({"requests": demo.stats.requests, "peak_in_flight": demo.stats.peak_in_flight,
                          "by_path": demo.stats.by_path,
                          "last_params": demo.stats.last_params, **demo.auth.stats()})


async def expire_sessions(request: Request) -> Response:
    sessions = request.app.state.demo.auth.sessions
    expired = len(sessions)
    sessions.clear()
    return json_response({"expired": expired})


async def expire_tokens(request: Request) -> Response:
    auth = request.app.state.demo.auth
    expired = len(auth.tokens) + len(auth.oauth_tokens)
    auth.tokens.clear()
    auth.oauth_tokens.clear()
    return json_response({"expired": expired})


def routes() -> list[Route]:
    return [
        Route("/_admin/touch", touch, methods=["POST"]),
        Route("/_admin/add", add, methods=["POST"]),
        Route("/_admin/reset", reset, methods=["POST"]),
        Route("/_admin/stats", stats),
        Route("/_admin/expire_sessions", expire_sessions, methods=["POST"]),
        Route("/_admin/expire_tokens", expire_tokens, methods=["POST"]),
    ]

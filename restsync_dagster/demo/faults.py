"""Fault injection driven by query parameters, so one test can break one request and nothing else.

Counters are keyed by `fault_key` (default: the request path) and by fault, so `fail_times=N`
limits each fault to the first N requests that carry that key; without `fail_times` a fault is
permanent. Knobs: `delay`, `drop`, `fail_status` (+ `retry_after`, `retry_after_date`,
`ratelimit_reset`), `html`, `error_body`, `truncate`, and `fail_after_pages` (raised by the
pagination code through `check_page`, since only it knows which page is asked for).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import formatdate
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from .payloads import error, json_response
from .views import ParamError

Handler = Callable[[Request], Awaitable[Response]]

MAINTENANCE_PAGE = ("<!DOCTYPE html><html><head><title>Service unavailable</title></head>"
                    "<body><h1>We'll be right back</h1><p>Scheduled maintenance.</p></body></html>")


class InjectedFailure(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def number(params: Mapping[str, str], name: str, default: float | None = None) -> float:
    value = params.get(name)
    if value is None:
        if default is None:
            raise ParamError(f"{name} is required")
        return float(default)
    try:
        return float(value)
    except ValueError:
        raise ParamError(f"{name}: expected a number, got {value!r}") from None


class FaultState:
    def __init__(self) -> None:
        self.counters: dict[tuple[str, str], int] = {}

    def reset(self) -> None:
        self.counters.clear()

    def fire(self, request: Request, fault: str) -> bool:
        """Whether `fault` applies to this request, consuming one of its `fail_times`."""
        params = request.query_params
        if "fail_times" not in params:
            return True
        key = (params.get("fault_key") or request.url.path, fault)
        seen = self.counters.get(key, 0)
        if seen >= number(params, "fail_times"):
            return False
        self.counters[key] = seen + 1
        return True


def _state(request: Request) -> FaultState:
    return request.app.state.demo.faults


def check_page(request: Request, page_index: int) -> None:
    """`fail_after_pages=N`: pages with 0-based index >= N fail (status `fail_status`, default 500)."""
    params = request.query_params
    if "fail_after_pages" not in params or page_index < number(params, "fail_after_pages"):
        return
    if _state(request).fire(request, "after_pages"):
        raise InjectedFailure(int(number(params, "fail_status", 500)))


def failure(params: Mapping[str, str], status: int) -> Response:
    if not 200 <= status <= 599:
        raise ParamError(f"fail_status: expected an HTTP status 200..599, got {status}")
    headers = {}
    if "retry_after" in params:
        headers["Retry-After"] = params["retry_after"]
    if "retry_after_date" in params:
        headers["Retry-After"] = formatdate(time.time() + number(params, "retry_after_date"), usegmt=True)
    if "ratelimit_reset" in params:
        headers["X-RateLimit-Reset"] = str(int(time.time() + number(params, "ratelimit_reset")))
        headers["X-RateLimit-Remaining"] = "0"
    try:
        reason = HTTPStatus(status).phrase.lower()
    except ValueError:
        reason = "injected failure"
    return error(reason, status, headers, injected=True)


class DroppedConnection(Response):
    """Closes the TCP connection without answering, so the client sees a transport error.

    Under uvicorn the raw `send` is a bound method of the request cycle, which holds the transport
    (stashed in the scope by `DemoApp`). Aborting it and waiting for uvicorn to notice stops uvicorn
    from sending its own 500. Elsewhere, fall back to a response cut short of its Content-Length.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = scope.get("demo.cycle")
        transport = getattr(cycle, "transport", None)
        if transport is not None:
            transport.abort()
            for _ in range(100):
                if getattr(cycle, "disconnected", True):
                    return
                await asyncio.sleep(0.001)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})


def _truncated(response: Response) -> Response:
    body = bytes(response.body)
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    return Response(body[: max(1, len(body) // 2)], response.status_code, headers)


def with_faults(handler: Handler) -> Handler:
    """Wrap an endpoint so every fault knob in its query string applies to it."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        params = request.query_params
        state = _state(request)
        if "delay" in params:
            await asyncio.sleep(number(params, "delay"))
        if params.get("drop") == "1" and state.fire(request, "drop"):
            return DroppedConnection()
        if "fail_status" in params and "fail_after_pages" not in params and state.fire(request, "status"):
            return failure(params, int(number(params, "fail_status")))
        if params.get("html") == "1" and state.fire(request, "html"):
            return HTMLResponse(MAINTENANCE_PAGE)
        if params.get("error_body") == "1" and state.fire(request, "error_body"):
            return json_response({"success": False, "error": "upstream failure"})
        try:
            response = await handler(request)
        except InjectedFailure as exc:
            return failure(params, exc.status)
        if params.get("truncate") == "1" and state.fire(request, "truncate"):
            return _truncated(response)
        return response

    return endpoint

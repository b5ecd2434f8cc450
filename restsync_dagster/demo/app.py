"""The demo app: data routes served twice — open at `/` and guarded at `/auth/{kind}/…`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from . import admin, auth, paging, ranged, receiver, reports, shapes
from .admin import Stats
from .data import Store
from .faults import FaultState, with_faults
from .payloads import error, json_response
from .receiver import ReceiverState
from .views import ParamError

VERSION = "1"


class DemoState:
    """Everything mutable, so `/_admin/reset` can restore the server to its first answer."""

    def __init__(self) -> None:
        self.store = Store()
        self.faults = FaultState()
        self.auth = auth.AuthState()
        self.receiver = ReceiverState()
        self.stats = Stats()
        self.reports = reports.ReportState()

    def reset(self) -> None:
        self.store.reset()
        self.faults.reset()
        self.auth.reset()
        self.receiver.reset()
        self.stats.reset()
        self.reports.reset()


class DemoApp(Starlette):
    """Counts requests and keeps uvicorn's raw `send` owner, which `drop=1` needs to cut the line."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = False
        if scope["type"] == "http":
            counted = self.state.demo.stats.record(scope)
            scope["demo.cycle"] = getattr(send, "__self__", None)
        try:
            await super().__call__(scope, receive, send)
        finally:
            if counted:
                self.state.demo.stats.done()


@with_faults
async def health(request: Request) -> Response:
    return json_response({"status": "ok", "version": VERSION})


async def _param_error(request: Request, exc: Exception) -> Response:
    return error(str(exc), 400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.detail, exc.status_code, exc.headers)


def data_routes() -> list[BaseRoute]:
    return [Route("/health", health), *paging.routes(), *receiver.routes(), *ranged.routes(), *reports.routes(),
            *shapes.routes()]


def create_app() -> Starlette:
    data = data_routes()
    app = DemoApp(
        routes=[
            *data,
            Mount("/auth/{kind}", app=auth.AuthGuard(Router(routes=data))),
            *auth.routes(),
            *admin.routes(),
        ],
        exception_handlers={ParamError: _param_error, HTTPException: _http_error},
    )
    app.state.demo = DemoState()
    return app

"""The management API as a Starlette app under ``/api/public/v1``.

Every endpoint needs ``Authorization: Bearer rsk_...`` except the OpenAPI document, which only
describes the API. The key is checked before anything else, so an unknown id answers 401 to a
caller without a key and 404 to one with a key. Key management needs an admin key (403 otherwise).
Handlers run in a worker thread; an ``ApiError`` becomes its JSON error body, anything else a JSON
500 that says nothing about the cause (the traceback goes to the `restsync.api` log).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..secrets import GLOBAL
from . import handlers as h
from .documents import DefinitionStore
from .keys import KeyRecord, KeyStore
from .openapi import BASE, openapi_document
from .problems import ApiError
from .runtime import Runtime

log = logging.getLogger("restsync.api")

_AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="restsync"'}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _error(exc: ApiError) -> JSONResponse:
    return _json(exc.status, exc.body(), exc.headers)


def _authenticate(services: h.Services, request: Request, *, admin: bool) -> KeyRecord:
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(401, "unauthorized", "missing API key; send 'Authorization: Bearer rsk_...'", headers=_AUTH_HEADERS)
    scheme, _, value = header.partition(" ")
    record = services.keys.verify(value.strip()) if scheme.lower() == "bearer" else None
    if record is None:
        raise ApiError(401, "unauthorized", "invalid, revoked or expired API key", headers=_AUTH_HEADERS)
    if admin and not record.admin:
        raise ApiError(403, "forbidden", "key management needs an admin key")
    return record


Operation = Callable[[h.Services, Request, bytes], Any]


def _endpoint(operation: Operation, *, admin: bool = False, read_body: bool = False) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        services: h.Services = request.app.state.services
        try:
            await run_in_threadpool(_authenticate, services, request, admin=admin)
            body = await request.body() if read_body else b""
            result = await run_in_threadpool(operation, services, request, body)
        except ApiError as exc:
            return _error(exc)
        except Exception:
            log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=True)
            return _json(500, {"error": "internal", "message": "internal error; see the server log"})
        if isinstance(result, Response):
            return result
        status, payload, *headers = result
        return _json(status, payload, headers[0] if headers else None)

    return endpoint


def _key(request: Request) -> str:
    return request.path_params["id"]


def _created(services: h.Services, request: Request, body: bytes) -> tuple[int, dict, dict[str, str]]:
    status, payload = h.create_pipeline(services, body, request.headers.get("content-type"))
    return status, payload, {"Location": f"{BASE}/pipelines/{payload['id']}"}


def _definition(services: h.Services, request: Request, body: bytes) -> Response:
    status, text, media = h.get_definition(services, _key(request), request.headers.get("accept"))
    return Response(GLOBAL.redact(text), status_code=status, media_type=media)


def _dispatch(by_method: dict[str, Callable[[Request], Awaitable[Response]]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await by_method[request.method if request.method != "HEAD" else "GET"](request)

    return endpoint


def _routes() -> list[Route]:
    ct = lambda r: r.headers.get("content-type")  # noqa: E731
    p = f"{BASE}/pipelines"
    table: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {
        f"{BASE}/openapi.json": {"GET": _openapi},
        p: {
            "GET": _endpoint(lambda s, r, b: h.list_pipelines(s, r.query_params)),
            "POST": _endpoint(_created, read_body=True),
        },
        f"{p}/validate": {"POST": _endpoint(lambda s, r, b: h.validate_new(s, b, ct(r)), read_body=True)},
        p + "/{id}": {
            "GET": _endpoint(lambda s, r, b: h.get_pipeline(s, _key(r))),
            "DELETE": _endpoint(lambda s, r, b: h.archive_pipeline(s, _key(r))),
        },
        p + "/{id}/definition": {
            "GET": _endpoint(_definition),
            "PUT": _endpoint(lambda s, r, b: h.replace_definition(s, _key(r), b, ct(r)), read_body=True),
        },
        p + "/{id}/definition/validate": {
            "POST": _endpoint(lambda s, r, b: h.validate_existing(s, _key(r), b, ct(r)), read_body=True)
        },
        p + "/{id}/start": {"POST": _endpoint(lambda s, r, b: h.start_pipeline(s, _key(r)))},
        p + "/{id}/stop": {"POST": _endpoint(lambda s, r, b: h.stop_pipeline(s, _key(r), r.query_params))},
        f"{BASE}/keys": {
            "GET": _endpoint(lambda s, r, b: h.list_keys(s), admin=True),
            "POST": _endpoint(lambda s, r, b: h.create_key(s, b), admin=True, read_body=True),
        },
        BASE + "/keys/{name}": {"DELETE": _endpoint(lambda s, r, b: h.revoke_key(s, r.path_params["name"]), admin=True)},
    }
    return [Route(path, _dispatch(methods), methods=list(methods)) for path, methods in table.items()]


async def _openapi(request: Request) -> Response:
    return _json(200, openapi_document())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    return _json(exc.status_code, {"error": codes.get(exc.status_code, "http_error"), "message": message}, dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, {"error": "internal", "message": "internal error; see the server log"})


def create_app(definitions_dir: Path, dagster_home: Path, *, workspace: Path | None = None) -> Starlette:
    """The API over ``definitions_dir`` and the Dagster instance at ``dagster_home``.

    ``workspace``: a ``workspace.yaml`` whose code location (``restsync``) holds the pipelines'
    schedules; by default the module ``restsync_dagster.definitions``, as the shipped workspace.yaml.
    """
    definitions = Path(definitions_dir).resolve()
    home = Path(dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    services = h.Services(
        definitions=definitions,
        dagster_home=home,
        store=DefinitionStore(definitions, home),
        keys=KeyStore.for_home(home),
        runtime=Runtime(home, definitions, workspace=workspace),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(services.runtime.close)

    app = Starlette(
        routes=_routes(),
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.services = services
    return app

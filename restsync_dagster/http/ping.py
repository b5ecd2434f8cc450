"""The connection test (``restsync ping CONNECTION``)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ..config.connection import RestConnection
from ..errors import HttpError
from .bodies import same_value
from .client import RestClient
from .jsonpath import MISSING, find


@dataclass(frozen=True, slots=True)
class PingResult:
    ok: bool
    status: int | None
    detail: str
    """One line a person can act on; never holds a secret."""


def ping(client: RestClient, connection: RestConnection | None = None) -> PingResult:
    """Run the connection's ``ping`` block (or ``GET base_url`` without one), with the connection's
    auth and one attempt (no retries: a ping should answer quickly and say what is wrong)."""
    connection = connection or client.connection
    check = connection.ping
    method = check.method if check else "GET"
    path = check.path if check else None
    url = client.url_for(path)
    shown = f"{method} {client.describe_url(url)}"
    try:
        reply = client.request(method, url, max_retries=0, rate_limit=None)
    except HttpError as exc:
        return PingResult(False, exc.status, client.secrets.redact(str(exc)))
    response = reply.response
    status = response.status_code
    head = f"{shown} → {status} {response.reason_phrase}".rstrip()
    if check is None or not check.success_path:
        return PingResult(True, status, head)
    try:
        data = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return PingResult(False, status, f"{head}; body is not JSON, cannot read {check.success_path!r}")
    value = find(data, check.success_path)
    if value is MISSING:
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        return PingResult(False, status, f"{head}; {check.success_path!r} not in the body (keys: {keys})")
    shown_value = client.secrets.redact(repr(value))
    if check.success_values is None:
        ok = value is not None and value is not False
        return PingResult(ok, status, f"{head}; {check.success_path} = {shown_value}")
    if any(same_value(value, allowed) for allowed in check.success_values):
        return PingResult(True, status, f"{head}; {check.success_path} = {shown_value}")
    return PingResult(False, status, f"{head}; {check.success_path} = {shown_value}, expected one of "
                                     f"{client.secrets.redact(repr(check.success_values))}")

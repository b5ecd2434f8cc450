"""The HTTP engine: auth flows, paginators and a retrying, rate-limited client (no Dagster).

    client.py      RestClient — one httpx.Client per connection, retries, request budget
    auth.py        httpx.Auth flows per auth kind (AUTH_FLOWS registry, build_auth)
    paginators.py  one paginator per pagination type (PAGINATORS registry, build_paginator)
    fetch.py       iter_pages — walk a table's endpoint page by page
    ping.py        the connection test
    preview.py     the first pages of a table and the paginator's decisions (restsync preview)
    bodies.py      body formats, soft failures, record extraction
    formats.py     compressed bodies, JSON lines, header rows, exploded nested lists
    jsonpath.py    dotted paths into bodies
    ratelimit.py   token bucket + concurrency limiter, retry delays
    redact.py      URL sanitizing and log scrubbing

Typical use::

    with RestClient(connection, secrets=secrets) as client:
        for page in iter_pages(client, table):
            ...page.records...
"""

from .auth import AUTH_FLOWS, AuthFlow, build_auth
from .client import INHERIT, Reply, RequestStats, RestClient
from .fetch import Page, iter_pages
from .jsonpath import MISSING, find
from .paginators import PAGINATORS, PageRequest, Paginator, build_paginator
from .ping import PingResult, ping
from .preview import PreviewPage, PreviewResult, preview_table
from .redact import install_log_scrubber, sanitize_url
from .registry import Registry, UnknownTypeError

__all__ = [
    "AUTH_FLOWS",
    "INHERIT",
    "MISSING",
    "PAGINATORS",
    "AuthFlow",
    "Page",
    "PageRequest",
    "Paginator",
    "PingResult",
    "PreviewPage",
    "PreviewResult",
    "Registry",
    "Reply",
    "RequestStats",
    "RestClient",
    "UnknownTypeError",
    "build_auth",
    "build_paginator",
    "find",
    "install_log_scrubber",
    "iter_pages",
    "ping",
    "preview_table",
    "sanitize_url",
]

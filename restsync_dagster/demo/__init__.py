"""The bundled demo REST API that the shipped example pipelines and the test-suite run against.

A Starlette app (no Dagster) with deterministic data, every pagination style, every
auth kind, fault knobs for bad inputs, and a receiver for REST destinations.

Run it with ``restsync demo-api --port 8765`` (``serve(host, port)``), or in tests with
``with DemoServer(port=0) as srv: httpx.get(srv.base_url + "/health")`` (port 0 picks a free port).

Data
====
Identical on every start; ``POST /_admin/reset`` restores it. Initial timestamps are in January 2026,
second-precision UTC, formatted ``2026-01-05T10:00:00Z``. Records are ordered by id (events by
``ts``, id — the same order).

- ``customers``: 10,000 — ``id`` 1..10000, ``name``, ``email``, ``country`` (2 letters),
  ``created_at``, ``updated_at``, ``score`` (float), ``active`` (bool), ``address {city, zip}``,
  ``tags`` (list of 0–3 str).
- ``orders``: 2,000 — ``id``, ``customer_id``, ``status``, ``total_cents`` (int), ``created_at``,
  ``updated_at``. Each has 1–5 items: ``GET /orders/{id}/items`` →
  ``{"items": [{order_id, line, sku, qty, price_cents}]}``.
- ``events``: one every 10 minutes from 2026-01-01T00:00:00Z to 2026-12-31T23:50:00Z (ids
  1..52560, computed on demand) — ``id``, ``ts``, ``type``, ``customer_id``, ``value`` (float),
  ``updated_at`` (equal to ``ts`` until the event is touched).

Single records: ``GET /customers/{id}``, ``/orders/{id}``, ``/events/{id}`` (404 when unknown).
``GET /health`` → ``{"status": "ok", "version": "1"}``, never needs auth.

Filters
-------
Query parameters accepted by every pagination style:

- ``from`` (inclusive) and ``to`` (exclusive): ISO date (``2026-01-02``), ISO datetime (``Z``, an
  offset, or naive = UTC) or epoch seconds. They bound ``ts`` on events and ``created_at`` on
  customers and orders.
- ``updated_since``: only records whose ``updated_at`` is strictly greater.
- Events requested with none of the three serve only 2026-01-01 .. 2026-01-08 (1008 events), so a
  plain sync stays small; give ``from``/``to`` or ``updated_since`` for the rest of the year.
- Bad values (unparseable date, ``limit`` outside 1..1000, a cursor this API did not issue) → 400
  ``{"error": "<param>: ..."}``.

Pagination
==========
``/{style}/{resource}`` with resource in customers | orders | events. Page size (``limit``,
``page_size`` or ``per_page``) defaults to 100, range 1..1000. Every style also accepts POST with
the same parameters in a JSON object body (for ``method: POST`` tables).

- ``GET /offset/customers?offset=0&limit=100`` → ``{"success": true, "data": [...], "total": N}``
  and header ``X-Total-Count``. ``format=csv`` → ``text/csv`` (flat columns only);
  ``format=xml`` → ``application/xml`` (``<response><total/><data><record>...``).
- ``GET /page/customers?page=1&page_size=100`` → ``{"data": [...], "page": p, "total_pages": T}``
  (1-based).
- ``GET /cursor/customers?cursor=...&limit=100`` → ``{"data": [...], "meta": {"next_cursor": str |
  null}}``; no cursor means the first page; cursors are opaque (unpadded url-safe base64).
- ``GET /next/customers?limit=100`` → ``{"count": N, "next": absolute URL | null, "results": [...]}``;
  ``next`` keeps every other query parameter and carries ``after=<last id>&limit=<n>``.
- ``GET /link/customers?page=1&per_page=100`` → a bare JSON list and ``Link: <abs>; rel="next",
  <abs>; rel="prev", <abs>; rel="first", <abs>; rel="last"`` (no ``next`` on the last page, no
  ``prev`` on the first), plus ``X-Total-Count``.
- ``GET /keyset/customers?starting_after=<id>&limit=100`` → ``{"object": "list", "data": [...],
  "has_more": bool}`` (Stripe style).

Auth
====
Every route above (pagination, single records, items, health, receiver) is also served under
``/auth/{kind}/…`` (e.g. ``/auth/bearer/offset/customers``), which enforces that kind; without the
prefix nothing is checked. Failures are 401 with ``{"error": ...}``; an unknown kind is 404.

- ``basic``: user ``demo``, password ``demo-pass``; otherwise 401 with
  ``WWW-Authenticate: Basic realm="demo"``.
- ``bearer``: ``Authorization: Bearer demo-token``.
- ``api_key``: header ``X-API-Key: demo-key`` or query parameter ``api_key=demo-key``.
- ``token``: header ``Authorization: Token <t>`` or query parameter ``access_token=<t>``, where
  ``<t>`` is the static ``demo-static-token`` or a token from ``POST /token/refresh`` with JSON (or
  form) body ``{"refresh_token": "demo-refresh"}`` → ``{"access": {"token": "<t>", "expires_in":
  300}}`` (``?ttl=2`` for a 2 s token). Expired or unknown → 401 ``{"error": "invalid_token"}``;
  a wrong refresh token → 400 ``{"error": "invalid_grant"}``.
- ``oauth2``: ``POST /oauth/token`` with form (or JSON) body ``grant_type=client_credentials&
  client_id=demo-client&client_secret=demo-secret`` (or the client as HTTP Basic), optional
  ``scope`` and ``audience`` → ``{"access_token": "...", "token_type": "bearer", "expires_in":
  3600}`` (``?ttl=`` knob). Wrong client → 401 ``{"error": "invalid_client"}``; another grant type
  → 400 ``unsupported_grant_type``. ``/auth/oauth2/…`` needs ``Authorization: Bearer <issued>``.
- ``oauth2`` with a user's refresh token (SaaS style): the same ``POST /oauth/token`` with
  ``grant_type=refresh_token&refresh_token=<t>`` and the client in the body or as HTTP Basic. The
  first valid refresh token is ``demo-oauth-refresh``; every refresh **rotates** it: the answer
  carries a new ``refresh_token`` and the one just used is invalid from then on (``?rotate=0``
  keeps it). A spent or unknown refresh token → 400 ``invalid_grant``.
- ``oauth2`` with a service account (Google style, RFC 7523): ``grant_type=urn:ietf:params:oauth:
  grant-type:jwt-bearer&assertion=<JWT>``, RS256, ``aud`` = the token URL, lifetime at most one
  hour, verified with the public key registered for its ``iss`` by ``POST /_admin/jwt_keys``
  ``{"issuer": ..., "public_key": "<PEM>"}``; a bad signature, audience or issuer → 400
  ``invalid_grant``. Stats count ``refresh_grants``, ``rotations``, ``jwt_grants`` and show
  ``last_client_auth`` and ``last_jwt_claims``.
- ``cookie``: ``POST /login`` with JSON or form ``{"username": "demo", "password": "demo-pass"}``
  (or ``GET /login?username=demo&password=demo-pass``) → 200 ``{"ok": true}`` and
  ``Set-Cookie: demo_session=<random>; HttpOnly; Path=/``. Sessions last ``?ttl=`` seconds
  (default 300). Wrong password → 401 ``invalid_credentials``; ``/auth/cookie/…`` without a live
  session → 401 ``not_authenticated``.

Fault knobs
===========
Query parameters on any data, receiver, token or login endpoint. Each fault is counted per
``fault_key`` (default: the request path): with ``fail_times=N`` it hits only the first N requests
carrying that key, without ``fail_times`` it is permanent. Knobs stay in ``next``/``Link`` URLs,
since they are part of the request.

- ``fail_status=503``: answer that status (429, 500, 503, 401, ...) with
  ``{"error": ..., "injected": true}``. Add ``retry_after=1`` for ``Retry-After: 1``,
  ``retry_after_date=1`` for ``Retry-After`` as an HTTP date 1 s ahead, ``ratelimit_reset=2`` for
  ``X-RateLimit-Reset: <epoch seconds now+2>`` (and ``X-RateLimit-Remaining: 0``).
- ``delay=0.5``: answer after 0.5 s.
- ``drop=1``: close the TCP connection with no response (httpx raises ``RemoteProtocolError``).
- ``html=1``: 200 ``text/html`` maintenance page.
- ``truncate=1``: the real response with its body cut in half (invalid JSON).
- ``error_body=1``: 200 ``{"success": false, "error": "upstream failure"}`` (normal offset pages
  carry ``"success": true``).
- ``loop=1`` (cursor, next and link styles): from the second page on, the next cursor/URL is the
  one just requested, forever.
- ``fail_after_pages=N``: pages with 0-based index >= N (offset >= N*limit, page > N, ...) answer
  ``fail_status`` (default 500) — a server that dies mid-sync.

Reporting APIs
==============
Incremental windows and fan-out (``ranged.py``).

- ``GET /ranged/events?since=&until=``: events with ``ts`` in ``[since, until)``, unpaged, as
  ``{"data": [...], "since": iso, "until": iso}``. Both bounds are required, as epoch seconds or
  ``YYYY-MM-DD`` only (a full ISO datetime is a 400), and the range may not exceed 31 days.
  ``fail_since=<same form>``: a request whose ``since`` is at or after it answers 500.
- ``GET /search/analytics?site=<any>&type=web|news|image`` → ``{"rows": [{query, clicks,
  impressions}] * 3}``, deterministic per site and type; rows repeat neither the site nor the type.

Report jobs (``reports.py``):

- ``POST /reports`` with JSON ``{"resource": "orders" | "customers", "format": "jsonl" | "csv",
  "compression": "none" | "gzip", "files": 1..5, "polls": n, "fail": false}`` (all optional;
  defaults orders, jsonl, none, 2, 2, false) → 202 ``{"report": {"id": "rep-1", "status":
  "pending"}}``.
- ``GET /reports/{id}`` → ``{"report": {"id", "status", "polls"}}``: ``running`` for the first
  ``polls`` polls, then ``done`` with ``"files": [absolute URLs]``, or ``failed`` with ``error``
  when created with ``fail: true``. Unknown id → 404.
- ``GET /reports/{id}/files/{n}``: the resource split evenly over the files, as JSON lines or CSV
  (header row, flat columns), gzip-compressed (``application/gzip``, no ``Content-Encoding``) when
  asked; 409 before the report is done.

Request and response shapes
===========================
SaaS API shapes (``shapes.py``); ``offset``/``limit`` query parameters page the non-POST ones.

- ``POST /graphql`` with JSON ``{"query": "{ orders(first: 50, after: \"<cursor>\") { ... } }"}``
  (``first``, ``after`` and ``page`` are read from the query text with a regex, or from
  ``variables.first`` / ``variables.after``; ``page: N`` pages by number instead of cursor) →
  ``{"data": {"orders": {"nodes": [...], "pageInfo": {"hasNextPage": bool, "endCursor": str}}}}``.
- ``POST /body/customers`` with JSON ``{"pagination": {"starting_after": <id>, "limit": n}}`` →
  ``{"data": [...], "has_more": bool}`` (keyset values in the body only).
- ``GET /header/customers`` with headers ``X-Page`` (1-based) and ``X-Page-Size`` →
  ``{"data": [...], "page": p}`` (page values in headers only).
- ``GET /shapes/customers.jsonl``: customers as JSON lines (``application/x-ndjson``).
- ``GET /shapes/header_rows`` → ``{"report": {"rows": [[column names], [values], ...]}}`` (flat
  customer columns; Google Ads / Sheets style).
- ``GET /shapes/compressed?compression=gzip|zip|encoding`` → ``{"data": [customers]}`` gzip-compressed
  (``application/gzip``), as ``customers.json`` in a zip archive, or with ``Content-Encoding: gzip``.
- ``GET /shapes/orders_activity`` → ``{"data": [order + "activity": [{line, sku, qty}]]}`` (the
  order's items as a nested list, 1–5 per order).

Receiver
========
An in-memory ``contacts`` store for REST destinations (also served under ``/auth/{kind}``).

- ``POST /receiver/contacts``: a JSON object (one record), a list, a list under any (nested)
  attribute (``{"records": [...]}``), CSV (``text/csv``), url-encoded or multipart fields. Upserts
  by ``id`` (a record without one gets the next free id). One record → 201 (new) or 200 (updated)
  with the record; a batch → 200 ``{"received", "created", "updated"}``. A record without
  ``email`` rejects the whole request: 422 ``{"error": "email is required", "index": i, "id": ...}``.
- ``PUT /receiver/contacts/{id}`` creates or replaces, ``PATCH`` merges (404 if unknown),
  ``DELETE`` → 204 (404 if unknown), ``GET`` one; ``GET /receiver/contacts`` →
  ``{"data": [...], "total": n}``.
- ``GET /receiver/requests`` → ``{"requests": [{method, path, query, headers, body, status}]}``:
  every non-GET receiver request, including failed ones and dropped ones (``status: null``).

Admin
=====
Never authenticated and not counted in the stats.

- ``POST /_admin/touch`` ``{"resource": "customers", "ids": [1, 2]}``: change ``name`` and
  ``score`` (orders: ``status``; events: ``value``) and set ``updated_at`` to now — strictly
  increasing across calls and never before 2026-02-01 → ``{"touched": [...], "updated_at": ...}``.
- ``POST /_admin/add`` ``{"resource": "customers", "count": 5}``: append records with the next ids
  and ``created_at = updated_at = now`` (events continue the 10-minute series after the last one)
  → ``{"ids": [...], "updated_at": ...}``.
- ``POST /_admin/reset``: initial data; clears fault counters, tokens, sessions, receiver, stats.
- ``GET /_admin/stats`` → ``{"requests": n, "peak_in_flight": n (most requests answered at once), "by_path": {path: n}, "last_params": {path: {query}},
  "logins": n, "token_refreshes": n, "oauth_tokens": n, "last_oauth_request": {...}}`` (successful
  logins, refreshes and token grants; ``last_oauth_request`` leaves out the secret).
- ``POST /_admin/expire_sessions`` / ``POST /_admin/expire_tokens``: invalidate every session /
  every issued token (static credentials keep working), to test re-login and refresh.
"""

from .app import create_app
from .server import DemoServer, serve

__all__ = ["DemoServer", "create_app", "serve"]

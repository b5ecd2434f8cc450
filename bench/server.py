"""The benchmark's REST endpoint: ``GET /records?offset=&limit=`` answering
``{"data": [...records...], "total": N}`` from byte templates, so the server costs almost nothing.

It shares two cores with the contender being measured, so it must not be the bottleneck. Records
are deterministic: a record's content is a function of its id, and everything but the id repeats
with a period of ``PERIOD`` records. At startup each of the ``VARIANTS`` page templates is rendered
once as bytes with three ``%d`` slots per record (id, name, email); a page-aligned request is one C-level
``bytes % tuple`` (a few hundred microseconds), any other offset/limit is assembled from per-record
templates. Memory stays at a few MB whatever ``--records`` is.

A raw asyncio HTTP/1.1 server (keep-alive, ``Content-Length``, no chunking): the fastest way to
serve pre-rendered bytes on 127.0.0.1 with the standard library alone. Run it as
``python bench/server.py --port 0 --records 2000000``; it prints ``READY <port>`` when listening and
stops on SIGTERM/SIGINT.

``--latency S`` answers every request S seconds late (a timer, so requests overlap like on a real
API) and adds the latency benchmark's parent/child endpoints: ``GET /parents?offset=&limit=`` →
``{"data": [{"id": i}], "total": --parents}`` and ``GET /parents/{id}/children`` →
``{"data": [3 records {parent_id, line, value}]}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

PERIOD = 1000
VARIANTS = 8
COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "SE", "PL", "BR", "JP", "IN", "CA", "AU", "MX", "CH", "AT", "BE", "DK", "NO"]
CITIES = ["Berlin", "Paris", "New York", "London", "Madrid", "Rome", "Amsterdam", "Stockholm", "Warsaw", "Sao Paulo",
          "Tokyo", "Mumbai", "Toronto", "Sydney", "Mexico City", "Zurich", "Vienna", "Brussels", "Copenhagen", "Oslo",
          "Hamburg", "Lyon", "Chicago", "Manchester", "Seville", "Milan", "Utrecht", "Gothenburg", "Krakow", "Rio"]
STATUSES = ["active", "pending", "suspended", "closed"]
EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
FIELDS = ["id", "name", "email", "country", "city", "amount", "quantity", "active", "created_at", "status"]


def record_template(variant: int, k: int) -> bytes:
    """Record number ``k`` of a period in ``variant``, with ``%d`` where the id goes (three times)."""
    n = variant * PERIOD + k
    created = (EPOCH + timedelta(seconds=n * 7919)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = (
        '{"id":%d,"name":"Customer %d","email":"customer%d@example.com",'
        f'"country":"{COUNTRIES[n % len(COUNTRIES)]}","city":"{CITIES[n % len(CITIES)]}",'
        f'"amount":{round((n * 7727) % 1000000 / 100 + 0.01, 2)},"quantity":{n % 97},'
        f'"active":{"true" if n % 3 else "false"},"created_at":"{created}","status":"{STATUSES[n % len(STATUSES)]}"'
        "}"
    )
    return body.encode()


def record(i: int) -> dict:
    """Record ``i`` as a dict (what a client should parse), for tests of the server itself."""
    return json.loads(record_template((i // PERIOD) % VARIANTS, i % PERIOD) % (i, i, i))


class Pages:
    def __init__(self, total: int):
        self.total = total
        self.records = [[record_template(v, k) for k in range(PERIOD)] for v in range(VARIANTS)]
        self.pages = [b",".join(recs) for recs in self.records]
        self.tail = b'],"total":%d}' % total

    def render(self, offset: int, limit: int) -> bytes:
        offset = max(offset, 0)
        end = min(offset + max(limit, 0), self.total)
        if end <= offset:
            return b'{"data":[' + self.tail
        if offset % PERIOD == 0 and end - offset == PERIOD:
            template = self.pages[(offset // PERIOD) % VARIANTS]
        else:
            template = b",".join(self.records[(i // PERIOD) % VARIANTS][i % PERIOD] for i in range(offset, end))
        ids = tuple(i for i in range(offset, end) for _ in range(3))
        return b'{"data":[' + (template % ids) + self.tail


class HttpProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 for GET with keep-alive; requests on one connection are answered in order."""

    def __init__(self, pages: Pages, latency: float = 0.0, parents: int = 0, trace: list | None = None):
        self.pages = pages
        self.trace = trace
        self.latency = latency
        self.parents = parents
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            lines = head.split(b"\r\n")
            try:
                method, target, version = lines[0].split(b" ", 2)
            except ValueError:
                self.respond(400, b'{"error":"bad request line"}', close=True)
                return
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip().lower()
            close = headers.get(b"connection") == b"close" or version == b"HTTP/1.0"
            self.handle(method, target.decode("latin-1"), close)
            if close:
                return

    def handle(self, method: bytes, target: str, close: bool) -> None:
        path, _, query = target.partition("?")
        if self.trace is not None:
            self.trace.append((time.time(), path))
        if method != b"GET":
            self.respond(405, b'{"error":"GET only"}', close)
        elif path.rstrip("/") == "/records":
            args = parse_qs(query)
            try:
                offset = int(args.get("offset", ["0"])[0])
                limit = int(args.get("limit", ["1000"])[0])
            except ValueError:
                self.respond(400, b'{"error":"offset and limit must be integers"}', close)
                return
            self.respond(200, self.pages.render(offset, limit), close)
        elif path == "/parents":
            args = parse_qs(query)
            offset, limit = int(args.get("offset", ["0"])[0]), int(args.get("limit", ["100"])[0])
            ids = range(offset + 1, min(offset + limit, self.parents) + 1)
            self.respond(200, json.dumps({"data": [{"id": i} for i in ids], "total": self.parents}).encode(), close)
        elif path.startswith("/parents/") and path.endswith("/children"):
            parent = int(path.split("/")[2])
            rows = [{"parent_id": parent, "line": n, "value": parent * 10 + n} for n in range(1, 4)]
            self.respond(200, json.dumps({"data": rows}).encode(), close)
        elif path == "/health":
            self.respond(200, b'{"status":"ok"}', close)
        else:
            self.respond(404, b'{"error":"not found"}', close)

    def respond(self, status: int, body: bytes, close: bool) -> None:
        if self.latency:
            asyncio.get_running_loop().call_later(self.latency, self.send, status, body, close)
        else:
            self.send(status, body, close)

    def send(self, status: int, body: bytes, close: bool) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
        ).encode()
        self.transport.writelines([head, body])
        if close:
            self.transport.close()


async def serve(host: str, port: int, total: int, latency: float = 0.0, parents: int = 0, trace: str = "") -> None:
    pages = Pages(total)
    arrivals: list | None = [] if trace else None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(pages, latency, parents, arrivals), host, port, backlog=128)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    async with server:
        await stop.wait()
    if arrivals is not None:
        with open(trace, "w") as out:
            out.writelines(f"{at:.4f} {path}\n" for at, path in arrivals)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as READY <port>)")
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every answer waits")
    parser.add_argument("--parents", type=int, default=400, help="parents under /parents (with --latency)")
    parser.add_argument("--trace", default="", help="on exit, write each request's arrival time and path here")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.records, args.latency, args.parents, args.trace))


if __name__ == "__main__":
    main(sys.argv[1:])

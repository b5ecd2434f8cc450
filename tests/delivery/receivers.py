"""Receivers for pytest-httpserver that fail, reject and count on purpose."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response

Plan = Callable[[int, list[dict[str, Any]]], int]
"""(call number, records of the request) → status to answer."""


class Receiver:
    """Counts every call and, per record id, how often a record was *accepted* (a 2xx answer)."""

    def __init__(self, plan: Plan | None = None, *, delay_s: float = 0.0, body: Callable[[Request, int], str] | None = None):
        self.plan = plan or (lambda n, records: 200)
        self.delay_s = delay_s
        self.body = body
        self.calls = 0
        self.accepted: Counter[Any] = Counter()
        self.seen: list[list[Any]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        payload = json.loads(request.get_data() or b"null")
        records = payload if isinstance(payload, list) else [payload]
        with self._lock:
            n = self.calls
            self.calls += 1
            self.seen.append([r.get("id") for r in records])
        if self.delay_s:
            time.sleep(self.delay_s)
        status = self.plan(n, records)
        if 200 <= status < 300:
            with self._lock:
                for record in records:
                    self.accepted[record["id"]] += 1
        text = self.body(request, status) if self.body else json.dumps({"status": status})
        return Response(text, status=status, content_type="application/json")

    @property
    def sent_ids(self) -> list[Any]:
        return [i for ids in self.seen for i in ids]

"""Redaction by value: every value that came from ``env`` is a secret.

A ``Secrets`` registry is filled while templates render at run time and is then used to scrub any
text that may reach a log, a Dagster event, metadata, an exception or an API response.
"""

from __future__ import annotations

import base64
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_LEN = 3  # shorter values would mask ordinary words; they are still never logged on purpose


class Secrets:
    """A thread-safe set of secret values and the forms they can take on the wire."""

    def __init__(self, values: list[str] | None = None):
        self._lock = threading.Lock()
        self._values: set[str] = set()
        for value in values or []:
            self.add(value)

    def add(self, value: object) -> None:
        if value is None:
            return
        text = str(value)
        if len(text) < _MIN_LEN:
            return
        forms = {text, quote(text, safe=""), quote_plus(text), quote(text)}
        with self._lock:
            self._values.update(f for f in forms if len(f) >= _MIN_LEN)

    def add_basic(self, username: str, password: str) -> None:
        """Basic auth puts ``user:pass`` in base64 on the wire: mask that form too."""
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.add(token)

    def redact(self, text: object) -> str:
        out = str(text)
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in out:
                out = out.replace(value, MASK)
        return out

    def __contains__(self, text: str) -> bool:
        return any(v in text for v in self.values())

    def values(self) -> list[str]:
        with self._lock:
            return list(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Secrets({len(self)} values)"


#: Process-wide registry: the Dagster layer, the CLI and the API all scrub with it.
GLOBAL = Secrets()

"""Joining endpoints to a connection's ``base_url``."""

from __future__ import annotations


def is_absolute(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def join_url(base_url: str, path: str | None) -> str:
    """``path`` appended to ``base_url`` (``/v1`` + ``/orders`` → ``/v1/orders``); absolute URLs win.

    This is concatenation, not RFC 3986 resolution: a leading ``/`` in ``path`` does not drop the
    base's own path, which is what every REST connection document means by it.
    """
    if not path:
        return base_url
    if is_absolute(path):
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")

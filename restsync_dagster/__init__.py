"""restsync: keep Delta Lake tables in sync with REST APIs, described in YAML, run by Dagster.

Importing the package imports no Dagster; ``RestSyncComponent`` is loaded on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RestSyncComponent"]


def __getattr__(name: str) -> Any:
    if name == "RestSyncComponent":
        from .dagster.component import RestSyncComponent

        return RestSyncComponent
    raise AttributeError(name)

"""restsync: keep Delta Lake tables in sync with REST APIs, described in YAML, run by Dagster.

Importing the package imports no Dagster; ``RestSyncComponent`` and ``RestSyncTranslator`` are
loaded on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RestSyncComponent", "RestSyncTranslator"]


def __getattr__(name: str) -> Any:
    if name == "RestSyncComponent":
        from .dagster.component import RestSyncComponent

        return RestSyncComponent
    if name == "RestSyncTranslator":
        from .dagster.translator import RestSyncTranslator

        return RestSyncTranslator
    raise AttributeError(name)

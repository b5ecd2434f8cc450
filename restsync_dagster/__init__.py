"""restsync: keep Delta Lake tables in sync with REST APIs, described in YAML, run by Dagster.

Importing the package imports no Dagster; ``RestSyncComponent`` and ``RestSyncTranslator`` are
loaded on first use.
"""

from __future__ import annotations

import os
from typing import Any

# Arrow buffers from the system allocator: Arrow's default (mimalloc) keeps freed pages for reuse,
# which adds about 100 MB to a large sync's peak memory and gains no speed here (bench/README.md).
# Takes effect when pyarrow is first imported after this package; a value the user set wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

__all__ = ["RestSyncComponent", "RestSyncTranslator"]


def __getattr__(name: str) -> Any:
    if name == "RestSyncComponent":
        from .dagster.component import RestSyncComponent

        return RestSyncComponent
    if name == "RestSyncTranslator":
        from .dagster.translator import RestSyncTranslator

        return RestSyncTranslator
    raise AttributeError(name)

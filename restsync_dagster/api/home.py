"""Where the API keeps state: ``DAGSTER_HOME`` (default ``.dagster_home/`` here, created on demand)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = ".dagster_home"


def dagster_home(path: str | os.PathLike | None = None) -> Path:
    """The explicit path, else ``$DAGSTER_HOME``, else ``./.dagster_home``; absolute and existing."""
    home = Path(path or os.environ.get("DAGSTER_HOME") or DEFAULT_HOME).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home

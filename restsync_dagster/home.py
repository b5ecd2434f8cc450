"""Where restsync keeps its own state: one stable root, never the working directory.

``$DAGSTER_HOME`` when set; otherwise ``.dagster_home/`` in the project (the folder that holds the
definitions folder). restsync's own files live under ``<DAGSTER_HOME>/restsync/``: the default
staging lake, the API's keys and index, and rotated OAuth2 refresh tokens.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = ".dagster_home"


def dagster_home(path: str | os.PathLike | None = None, *, project_root: str | os.PathLike | None = None) -> Path:
    """The explicit ``path``, else ``$DAGSTER_HOME``, else ``<project_root>/.dagster_home``
    (``project_root`` defaults to the current folder); absolute and created on demand."""
    chosen = path or os.environ.get("DAGSTER_HOME")
    home = Path(chosen) if chosen else Path(project_root or ".") / DEFAULT_HOME
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def restsync_home(path: str | os.PathLike | None = None, *, project_root: str | os.PathLike | None = None) -> Path:
    """``<DAGSTER_HOME>/restsync``: restsync's own state, created on demand."""
    home = dagster_home(path, project_root=project_root) / "restsync"
    home.mkdir(parents=True, exist_ok=True)
    return home

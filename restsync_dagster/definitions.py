"""The Dagster code location: ``restsync_dagster.definitions:defs``.

Built from the folder named by ``RESTSYNC_DEFINITIONS_DIR`` (default ``definitions_yaml/``). A folder
with errors fails to load with the same messages ``restsync validate`` prints.
"""

from __future__ import annotations

from .dagster.factory import build_definitions

defs = build_definitions()

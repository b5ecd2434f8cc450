"""The Dagster code location: ``restsync_dagster.definitions:defs``.

Built from the folder named by ``RESTSYNC_DEFINITIONS_DIR`` (default ``definitions_yaml/``). A
document with errors leaves out only its own pipeline (and those using a broken connection or hook);
each shows as a failing ``restsync_invalid_*`` sensor with the messages ``restsync validate`` prints.
"""

from __future__ import annotations

from .dagster.factory import build_definitions

defs = build_definitions()

"""``restsync_dagster.RestSyncComponent``: a definitions folder inside a ``dg`` project.

    # defs/restsync/defs.yaml
    type: restsync_dagster.RestSyncComponent
    attributes:
      definitions_dir: "{{ context.project_root }}/definitions_yaml"
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from .factory import build_definitions


class RestSyncComponent(dg.Component, dg.Model, dg.Resolvable):
    """Loads a restsync definitions folder (connections, pipelines, hooks) into assets, jobs and schedules."""

    definitions_dir: str = Field(description="Folder holding connections/, pipelines/ and hooks/.")

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return build_definitions(self.definitions_dir)

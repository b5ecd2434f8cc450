"""``restsync_dagster.RestSyncComponent``: a definitions folder inside a ``dg`` project.

    # defs/restsync/defs.yaml
    type: restsync_dagster.RestSyncComponent
    attributes:
      definitions_dir: "{{ context.project_root }}/definitions_yaml"
      translator: my_project.assets:MyTranslator   # optional RestSyncTranslator subclass
"""

from __future__ import annotations

import importlib

import dagster as dg
from pydantic import Field

from ..errors import RestSyncError
from .factory import build_definitions
from .translator import RestSyncTranslator


class RestSyncComponent(dg.Component, dg.Model, dg.Resolvable):
    """Loads a restsync definitions folder (connections, pipelines, hooks) into assets, jobs and schedules."""

    definitions_dir: str = Field(description="Folder holding connections/, pipelines/ and hooks/.")
    translator: str | None = Field(
        default=None,
        description="Python path of a RestSyncTranslator subclass (module:Class) that builds each table's asset spec.",
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return build_definitions(self.definitions_dir, translator=load_translator(self.translator))


def load_translator(path: str | None) -> RestSyncTranslator | None:
    """An instance of the translator class at ``module:Class`` (or ``module.Class``)."""
    if not path:
        return None
    module_name, sep, class_name = path.partition(":")
    if not sep:
        module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise RestSyncError(f"translator {path!r}: cannot import it ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, RestSyncTranslator)):
        raise RestSyncError(f"translator {path!r} is not a subclass of restsync_dagster.RestSyncTranslator")
    return cls()

"""From a loaded definitions folder to a ``dagster.Definitions``."""

from __future__ import annotations

import os

import dagster as dg

from ..config import Project, load_project


def build_definitions(directory: str | os.PathLike | None = None, *, project: Project | None = None) -> dg.Definitions:
    project = project or load_project(directory)
    return dg.Definitions()

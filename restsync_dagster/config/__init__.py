"""Definition documents: models, loading, templating and error reporting (no Dagster imports)."""

from .common import RateLimit, to_key
from .connection import DeltaConnection, RestConnection
from .hook import Hook
from .issues import Issue
from .loader import BrokenDocument, Project, definitions_dir, load_project
from .pipeline import Pipeline, Table

__all__ = [
    "BrokenDocument",
    "DeltaConnection",
    "Hook",
    "Issue",
    "Pipeline",
    "Project",
    "RateLimit",
    "RestConnection",
    "Table",
    "definitions_dir",
    "load_project",
    "to_key",
]

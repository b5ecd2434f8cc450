"""Which pipeline writes the Delta table a reverse-ETL pipeline reads, so its delivery depends on that asset.

Locations are compared as written in the definitions (connection path before rendering), so two
connections match when they share an id or spell their path the same way.
"""

from __future__ import annotations

import dagster as dg

from ..config import Project
from ..config.connection import DeltaConnection
from ..config.pipeline import Pipeline, Table
from ..engine import lake_connection
from ..lake import table_uri
from .translator import RestSyncTranslator, TableContext


def _normal(uri: str) -> str:
    return uri.rstrip("/") or uri


def written_at(project: Project, pipeline: Pipeline, table: Table) -> str | None:
    """Where ``pipeline`` writes ``table``: its Delta destination, else its staging connection."""
    lake = lake_connection(project, pipeline)
    if lake is None:
        return None
    return _normal(table_uri(lake.path, pipeline.key, table.key, table.location))


def read_from(project: Project, pipeline: Pipeline, table: Table) -> str:
    """The Delta table a reverse-ETL ``table`` reads (``<source path>/<table name>``)."""
    source = project.connection_of(pipeline.source.connection.id, DeltaConnection)
    return _normal(f"{source.path.rstrip('/')}/{table.name.strip('/')}")


def is_reverse_etl(project: Project, pipeline: Pipeline) -> bool:
    return isinstance(project.connection(pipeline.source.connection.id), DeltaConnection)


def producers(project: Project, translator: RestSyncTranslator) -> dict[str, dg.AssetKey]:
    """Delta location → asset key of the table that a REST-source pipeline of the folder writes there."""
    out: dict[str, dg.AssetKey] = {}
    for pipeline in project.pipelines.values():
        if is_reverse_etl(project, pipeline):
            continue
        for table in pipeline.tables:
            where = written_at(project, pipeline, table)
            if where is not None:
                out.setdefault(where, translator.get_asset_spec(TableContext(project, pipeline, table)).key)
    return out

"""The one translation hook: a table definition → an ``AssetSpec`` (like dagster-dlt's ``DagsterDltTranslator``).

Subclass :class:`RestSyncTranslator`, override ``get_asset_spec`` (call ``super()`` and
``.replace_attributes``/``.merge_attributes`` on its result) and pass an instance to
``build_definitions(translator=...)`` or the component's ``translator`` attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import dagster as dg

from ..config import Project
from ..config.connection import DeltaConnection
from ..config.pipeline import Pipeline, Table
from .beta import deliberate_beta


def asset_key(pipeline: Pipeline, table: Table) -> dg.AssetKey:
    return dg.AssetKey([pipeline.key, table.key])


def delivery_key(table_key: dg.AssetKey) -> dg.AssetKey:
    """The delivery asset of a table sits under the table's own key."""
    return dg.AssetKey([*table_key.path, "delivery"])


def pool_name(connection_id: object) -> str:
    return f"restsync/{connection_id}"


def kinds(project: Project, pipeline: Pipeline) -> set[str]:
    source = project.connection(pipeline.source.connection.id)
    return {"delta", "rest"} if isinstance(source, DeltaConnection) else {"rest", "delta"}


def describe(pipeline: Pipeline, table: Table, project: Project) -> str:
    """The table's own ``description``, else a sentence about this table (never the pipeline's)."""
    return table.description or generated_description(pipeline, table, project)


def generated_description(pipeline: Pipeline, table: Table, project: Project) -> str:
    source = project.connection(pipeline.source.connection.id)
    if isinstance(source, DeltaConnection):
        return f"The Delta table `{table.name}` read from connection `{source.id}`."
    parts = [f"`{table.name}`: `{table.method} {table.endpoint}` on connection `{source.id}`"]
    if table.parent is not None:
        parts.append(f"one request per row of `{table.parent.table}`")
    if table.pagination:
        parts.append(f"{table.pagination.type} pagination")
    mode = "append" if table.append_only else ("merge on " + ", ".join(table.primary_key) if table.primary_key else "overwrite")
    parts.append(f"write mode: {mode}")
    return "; ".join(parts) + "."


@dataclass(frozen=True)
class TableContext:
    """What the translator knows about one table."""

    project: Project
    pipeline: Pipeline
    table: Table
    partitions_def: dg.PartitionsDefinition | None = None
    automation_condition: dg.AutomationCondition | None = None


def column_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(f.name, f.type, description=f.description, constraints=dg.TableColumnConstraints(nullable=f.nullable))
            for f in table.schema_ or []
        ]
    )


class RestSyncTranslator:
    """Turns each table of a pipeline into the ``AssetSpec`` Dagster shows; override ``get_asset_spec``."""

    def get_asset_spec(self, context: TableContext) -> dg.AssetSpec:
        project, pipeline, table = context.project, context.pipeline, context.table
        deps = []
        if table.parent is not None:
            parent = replace(context, table=pipeline.table(table.parent.table))
            deps.append(self.get_asset_spec(parent).key)
        tags = {**pipeline.tags, **table.tags}
        metadata: dict[str, str | dg.MetadataValue | dg.TableSchema] = {
            "restsync/pipeline": pipeline.name,
            "restsync/table": table.name,
            "restsync/source_connection": str(pipeline.source.connection.id),
            "restsync/destination_connection": str(pipeline.destination.connection.id),
        }
        file = project.files.get(("pipelines", pipeline.key))
        if file is not None:
            with deliberate_beta():
                metadata["dagster/code_references"] = dg.CodeReferencesMetadataValue(
                    code_references=[
                        dg.LocalFileCodeReference(
                            file_path=str(file.resolve()),
                            line_number=project.table_lines.get((pipeline.key, table.key)),
                            label=f"table {table.name}",
                        )
                    ]
                )
        if table.schema_ is not None:
            metadata["dagster/column_schema"] = column_schema(table)
        return dg.AssetSpec(
            key=asset_key(pipeline, table),
            deps=deps,
            description=describe(pipeline, table, project),
            metadata=metadata,
            group_name=pipeline.key,
            owners=list(dict.fromkeys([*pipeline.owners, *table.owners])) or None,
            tags=tags or None,
            kinds=kinds(project, pipeline),
            partitions_def=context.partitions_def,
            automation_condition=context.automation_condition,
        )

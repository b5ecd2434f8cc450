"""REST destinations: one delivery asset per table, downstream of the table it pushes."""

from __future__ import annotations

import dagster as dg

from ..config import Project
from ..config.pipeline import Pipeline, Table
from ..delivery import DeliveryResult
from ..engine import run_table_delivery
from ..errors import DeliveryError
from ..secrets import GLOBAL
from .failures import restsync_failures
from .metadata import PIPELINE_TAG, tag_run
from .resources import lake_of, lake_resource_keys, resource_key
from .translator import delivery_key, pool_name


def _metadata(result: DeliveryResult) -> dict[str, dg.MetadataValue]:
    meta: dict[str, dg.MetadataValue] = {}
    for name, value in result.as_metadata().items():
        if isinstance(value, bool) or value is None:
            meta[f"restsync/{name}"] = dg.MetadataValue.text(str(value))
        elif isinstance(value, int):
            meta[f"restsync/{name}"] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            meta[f"restsync/{name}"] = dg.MetadataValue.float(value)
        else:
            meta[f"restsync/{name}"] = dg.MetadataValue.text(GLOBAL.redact(value))
    meta["restsync/rows_considered"] = meta["restsync/considered"]
    return meta


def delivery_asset(
    project: Project, pipeline: Pipeline, table: Table, table_spec: dg.AssetSpec, *, upstream: dg.AssetKey | None = None
) -> dg.AssetsDefinition:
    """Downstream of ``table_spec`` (the translated table asset), in its group with its tags and owners;
    ``upstream`` is the asset of another pipeline that writes the table, when one does."""
    destination = project.connection(pipeline.destination.connection.id)
    request = pipeline.request_for(table)
    sends = f": {request.method} {request.url or request.path} ({request.request_mode}, {request.body_format})" if request else ""
    connection_key = resource_key(destination.id)
    spec = dg.AssetSpec(
        key=delivery_key(table_spec.key),
        deps=[upstream or table_spec.key],
        description=f"Pushes new and changed rows of {table.name} to {destination.display_name}{sends}.",
        group_name=table_spec.group_name,
        kinds={"delta", "rest"},
        tags=dict(table_spec.tags) or None,
        owners=list(table_spec.owners) or None,
    )

    @dg.multi_asset(
        name=f"{pipeline.key}__{table.key}__delivery",
        specs=[spec],
        pool=pool_name(destination.id),
        op_tags={PIPELINE_TAG: pipeline.key},
        required_resource_keys={connection_key, *lake_resource_keys(project, pipeline)},
    )
    def _deliver(context):
        tag_run(context, pipeline.key)
        client = getattr(context.resources, connection_key).client
        with restsync_failures(f"{pipeline.key}/{table.key} delivery"):
            try:
                result = run_table_delivery(project, pipeline, table, client=client, run_id=context.run.run_id,
                                            lake=lake_of(context, project, pipeline))
            except DeliveryError as exc:
                partial = getattr(exc, "result", None)
                if partial is not None:
                    context.log.error(GLOBAL.redact(f"delivery counts: {partial.as_metadata()}"))
                raise
        context.log.info(f"{table.name}: {result.delivered} delivered, {result.skipped_unchanged} unchanged, {result.requests} requests")
        return dg.MaterializeResult(asset_key=spec.key, metadata=_metadata(result))

    return _deliver

"""REST destinations: one delivery asset per table, downstream of the table it pushes."""

from __future__ import annotations

import dagster as dg

from ..config import Project
from ..config.pipeline import Pipeline, Table
from ..engine import run_table_delivery
from ..errors import DeliveryError
from ..secrets import GLOBAL
from .translator import asset_key, delivery_key, pool_name


def _metadata(result) -> dict:
    meta = {}
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


def delivery_asset(project: Project, pipeline: Pipeline, table: Table) -> dg.AssetsDefinition:
    destination = project.connection(pipeline.destination.connection.id)
    request = pipeline.request_for(table)
    spec = dg.AssetSpec(
        key=delivery_key(pipeline, table),
        deps=[asset_key(pipeline, table)],
        description=f"Pushes new and changed rows of {table.name} to {destination.display_name}: "
        f"{request.method} {request.url or request.path} ({request.request_mode}, {request.body_format}).",
        group_name=pipeline.key,
        kinds={"delta", "rest"},
        tags={**pipeline.tags, **table.tags} or None,
        owners=list(dict.fromkeys([*pipeline.owners, *table.owners])) or None,
    )

    @dg.multi_asset(
        name=f"{pipeline.key}__{table.key}__delivery",
        specs=[spec],
        pool=pool_name(destination.id),
        op_tags={"restsync/pipeline": pipeline.key},
    )
    def _deliver(context):
        try:
            result = run_table_delivery(project, pipeline, table, run_id=context.run_id)
        except DeliveryError as exc:
            partial = getattr(exc, "result", None)
            if partial is not None:
                context.log.error(GLOBAL.redact(f"delivery counts: {partial.as_metadata()}"))
            raise
        context.log.info(f"{table.name}: {result.delivered} delivered, {result.skipped_unchanged} unchanged, {result.requests} requests")
        return dg.MaterializeResult(asset_key=spec.key, metadata=_metadata(result))

    return _deliver

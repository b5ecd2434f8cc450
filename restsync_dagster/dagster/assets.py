"""One asset per table: a thin Dagster shell around ``restsync_dagster.engine``."""

from __future__ import annotations

import dagster as dg

from ..config import Project
from ..config.pipeline import Pipeline, Table
from ..engine import TableSyncResult, Window, run_table_sync
from ..lake.checks import CURSOR as CHECK_CURSOR, PK as CHECK_PK, SCHEMA as CHECK_SCHEMA
from ..secrets import GLOBAL
from .failures import restsync_failures
from .metadata import PIPELINE_TAG, run_metadata, tag_run, work_metadata
from .resources import PROGRESS_KEY, lake_of, lake_resource_keys, resource_key
from .translator import RestSyncTranslator, TableContext, pool_name

def check_specs(key: dg.AssetKey, table: Table) -> list[dg.AssetCheckSpec]:
    specs = []
    if table.primary_key:
        specs.append(dg.AssetCheckSpec(CHECK_PK, asset=key, description=f"{', '.join(table.primary_key)} is unique and never null"))
    if table.schema_ is not None:
        specs.append(dg.AssetCheckSpec(CHECK_SCHEMA, asset=key, description="The Delta table has every declared column with its type"))
    if table.incremental is not None:
        specs.append(dg.AssetCheckSpec(CHECK_CURSOR, asset=key, description="The incremental cursor did not move backwards"))
    return specs


def check_results(key: dg.AssetKey, specs: list[dg.AssetCheckSpec], result: TableSyncResult) -> list[dg.AssetCheckResult]:
    """One result per declared check; a table that was never written has nothing to violate yet."""
    out = []
    for spec in specs:
        passed, details = result.checks.get(spec.name, (True, "no rows written yet"))
        out.append(dg.AssetCheckResult(asset_key=key, check_name=spec.name, passed=passed, metadata={"details": GLOBAL.redact(details)}))
    return out


def table_asset(
    project: Project,
    pipeline: Pipeline,
    table: Table,
    *,
    translator: RestSyncTranslator,
    partitions_def: dg.PartitionsDefinition | None = None,
    automation_condition: dg.AutomationCondition | None = None,
) -> dg.AssetsDefinition:
    spec = translator.get_asset_spec(TableContext(project, pipeline, table, partitions_def, automation_condition))
    checks = check_specs(spec.key, table)
    connection_key = resource_key(pipeline.source.connection.id)

    @dg.multi_asset(
        name=f"{pipeline.key}__{table.key}",
        specs=[spec],
        check_specs=checks,
        pool=pool_name(pipeline.source.connection.id),
        partitions_def=partitions_def,
        backfill_policy=backfill_policy(table) if partitions_def is not None else None,
        op_tags={PIPELINE_TAG: pipeline.key},
        required_resource_keys={connection_key, PROGRESS_KEY, *lake_resource_keys(project, pipeline)},
    )
    def _sync(context):
        tag_run(context, pipeline.key)
        client = getattr(context.resources, connection_key).client
        on_page = getattr(context.resources, PROGRESS_KEY).on_page
        windows: list[Window | None] = [*_windows(context)] if partitions_def is not None else []
        results = []
        with restsync_failures(f"{pipeline.key}/{table.key}"):
            lake = lake_of(context, project, pipeline)
            for window in windows or [None]:
                results.append(
                    run_table_sync(
                        project,
                        pipeline,
                        table,
                        client=client,
                        run_id=context.run.run_id,
                        partition=window,
                        log=context.log,
                        on_page=on_page,
                        lake=lake,
                    )
                )
        final = results[-1]
        if len(results) > 1:
            final = final.combined(results[:-1])
            for one in results:
                context.add_asset_metadata(work_metadata(one), asset_key=spec.key, partition_key=one.write.partition_key)
        yield dg.MaterializeResult(asset_key=spec.key, metadata=run_metadata(table, final))
        yield from check_results(spec.key, checks, final)

    return _sync


def backfill_policy(table: Table) -> dg.BackfillPolicy:
    """One run for the whole range, or runs of ``partitions.max_per_run`` partitions each."""
    limit = table.partitions.max_per_run if table.partitions is not None else None
    return dg.BackfillPolicy.single_run() if limit is None else dg.BackfillPolicy.multi_run(max_partitions_per_run=limit)


def _windows(context: dg.AssetExecutionContext) -> list[Window]:
    """(key, start, end) of every partition in the run; a single-run backfill covers a range."""
    partitions_def = context.assets_def.partitions_def
    keys = partitions_def.get_partition_keys_in_range(context.partition_key_range)
    out = []
    for key in keys:
        window = partitions_def.time_window_for_partition_key(key)
        out.append((key, window.start, window.end))
    return out

"""From a loaded definitions folder to a ``dagster.Definitions``: assets, checks, jobs, schedules, sensors."""

from __future__ import annotations

import os
from collections import defaultdict

import dagster as dg

from ..config import Project, load_project
from ..config.connection import DeltaConnection, RestConnection
from ..config.pipeline import Pipeline
from .assets import table_asset
from .automation import automation_condition
from .beta import deliberate_beta
from .broken import broken_defs
from .delivery import delivery_asset
from .lineage import is_reverse_etl, producers, read_from
from .maintenance import maintenance_defs
from .partitions import group_by_partitions, partitions_def
from ..engine import OnPage
from .resources import build_resources
from .schedules import schedule_for_job
from .sensors import hook_sensors
from .threads import threaded_executor
from .translator import RestSyncTranslator, TableContext


def pipeline_defs(
    project: Project, pipeline: Pipeline, translator: RestSyncTranslator, produced: dict[str, dg.AssetKey] | None = None
) -> tuple[list, list, list, list]:
    """Assets, jobs, schedules and sensors of one pipeline; ``produced`` maps Delta locations to the
    table assets that write them (see ``lineage.producers``)."""
    if is_reverse_etl(project, pipeline):
        return reverse_etl_defs(project, pipeline, translator, produced or {})
    assets = []
    groups: dict[tuple | None, list] = {}
    parts: dict[tuple | None, dg.TimeWindowPartitionsDefinition] = {}
    table_specs: dict[str, dg.AssetSpec] = {}
    for sig, tables in group_by_partitions(pipeline.tables).items():
        spec = tables[0].partitions
        if spec is not None:
            parts[sig] = partitions_def(spec)
        groups[sig] = []
        for table in tables:
            asset = table_asset(project, pipeline, table, translator=translator, partitions_def=parts.get(sig),
                                automation_condition=automation_condition(
                                    pipeline.sync.auto_sync_new_tables, partitioned=sig is not None))
            table_specs[table.key] = next(iter(asset.specs))
            groups[sig].append(asset)
        assets += groups[sig]

    destination = project.connection(pipeline.destination.connection.id)
    deliveries = []
    if isinstance(destination, RestConnection):
        deliveries = [delivery_asset(project, pipeline, t, table_specs[t.key]) for t in pipeline.tables]
    paired = pipeline.sync.destination_frequency is not None
    with_sync = bool(deliveries) and not paired and None in groups
    jobs: list[dg.JobDefinition | dg.UnresolvedAssetJobDefinition] = []
    schedules: list[dg.ScheduleDefinition] = []
    kinds_count: defaultdict[str, int] = defaultdict(int)
    for sig, members in groups.items():
        if sig is None or len(groups) == 1:
            name = f"{pipeline.key}_sync"
        else:
            kinds_count[sig[0]] += 1
            suffix = sig[0] if kinds_count[sig[0]] == 1 else f"{sig[0]}_{kinds_count[sig[0]]}"
            name = f"{pipeline.key}_sync_{suffix}"
        selected = members + (deliveries if with_sync and sig is None else [])
        job = dg.define_asset_job(
            name=name,
            selection=dg.AssetSelection.assets(*selected),
            tags={"restsync/pipeline": pipeline.key},
            description=f"Syncs the tables of pipeline {pipeline.name!r}",
        )
        jobs.append(job)
        schedules.append(
            schedule_for_job(
                pipeline,
                job,
                minutes=pipeline.sync.extract_minutes,
                name=f"{name}_schedule",
                partitions_def=parts.get(sig) if sig else None,
            )
        )
    if deliveries and not with_sync:
        job, schedule = deliver_job(pipeline, deliveries, paired)
        jobs.append(job)
        schedules.append(schedule)
    assets += deliveries
    if isinstance(destination, DeltaConnection) and pipeline.sync.destination_frequency is not None:
        extra_jobs, extra_schedules = maintenance_defs(project, pipeline)
        jobs += extra_jobs
        schedules += extra_schedules
    sensors = hook_sensors(project, pipeline, jobs) if pipeline.hooks else []
    return assets, jobs, schedules, sensors


def deliver_job(pipeline: Pipeline, deliveries: list[dg.AssetsDefinition], paired: bool
                ) -> tuple[dg.UnresolvedAssetJobDefinition, dg.ScheduleDefinition]:
    job = dg.define_asset_job(
        name=f"{pipeline.key}_deliver",
        selection=dg.AssetSelection.assets(*deliveries),
        tags={"restsync/pipeline": pipeline.key},
        description=f"Pushes the new and changed rows of pipeline {pipeline.name!r} to its REST destination",
    )
    minutes = pipeline.sync.destination_frequency if paired else pipeline.sync.frequency
    return job, schedule_for_job(pipeline, job, minutes=minutes, name=f"{pipeline.key}_deliver_schedule")


def reverse_etl_defs(
    project: Project, pipeline: Pipeline, translator: RestSyncTranslator, produced: dict[str, dg.AssetKey]
) -> tuple[list, list, list, list]:
    """A Delta source: each delivery depends on the table asset of the pipeline that writes the table,
    or, when no pipeline of the folder does, on an external asset standing for it."""
    external, deliveries = [], []
    for table in pipeline.tables:
        spec = translator.get_asset_spec(TableContext(project, pipeline, table))
        upstream = produced.get(read_from(project, pipeline, table))
        if upstream is None:
            external.append(spec)
        deliveries.append(delivery_asset(project, pipeline, table, spec, upstream=upstream))
    job, schedule = deliver_job(pipeline, deliveries, pipeline.sync.destination_frequency is not None)
    sensors = hook_sensors(project, pipeline, [job]) if pipeline.hooks else []
    return external + deliveries, [job], [schedule], sensors


def build_definitions(
    directory: str | os.PathLike | None = None,
    *,
    project: Project | None = None,
    translator: RestSyncTranslator | None = None,
    on_page: OnPage | None = None,
) -> dg.Definitions:
    """Everything Dagster needs for a definitions folder.

    ``translator`` turns each table into its ``AssetSpec`` (default :class:`RestSyncTranslator`);
    ``on_page`` receives each synced page (``restsync sync`` draws progress with it). Every valid
    pipeline loads; a broken document leaves out only its own pipeline (and those using it) and
    shows up as a failing ``restsync_invalid_*`` sensor and in the metadata (``broken.py``).
    """
    project = project or load_project(directory, strict=False)
    translator = translator or RestSyncTranslator()
    sensors, metadata = broken_defs(project)
    assets, jobs, schedules = [], [], []
    reverse = any(is_reverse_etl(project, p) for p in project.pipelines.values())
    produced = producers(project, translator) if reverse else {}
    for pipeline in project.pipelines.values():
        a, j, s, n = pipeline_defs(project, pipeline, translator, produced)
        assets += a
        jobs += j
        schedules += s
        sensors += n
    if any(p.sync.auto_sync_new_tables for p in project.pipelines.values()):
        with deliberate_beta():  # use_user_code_server: the custom condition runs in the code server
            sensors.append(
                dg.AutomationConditionSensorDefinition(
                    "restsync_automation",
                    target=dg.AssetSelection.all(),
                    default_status=dg.DefaultSensorStatus.RUNNING,
                    use_user_code_server=True,
                    description="Materializes newly added tables of pipelines with auto_sync_new_tables",
                )
            )
    resources = build_resources(project, on_page)
    return dg.Definitions(
        assets=assets, jobs=jobs, schedules=schedules, sensors=sensors, resources=resources, metadata=metadata or None,
        executor=threaded_executor(max(len(assets), 1)),
    )


__all__ = ["build_definitions", "DeltaConnection", "RestConnection"]

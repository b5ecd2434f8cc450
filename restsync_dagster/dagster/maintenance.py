"""Table maintenance for Delta destinations on ``sync.destination_frequency``."""

from __future__ import annotations

import dagster as dg

from ..config import Project
from ..config.pipeline import Pipeline
from ..config.templating import Renderer
from ..engine import lake_location
from ..lake import compact, table_uri, vacuum
from ..lake.state import open_table
from ..secrets import GLOBAL
from .schedules import schedule_for_job

RETENTION_HOURS = 168
"""Vacuum keeps a week of old files, so readers and time travel within a week keep working."""


def maintenance_defs(project: Project, pipeline: Pipeline) -> tuple[list[dg.JobDefinition], list[dg.ScheduleDefinition]]:
    @dg.op(name=f"{pipeline.key}__maintain", tags={"restsync/pipeline": pipeline.key})
    def maintain(context):
        root, options = lake_location(project, pipeline, Renderer(GLOBAL))
        done = {}
        for table in pipeline.tables:
            uri = table_uri(root, pipeline.key, table.key, table.location)
            if open_table(uri, options) is None:
                context.log.info(f"{table.name}: no Delta table yet, nothing to maintain")
                continue
            compacted = compact(uri, options)
            removed = len(vacuum(uri, options, retention_hours=RETENTION_HOURS))
            context.log.info(f"{table.name}: {compacted.get('numFilesRemoved', 0)} files compacted, {removed} old files vacuumed")
            done[table.key] = {"files_compacted": compacted.get("numFilesRemoved", 0), "files_vacuumed": removed}
        return dg.Output(None, metadata={"tables": dg.MetadataValue.json(done)})

    @dg.job(name=f"{pipeline.key}_maintenance", tags={"restsync/pipeline": pipeline.key},
            description=f"Compacts and vacuums the Delta tables of pipeline {pipeline.name!r}")
    def job():
        maintain()

    schedule = schedule_for_job(pipeline, job, minutes=pipeline.sync.destination_frequency,
                                name=f"{pipeline.key}_maintenance_schedule")
    return [job], [schedule]

"""Schedules: one per pipeline job, exact for any number of minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg

from ..config.cron import minutes_to_cron
from ..config.pipeline import Pipeline


def _status(pipeline: Pipeline) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if pipeline.sync.enabled else dg.DefaultScheduleStatus.STOPPED


def _cadence(pipeline: Pipeline, minutes: int | None) -> tuple[str, int | None]:
    if minutes is None:
        return pipeline.sync.cron or "0 * * * *", None
    return minutes_to_cron(minutes)


def _on_tick(scheduled: datetime, every: int | None) -> bool:
    return every is None or int(scheduled.timestamp() // 60) % every == 0


def schedule_for_job(
    pipeline: Pipeline,
    job: dg.JobDefinition | dg.UnresolvedAssetJobDefinition,
    *,
    minutes: int | None,
    name: str,
    partitions_def: dg.TimeWindowPartitionsDefinition | None = None,
    description: str = "",
) -> dg.ScheduleDefinition:
    cron, every = _cadence(pipeline, minutes)
    tz = pipeline.sync.timezone

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        job=job,
        execution_timezone=tz,
        default_status=_status(pipeline),
        tags={"restsync/pipeline": pipeline.key},
        description=description or f"Runs {job.name} " + (f"every {minutes} minutes" if minutes else f"on '{cron}'"),
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason | dg.RunRequest | list[dg.RunRequest]:
        scheduled = context.scheduled_execution_time or datetime.now().astimezone()
        if not _on_tick(scheduled, every):
            return dg.SkipReason(f"not a multiple of {every} minutes since the epoch")
        if partitions_def is None:
            return dg.RunRequest(run_key=None, tags={"restsync/pipeline": pipeline.key})
        return [
            dg.RunRequest(partition_key=key, run_key=f"{key}@{scheduled.isoformat()}", tags={"restsync/pipeline": pipeline.key})
            for key in partitions_for_tick(partitions_def, scheduled, _previous_tick(scheduled, minutes, cron, tz))
        ]

    return _schedule


def _previous_tick(scheduled: datetime, minutes: int | None, cron: str, tz: str) -> datetime:
    if minutes is not None:
        return scheduled - timedelta(minutes=minutes)
    from dagster._utils.schedules import reverse_cron_string_iterator

    ticks = reverse_cron_string_iterator(scheduled.timestamp() - 1, cron, tz)
    return next(ticks)


def partitions_for_tick(
    partitions_def: dg.TimeWindowPartitionsDefinition, scheduled: datetime, previous: datetime
) -> list[str]:
    """The window containing the tick, and the one that just closed on the first tick of a new window."""
    keys = []
    current = _key_at(partitions_def, scheduled)
    before = _key_at(partitions_def, previous)
    if before is not None and before != current:
        keys.append(before)
    if current is not None:
        keys.append(current)
    return keys


def _key_at(partitions_def: dg.TimeWindowPartitionsDefinition, when: datetime) -> str | None:
    window = partitions_def.get_partition_key_for_timestamp
    try:
        key = window(when.timestamp())
    except Exception:
        return None
    return key if partitions_def.has_partition_key(key) else None

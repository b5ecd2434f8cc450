"""Hooks as run-status sensors over a pipeline's jobs."""

from __future__ import annotations

import os

import dagster as dg

from ..config import Project
from ..config.hook import Hook
from ..config.pipeline import Pipeline
from ..webhooks import send_hook
from ..secrets import GLOBAL
from .failures import failure_of

_STATUS = {
    "pipeline_failed": dg.DagsterRunStatus.FAILURE,
    "pipeline_stopped": dg.DagsterRunStatus.CANCELED,
    "pipeline_succeeded": dg.DagsterRunStatus.SUCCESS,
    "pipeline_started": dg.DagsterRunStatus.STARTED,
}


def run_url(run_id: str) -> str:
    base = os.environ.get("RESTSYNC_DAGSTER_URL", "http://127.0.0.1:3000").rstrip("/")
    return f"{base}/runs/{run_id}"


def _error_of(context: dg.RunStatusSensorContext) -> str | None:
    messages = []
    records = context.instance.all_logs(context.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        text = failure_of(event).message
        if text:
            messages.append(f"{event.step_key}: {text}")
    if not messages:
        failure = getattr(context, "failure_event", None)
        messages = [failure.message] if failure is not None and failure.message else []
    return GLOBAL.redact("\n".join(messages)) if messages else None


def touches_pipeline(instance: dg.DagsterInstance, run: dg.DagsterRun, pipeline_key: str) -> bool:
    """Whether ``run`` materializes (or meant to) any asset of the pipeline, whatever launched it:
    its job, the UI's asset job, ``restsync sync``, a backfill or automation."""
    if run.tags.get("restsync/pipeline") == pipeline_key:
        return True
    keys = set(run.asset_selection or ())
    if not keys:
        planned = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=1000
        ).records
        events = (r.event_log_entry.dagster_event for r in planned)
        keys = {e.asset_key for e in events if e is not None and e.asset_key is not None}
    return any(key.path[:1] == [pipeline_key] for key in keys)


def hook_sensors(project: Project, pipeline: Pipeline, jobs: list) -> list[dg.SensorDefinition]:
    sensors = []
    for ref in pipeline.hooks:
        hook = project.hooks[str(ref.id)]
        for event in ref.events:
            sensors.append(_sensor(pipeline, hook, event))
    return sensors


def _sensor(pipeline: Pipeline, hook: Hook, event: str) -> dg.SensorDefinition:
    name = f"{pipeline.key}__{dg.AssetKey(str(hook.id)).to_python_identifier()}__{event}"

    def notify(context: dg.RunStatusSensorContext) -> dg.SkipReason:
        if not touches_pipeline(context.instance, context.dagster_run, pipeline.key):
            return dg.SkipReason(f"run {context.dagster_run.run_id} does not touch pipeline {pipeline.name!r}")
        run_id = context.dagster_run.run_id
        result = send_hook(
            hook,
            event=event,
            pipeline=pipeline.name,
            run_id=run_id,
            error=_error_of(context) if event == "pipeline_failed" else None,
            url=run_url(run_id),
            secrets=GLOBAL,
        )
        if result.ok:
            context.log.info(result.detail)
            return dg.SkipReason(result.detail)
        context.log.warning(result.detail)
        return dg.SkipReason(result.detail)

    description = f"Sends hook {hook.id!r} on {event} of pipeline {pipeline.name!r}"
    running = dg.DefaultSensorStatus.RUNNING
    if event == "pipeline_failed":
        return dg.run_failure_sensor(name=name, monitor_all_code_locations=True, default_status=running,
                                     description=description)(notify)
    return dg.run_status_sensor(run_status=_STATUS[event], name=name, monitor_all_code_locations=True,
                                default_status=running, description=description)(notify)

"""Hooks as run-status sensors over a pipeline's jobs."""

from __future__ import annotations

import os

import dagster as dg

from ..config import Project
from ..config.pipeline import Pipeline
from ..notify import send_hook
from ..secrets import GLOBAL

_STATUS = {
    "pipeline_failed": dg.DagsterRunStatus.FAILURE,
    "pipeline_stopped": dg.DagsterRunStatus.CANCELED,
    "pipeline_succeeded": dg.DagsterRunStatus.SUCCESS,
    "pipeline_started": dg.DagsterRunStatus.STARTED,
}


def run_url(run_id: str) -> str:
    base = os.environ.get("RESTSYNC_DAGSTER_URL", "http://127.0.0.1:3000").rstrip("/")
    return f"{base}/runs/{run_id}"


def _root_message(error) -> str | None:
    """The innermost cause of a step failure: our own message, not Dagster's wrapper."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    return getattr(error, "message", None)


def _error_of(context: dg.RunStatusSensorContext) -> str | None:
    messages = []
    records = context.instance.all_logs(context.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    for record in records:
        event = record.dagster_event
        text = _root_message(getattr(event.event_specific_data, "error", None)) if event else None
        if text:
            messages.append(f"{event.step_key}: {text.strip()}")
    if not messages:
        failure = getattr(context, "failure_event", None)
        messages = [failure.message] if failure is not None and failure.message else []
    return GLOBAL.redact("\n".join(messages)) if messages else None


def hook_sensors(project: Project, pipeline: Pipeline, jobs: list) -> list[dg.SensorDefinition]:
    sensors = []
    for ref in pipeline.hooks:
        hook = project.hooks[str(ref.id)]
        for event in ref.events:
            sensors.append(_sensor(pipeline, hook, event, jobs))
    return sensors


def _sensor(pipeline: Pipeline, hook, event: str, jobs: list) -> dg.SensorDefinition:
    name = f"{pipeline.key}__{dg.AssetKey(str(hook.id)).to_python_identifier()}__{event}"

    def notify(context: dg.RunStatusSensorContext):
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

    common = dict(
        name=name,
        monitored_jobs=jobs,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Sends hook {hook.id!r} on {event} of pipeline {pipeline.name!r}",
    )
    if event == "pipeline_failed":
        return dg.run_failure_sensor(**common)(notify)
    return dg.run_status_sensor(run_status=_STATUS[event], **common)(notify)

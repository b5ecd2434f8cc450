"""Run a pipeline's steps on threads inside one process, so independent tables sync at once.

Dagster's in-process executor runs one step after another; its multiprocess executor gives each
step its own process, hence its own resources and its own request budget (a connection's
``max_concurrency`` would hold per step, not per run). :func:`materialize_threaded` runs the run's
steps on threads in this process instead: one set of resources for the run, so every table draws
from the same client and budget, and steps without a dependency between them overlap. Events are
handled and yielded on the calling thread, in the order they occur.
"""

from __future__ import annotations

import os
import queue
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.api import ExecuteRunWithPlanIterable
from dagster._core.execution.compute_logs import create_compute_log_file_key
from dagster._core.execution.context.system import PlanExecutionContext, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import PlanExecutionContextManager
from dagster._core.execution.execute_in_process import core_execute_in_process, merge_run_tags
from dagster._core.execution.plan.execute_plan import _trigger_hook, dagster_event_sequence_for_step
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.executor.in_process import InProcessExecutor

_DONE = object()
JOB_NAME = "__restsync_threaded_job__"


def _step_events(step_context: Any, events: queue.Queue) -> None:
    try:
        for event in dagster_event_sequence_for_step(step_context):
            events.put((step_context.step.key, event))
    except BaseException:  # noqa: BLE001 - handed to the calling thread, which raises it
        events.put((step_context.step.key, sys.exc_info()[1]))
    finally:
        events.put((step_context.step.key, _DONE))


def _threaded_plan(job_context: PlanExecutionContext, execution_plan: ExecutionPlan, *, workers: int) -> Iterator[DagsterEvent]:
    compute_logs = job_context.instance.compute_log_manager
    step_keys = [step.key for step in execution_plan.get_steps_to_execute_in_topo_order()]
    with InstanceConcurrencyContext(job_context.instance, job_context.dagster_run) as concurrency, \
            execution_plan.start(retry_mode=job_context.retry_mode, instance_concurrency_context=concurrency,
                                 step_dependency_config=job_context.step_dependency_config) as active, \
            ExitStack() as capture, ThreadPoolExecutor(workers, thread_name_prefix="restsync-step") as pool:
        log_key = compute_logs.build_log_key_for_run(job_context.run_id, create_compute_log_file_key())
        log_context = capture.enter_context(compute_logs.capture_logs(log_key))
        yield DagsterEvent.capture_logs(job_context, step_keys, log_key, log_context)
        events: queue.Queue = queue.Queue()
        running: dict[str, tuple[Any, list[DagsterEvent]]] = {}
        while not active.is_complete:
            steps = active.get_steps_to_execute(limit=workers - len(running)) if len(running) < workers else []
            yield from active.concurrency_event_iterator(job_context)
            for step in steps:
                step_context = job_context.for_step(step, active.get_known_state())
                running[step.key] = (step_context, [])
                pool.submit(_step_events, step_context, events)
            if not running:
                active.sleep_til_ready()
                continue
            key, event = events.get()
            step_context, seen = running[key]
            if isinstance(event, BaseException):
                raise event
            if event is not _DONE:
                seen.append(event)
                yield event
                active.handle_event(event)
                continue
            del running[key]
            active.verify_complete(job_context, key)
            for plan_event in active.plan_events_iterator(job_context):
                seen.append(plan_event)
                yield plan_event
            yield from _trigger_hook(step_context, seen)


class ThreadedExecutor(InProcessExecutor):
    def __init__(self, workers: int):
        super().__init__(retries=RetryMode.ENABLED)
        self.workers = workers

    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        yield DagsterEvent.engine_event(
            plan_context, f"Executing steps on up to {self.workers} threads in process (pid: {os.getpid()})",
            event_specific_data=EngineEventData.in_process(os.getpid(), execution_plan.step_keys_to_execute))
        yield from iter(ExecuteRunWithPlanIterable(
            execution_plan=plan_context.execution_plan,
            iterator=partial(_threaded_plan, workers=self.workers),
            execution_context_manager=PlanExecutionContextManager(
                job=plan_context.job, retry_mode=plan_context.retry_mode, execution_plan=plan_context.execution_plan,
                run_config=plan_context.run_config, dagster_run=plan_context.dagster_run, instance=plan_context.instance,
                raise_on_error=plan_context.raise_on_error, output_capture=plan_context.output_capture,
                step_dependency_config=self.step_dependency_config),
        ))


def threaded_executor(workers: int) -> dg.ExecutorDefinition:
    return dg.ExecutorDefinition(name="restsync_threads", executor_creation_fn=lambda _init: ThreadedExecutor(workers))


def materialize_threaded(assets: Sequence[Any], *, selection: dg.AssetSelection, instance: dg.DagsterInstance,
                         partition_key: str | None, run_config: dict, tags: dict[str, str],
                         workers: int) -> dg.ExecuteInProcessResult:
    """``dg.materialize(..., raise_on_error=False)`` with the steps on up to ``workers`` threads."""
    defs = dg.Definitions(jobs=[dg.define_asset_job(JOB_NAME, selection=selection)], assets=assets)
    job = defs.resolve_job_def(JOB_NAME)
    ephemeral = job.as_ephemeral_job(resource_defs={}, input_values={}).with_executor_def(threaded_executor(workers))
    return core_execute_in_process(
        job=InMemoryJob(job_def=ephemeral), run_config=run_config, instance=instance, output_capturing_enabled=True,
        raise_on_error=False,
        run_tags=merge_run_tags(job_def=job, partition_key=partition_key, tags=tags, asset_selection=[],
                                instance=instance, run_config=run_config),
        run_id=None, asset_selection=frozenset(),
    )

"""Materialize a pipeline's tables through Dagster from the command line (``restsync sync``)."""

from __future__ import annotations

import os

import dagster as dg

from ..config import Project
from ..config.pipeline import Pipeline, Table
from ..engine import OnPage
from ..home import dagster_home
from .factory import build_definitions
from .partitions import group_by_partitions, partition_key
from .threads import materialize_threaded
from .translator import asset_key, delivery_key, pool_name
from ..config.connection import DeltaConnection, RestConnection


#: The instance config restsync writes into a new $DAGSTER_HOME: telemetry off, so no first-run
#: banner is printed into a user's sync output.
INSTANCE_CONFIG = """\
# restsync: local run storage; see the README for pools (concurrency limits)
telemetry:
  enabled: false
"""


def instance(project: Project | None = None) -> dg.DagsterInstance:
    """The Dagster instance at ``DAGSTER_HOME`` (default ``.dagster_home/`` beside the definitions folder)."""
    home = dagster_home(project_root=project.root.resolve().parent if project is not None else None)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG)
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def apply_pool_limits(project: Project, dagster_instance: dg.DagsterInstance) -> dict[str, int]:
    """Each REST connection is the pool ``restsync/<id>``; ``rate_limit.max_concurrency`` is its limit."""
    limits = {}
    for connection in project.connections.values():
        rate_limit = getattr(connection, "rate_limit", None)
        if rate_limit is not None and rate_limit.max_concurrency:
            pool = pool_name(connection.id)
            dagster_instance.event_log_storage.set_concurrency_slots(pool, rate_limit.max_concurrency)
            limits[pool] = rate_limit.max_concurrency
    return limits


def select_tables(pipeline: Pipeline, names: list[str]) -> list[Table]:
    if not names:
        return [t for t in pipeline.tables]
    chosen = []
    for name in names:
        try:
            chosen.append(pipeline.table(name))
        except KeyError:
            known = ", ".join(t.name for t in pipeline.tables)
            raise KeyError(f"pipeline {pipeline.name!r} has no table {name!r} (tables: {known})") from None
    return chosen


def materialize_pipeline(
    project: Project,
    pipeline: Pipeline,
    tables: list[Table],
    *,
    partition: str | None = None,
    dagster_instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    on_page: OnPage | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """One in-process run for the unpartitioned tables, one per partitions definition for the others.

    The steps of a run run on threads (see :mod:`.threads`): tables without a parent/child edge
    sync at once, all through the run's one client and its request budget.

    ``log_level`` is the level of Dagster's console logger (the run's event log keeps everything).
    """
    defs = build_definitions(project=project, on_page=on_page)
    repo = defs.get_repository_def()
    assets = list(repo.assets_defs_by_key.values())
    groups = group_by_partitions(tables)
    dagster_instance = dagster_instance or instance(project)
    apply_pool_limits(project, dagster_instance)
    results = []
    source = project.connection(pipeline.source.connection.id)
    rest_destination = isinstance(project.connection(pipeline.destination.connection.id), RestConnection)
    for sig, members in sorted(groups.items(), key=lambda kv: kv[0] is not None):
        keys = [] if isinstance(source, DeltaConnection) else [asset_key(pipeline, t) for t in members]
        if rest_destination and sig is None:
            keys += [delivery_key(asset_key(pipeline, t)) for t in members]
        selection = dg.AssetSelection.assets(*keys)
        key = None if sig is None else partition_key(members[0], partition)
        result = materialize_threaded(
            assets,
            selection=selection,
            instance=dagster_instance,
            partition_key=key,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            tags={"restsync/pipeline": pipeline.key, "restsync/source": "cli"},
            workers=max(len(keys), 1),
        )
        results.append(result)
        if not result.success:
            break
    return results

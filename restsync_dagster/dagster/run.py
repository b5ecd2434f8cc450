"""Materialize a pipeline's tables through Dagster from the command line (``restsync sync``)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from ..config import Project
from ..config.pipeline import Pipeline, Table
from .factory import build_definitions
from .translator import asset_key, delivery_key
from ..config.connection import DeltaConnection, RestConnection


def dagster_home() -> Path:
    """``$DAGSTER_HOME``, or ``.dagster_home/`` in the project, created on demand."""
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("# restsync: local run storage; see the README for pools (concurrency limits)\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def instance() -> dg.DagsterInstance:
    dagster_home()
    return dg.DagsterInstance.get()


def apply_pool_limits(project: Project, dagster_instance: dg.DagsterInstance) -> dict[str, int]:
    """Each REST connection is the pool ``restsync/<id>``; ``rate_limit.max_concurrency`` is its limit."""
    limits = {}
    for connection in project.connections.values():
        rate_limit = getattr(connection, "rate_limit", None)
        if rate_limit is not None and rate_limit.max_concurrency:
            pool = f"restsync/{connection.id}"
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
    quiet: bool = True,
) -> list[dg.ExecuteInProcessResult]:
    """One in-process run for the unpartitioned tables, one per partitions definition for the others."""
    defs = build_definitions(project=project)
    repo = defs.get_repository_def()
    assets = list(repo.assets_defs_by_key.values())
    groups: dict[object, list[Table]] = {}
    for table in tables:
        groups.setdefault(table.partitions.model_dump_json() if table.partitions else None, []).append(table)
    dagster_instance = dagster_instance or instance()
    apply_pool_limits(project, dagster_instance)
    results = []
    source = project.connection(pipeline.source.connection.id)
    rest_destination = isinstance(project.connection(pipeline.destination.connection.id), RestConnection)
    for sig, members in sorted(groups.items(), key=lambda kv: kv[0] is not None):
        keys = [] if isinstance(source, DeltaConnection) else [asset_key(pipeline, t) for t in members]
        if rest_destination and sig is None:
            keys += [delivery_key(pipeline, t) for t in members]
        selection = dg.AssetSelection.assets(*keys)
        key = None
        if sig is not None:
            partitions_def = repo.assets_defs_by_key[asset_key(pipeline, members[0])].partitions_def
            key = partition or partitions_def.get_last_partition_key()
        result = dg.materialize(
            assets,
            selection=selection,
            instance=dagster_instance,
            partition_key=key,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}} if quiet else None,
            tags={"restsync/pipeline": pipeline.key, "restsync/source": "cli"},
        )
        results.append(result)
        if not result.success:
            break
    return results

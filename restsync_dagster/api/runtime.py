"""What the API reads from and changes in the Dagster instance at ``DAGSTER_HOME``.

Schedules are turned on and off the way ``dagster schedule start/stop`` does it: the code location is
loaded from the project's workspace (``restsync_dagster.definitions``, location ``restsync``, or a
``workspace.yaml`` given explicitly), so the stored schedule state has the same origin and shows up
in ``dagster schedule list -w workspace.yaml`` and ``dagster dev``. The code location is built from
``RESTSYNC_DEFINITIONS_DIR``, which is set to the API's definitions folder for the code server.

Loading a code location starts a code server (about two seconds), so the loaded repository is kept
until a file of the definitions folder changes.

Ownership: a schedule belongs to pipeline P when it carries the tag ``restsync/pipeline=P``, or, for
a schedule without that tag, when its name starts with ``P_`` (the longest matching key wins, so
``demo_shop_sync_schedule`` belongs to ``demo_shop``, not ``demo``).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..config.source import SUFFIXES

if TYPE_CHECKING:
    from dagster._core.remote_representation.external import RemoteSchedule

log = logging.getLogger("restsync.api")

PIPELINE_TAG = "restsync/pipeline"
LOCATION_NAME = "restsync"
CODE_LOCATION_MODULE = "restsync_dagster.definitions"
IN_FLIGHT = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")

_ENV_LOCK = threading.Lock()


class CodeLocationUnavailable(Exception):
    """The Dagster code location did not load, so schedules cannot be read or changed."""


@dataclass(frozen=True)
class ScheduleState:
    name: str
    cron_schedule: str
    status: str  # "running" | "stopped"

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "cron_schedule": self.cron_schedule, "status": self.status}


def owner(schedule_name: str, tags: dict[str, str], keys: Iterable[str]) -> str | None:
    tagged = tags.get(PIPELINE_TAG)
    if tagged:
        return tagged
    matches = [k for k in keys if schedule_name.startswith(f"{k}_")]
    return max(matches, key=len) if matches else None


def _root_cause(error: Any) -> str:
    """The innermost message of a Dagster ``SerializableErrorInfo`` chain (the user's exception)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    message = (getattr(error, "message", None) or str(error)).strip()
    return message if len(message) <= 2000 else message[:2000] + " ..."


class Runtime:
    def __init__(
        self,
        dagster_home: Path,
        definitions: Path,
        *,
        workspace: Path | None = None,
        location_name: str = LOCATION_NAME,
    ):
        self.dagster_home = Path(dagster_home)
        self.definitions = Path(definitions).resolve()
        self.workspace = Path(workspace).resolve() if workspace else None
        self.location_name = location_name
        self._lock = threading.RLock()
        self._instance: Any = None
        self._loaded: tuple[tuple, Any, str | None] | None = None  # (fingerprint, repository, error)

    # the instance

    @property
    def instance(self):
        with self._lock:
            if self._instance is None:
                from dagster import DagsterInstance

                self.dagster_home.mkdir(parents=True, exist_ok=True)
                self._instance = DagsterInstance.from_config(str(self.dagster_home))
            return self._instance

    def close(self) -> None:
        with self._lock:
            if self._instance is not None:
                self._instance.dispose()
                self._instance = None
            self._loaded = None

    # the code location

    def _fingerprint(self) -> tuple:
        entries = []
        for kind in ("connections", "pipelines", "hooks"):
            folder = self.definitions / kind
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.suffix in SUFFIXES:
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    entries.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(entries)

    def _target(self):
        from dagster._core.workspace.load_target import ModuleTarget, WorkspaceFileTarget

        if self.workspace is not None:
            return WorkspaceFileTarget(paths=[str(self.workspace)])
        # Same origin as the shipped workspace.yaml (python_module, no attribute, no working_directory).
        return ModuleTarget(CODE_LOCATION_MODULE, None, None, self.location_name)

    def _load(self):
        from dagster import __version__
        from dagster._core.workspace.context import WorkspaceProcessContext

        with _ENV_LOCK:
            previous = os.environ.get("RESTSYNC_DEFINITIONS_DIR")
            os.environ["RESTSYNC_DEFINITIONS_DIR"] = str(self.definitions)
            try:
                context = WorkspaceProcessContext(self.instance, self._target(), version=__version__, read_only=False)
            finally:
                if previous is None:
                    os.environ.pop("RESTSYNC_DEFINITIONS_DIR", None)
                else:
                    os.environ["RESTSYNC_DEFINITIONS_DIR"] = previous
        with context:
            request = context.create_request_context()
            names = list(request.code_location_names)
            name = self.location_name if self.location_name in names else (names[0] if len(names) == 1 else None)
            if name is None:
                return None, f"no code location named {self.location_name!r} in the workspace (found: {', '.join(names) or 'none'})"
            if request.has_code_location_error(name):
                return None, f"the Dagster code location {name!r} failed to load: {_root_cause(request.get_code_location_error(name))}"
            repositories = list(request.get_code_location(name).get_repositories().values())
            if len(repositories) != 1:
                return None, f"expected one repository in code location {name!r}, found {len(repositories)}"
            return repositories[0], None

    def repository(self):
        """The loaded repository, reloaded when a definitions file changed."""
        with self._lock:
            fingerprint = self._fingerprint()
            if self._loaded is None or self._loaded[0] != fingerprint:
                try:
                    repo, error = self._load()
                except Exception as exc:  # a broken workspace must not take the API down
                    log.warning("loading the Dagster code location failed: %s", exc)
                    repo, error = None, f"the Dagster code location failed to load: {type(exc).__name__}: {exc}"
                self._loaded = (fingerprint, repo, error)
            _, repo, error = self._loaded
            if repo is None:
                raise CodeLocationUnavailable(error or "the Dagster code location is unavailable")
            return repo

    # schedules

    def _schedules(self, key: str, keys: Iterable[str]) -> list:
        keys = set(keys) | {key}
        return [s for s in self.repository().get_schedules() if owner(s.name, dict(s.tags or {}), keys) == key]

    def _state(self, schedule: RemoteSchedule) -> ScheduleState:
        stored = self.instance.get_instigator_state(schedule.get_remote_origin_id(), schedule.selector_id)
        running = schedule.get_current_instigator_state(stored).is_running
        return ScheduleState(schedule.name, schedule.cron_schedule if isinstance(schedule.cron_schedule, str) else " | ".join(schedule.cron_schedule), "running" if running else "stopped")

    def schedules(self, key: str, keys: Iterable[str]) -> list[ScheduleState]:
        with self._lock:
            return sorted((self._state(s) for s in self._schedules(key, keys)), key=lambda s: s.name)

    def start(self, key: str, keys: Iterable[str]) -> list[ScheduleState]:
        with self._lock:
            for schedule in self._schedules(key, keys):
                self.instance.start_schedule(schedule)
            return self.schedules(key, keys)

    def stop(self, key: str, keys: Iterable[str]) -> list[ScheduleState]:
        with self._lock:
            for schedule in self._schedules(key, keys):
                self.instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)
            return self.schedules(key, keys)

    # runs and materializations

    def cancel_runs(self, key: str) -> list[str]:
        """Cancel the pipeline's runs in flight; a run the launcher cannot reach is marked canceled."""
        from dagster import DagsterRunStatus, RunsFilter

        statuses = [DagsterRunStatus(s) for s in IN_FLIGHT]
        instance = self.instance
        canceled = []
        for run in instance.get_runs(filters=RunsFilter(tags={PIPELINE_TAG: key}, statuses=statuses)):
            terminated = False
            try:
                terminated = bool(instance.run_coordinator.cancel_run(run.run_id))
            except Exception as exc:
                log.warning("could not terminate run %s: %s", run.run_id, exc)
            current = instance.get_run_by_id(run.run_id)
            if current is not None and not terminated and not current.is_finished:
                instance.report_run_canceled(current, message="Canceled by the restsync API (stop with force=true).")
            canceled.append(run.run_id)
        return canceled

    def last_run(self, key: str) -> dict[str, Any] | None:
        from dagster import RunsFilter

        records = self.instance.get_run_records(filters=RunsFilter(tags={PIPELINE_TAG: key}), limit=1)
        if not records:
            return None
        record = records[0]
        run = record.dagster_run
        return {
            "run_id": run.run_id,
            "job_name": run.job_name,
            "status": run.status.value,
            "created_at": record.create_timestamp.timestamp(),
            "started_at": record.start_time,
            "ended_at": record.end_time,
        }

    def last_materializations(self, key: str, table_keys: list[str]) -> dict[str, float | None]:
        from dagster import AssetKey

        asset_keys = {t: AssetKey([key, t]) for t in table_keys}
        events = self.instance.get_latest_materialization_events(list(asset_keys.values()))
        return {t: (events.get(k).timestamp if events.get(k) is not None else None) for t, k in asset_keys.items()}

"""A real management API (uvicorn on 127.0.0.1, free port) over a temp copy of the shipped
definitions and a temp DAGSTER_HOME, with a stand-in code location that has, for every pipeline P,
a job ``P_sync`` and a schedule ``P_sync_schedule`` tagged ``restsync/pipeline=P`` (the contract of
the Dagster layer), loaded through a ``workspace.yaml`` like the project's."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from restsync_dagster.api.keys import KeyStore
from restsync_dagster.api.server import ApiServer
from tests import support

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "definitions_yaml"

CODE_LOCATION = textwrap.dedent(
    '''
    """Stand-in for restsync_dagster.definitions: one job and one schedule per pipeline."""
    import os

    import dagster as dg

    from restsync_dagster.config import load_project

    project = load_project(os.environ["RESTSYNC_DEFINITIONS_DIR"])


    @dg.op
    def sync_tables():
        pass


    jobs, schedules = [], []
    for pipeline in project.pipelines.values():
        tags = {"restsync/pipeline": pipeline.key}
        job = dg.GraphDefinition(name=f"{pipeline.key}_sync", node_defs=[sync_tables]).to_job(tags=tags)
        jobs.append(job)
        schedules.append(
            dg.ScheduleDefinition(
                name=f"{pipeline.key}_sync_schedule",
                cron_schedule="*/15 * * * *",
                job=job,
                tags=tags,
                default_status=dg.DefaultScheduleStatus.RUNNING if pipeline.sync.enabled else dg.DefaultScheduleStatus.STOPPED,
            )
        )

    defs = dg.Definitions(jobs=jobs, schedules=schedules)
    '''
)


@dataclass
class Api:
    base: str
    definitions: Path
    home: Path
    workspace: Path
    keys: KeyStore
    admin_key: str
    client: httpx.Client

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.admin_key}"}

    def request(self, method: str, path: str, *, key: str | None = None, **kwargs) -> httpx.Response:
        headers = {**self.auth(key), **kwargs.pop("headers", {})}
        return self.client.request(method, self.base + path, headers=headers, **kwargs)


def write_workspace(tmp: Path) -> Path:
    code = tmp / "code"
    code.mkdir()
    (code / "restsync_api_test_defs.py").write_text(CODE_LOCATION)
    workspace = tmp / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: restsync_api_test_defs\n"
        "      location_name: restsync\n"
        f"      working_directory: {code}\n"
    )
    return workspace


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    definitions = tmp_path / "definitions"
    shutil.copytree(SHIPPED, definitions)
    home = tmp_path / "dagster_home"
    workspace = write_workspace(tmp_path)
    keys = KeyStore.for_home(home)
    admin_key = keys.create("test-admin", admin=True)
    with ApiServer(definitions, home, workspace=workspace) as server, httpx.Client(timeout=60) as client:
        yield Api(f"{server.base_url}/api/public/v1", definitions, home, workspace, keys, admin_key, client)
        server.app.state.services.runtime.close()


def pipeline_doc(name: str, **overrides: Any) -> dict:
    """A small valid pipeline over the shipped connections."""
    customers = support.offset_table("customers", "/offset/customers", columns={"exclude": ["email"]})
    doc = support.pipeline_doc(name, [customers], source="demo_public", description=f"{name} from the API tests")
    doc["sync"]["enabled"] = False
    return {**doc, **overrides}

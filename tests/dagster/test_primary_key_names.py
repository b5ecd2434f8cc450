"""The primary-key check looks for the key under the name the transformations give it."""

from __future__ import annotations

import dagster as dg

from restsync_dagster.dagster.factory import build_definitions
from tests.dagster.conftest import ORDERS, make_project


def test_the_key_check_follows_replace_in_field_name(demo_reset, tmp_path):
    transformations = [{"type": "replace_in_field_name", "config": {"find": "i", "replace": "I"}}]
    project = make_project(tmp_path, demo_reset.base_url, [ORDERS], transformations=transformations)
    defs = build_definitions(project=project)
    result = dg.materialize(defs.assets, resources=defs.resources, instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert result.success, result.get_run_failure_event()
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "primary_key_unique_not_null"
    assert check.passed, check.metadata

"""The shipped demo_saas pipeline, which uses every real-world field, syncs end to end."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import httpx

from restsync_dagster.config import load_project
from restsync_dagster.dagster.factory import build_definitions

SHIPPED = Path(__file__).resolve().parents[2] / "definitions_yaml"


def test_demo_saas_materializes_every_table(demo_reset, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    defs_dir = tmp_path / "defs"
    shutil.copytree(SHIPPED, defs_dir)
    port = demo_reset.base_url.rsplit(":", 1)[1]
    for doc in (defs_dir / "connections").glob("*.yaml"):
        doc.write_text(doc.read_text().replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
    (defs_dir / "connections" / "lake.yaml").write_text(f"id: lake\ntype: delta\npath: {tmp_path / 'lake'}\n")
    project = load_project(defs_dir)
    pipeline = project.pipeline("demo_saas")
    defs = build_definitions(project=project)
    keys = [dg.AssetKey(["demo_saas", t.key]) for t in pipeline.tables]
    assets = list(defs.get_repository_def().assets_defs_by_key.values())
    result = dg.materialize(assets, selection=keys, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success, result.get_run_failure_event()
    rows = {}
    for key in keys:
        (mat,) = result.asset_materializations_for_node(f"demo_saas__{key.path[-1]}")
        rows[key.path[-1]] = mat.metadata["dagster/row_count"].value
    assert rows == {"accounts": 20, "account_orders": 30, "daily_events": 1008, "search_analytics": 12,
                    "orders_report": 1600, "graphql_orders": 2000, "body_customers": 1000, "order_activity": 300,
                    "sheet_rows": 1000, "customers_jsonl": 1000, "customers_gzip": 500}
    skipped = result.asset_materializations_for_node("demo_saas__account_orders")[0].metadata["restsync/requests_skipped"]
    assert skipped.value == 10
    assert httpx.get(f"{demo_reset.base_url}/_admin/stats").json()["refresh_grants"] >= 1

"""The three contenders: how to set each one up, the command that runs it, and how to count its rows.

* ``restsync``: the real CLI, ``restsync sync bench --dir <definitions>``, through Dagster with a
  fresh ``DAGSTER_HOME``; the table is written to a fresh Delta connection folder.
* ``dlt``: ``bench/dlt_load.py`` in ``bench/.venv-dlt`` (dlt's ``rest_api`` source, filesystem
  destination, ``table_format="delta"``).
* ``bare``: ``bench/bare.py``, httpx + orjson, fetch and parse only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROJECT_BIN = Path(sys.executable).parent
DLT_VENV = BENCH / ".venv-dlt"
DLT_STAMP = DLT_VENV / ".installed"
DLT_REQUIREMENT = "dlt[deltalake]"
PAGE_SIZE = 1000

SCHEMA = [
    ("id", "long"),
    ("name", "string"),
    ("email", "string"),
    ("country", "string"),
    ("city", "string"),
    ("amount", "double"),
    ("quantity", "long"),
    ("active", "boolean"),
    ("created_at", "timestamp"),
    ("status", "string"),
]


def restsync_definitions(folder: Path, *, base_url: str, lake: Path, declared_schema: bool) -> None:
    """A definitions folder with the bench API, a Delta lake and the ``bench`` pipeline (one table)."""
    (folder / "connections").mkdir(parents=True, exist_ok=True)
    (folder / "pipelines").mkdir(parents=True, exist_ok=True)
    (folder / "connections" / "bench_api.yaml").write_text(
        f"id: bench_api\ntype: rest\nbase_url: {base_url}\ntimeout_s: 60\n"
    )
    (folder / "connections" / "bench_lake.yaml").write_text(f"id: bench_lake\ntype: delta\npath: {json.dumps(str(lake))}\n")
    table = [
        "  - name: records",
        "    path: /records",
        f"    pagination: {{type: offset, page_size: {PAGE_SIZE}, total_path: total}}",
        "    response: {root_key: data}",
        "    append_only: true",
    ]
    if declared_schema:
        table.append("    schema:")
        table += [f"      - {{name: {name}, type: {type_}}}" for name, type_ in SCHEMA]
    (folder / "pipelines" / "bench.yaml").write_text(
        "definition_version: 1\nname: bench\n"
        "source: {connection: {id: bench_api}}\ndestination: {connection: {id: bench_lake}}\n"
        "sync: {frequency: 60, enabled: false}\ntables:\n" + "\n".join(table) + "\n"
    )


def restsync_command(definitions: Path) -> list[str]:
    return [str(PROJECT_BIN / "restsync"), "sync", "bench", "--dir", str(definitions)]


def restsync_table(lake: Path) -> Path:
    return lake / "bench" / "records"


def dlt_command(base_url: str, out: Path, work: Path) -> list[str]:
    return [str(DLT_VENV / "bin" / "python"), str(BENCH / "dlt_load.py"), base_url, "--out", str(out),
            "--work", str(work), "--page-size", str(PAGE_SIZE)]


def dlt_table(out: Path) -> Path:
    return out / "bench" / "records"


def bare_command(base_url: str) -> list[str]:
    return [str(PROJECT_BIN / "python"), str(BENCH / "bare.py"), f"{base_url}/records", "--page-size", str(PAGE_SIZE)]


def ensure_dlt_venv() -> str:
    """Create ``bench/.venv-dlt`` with dlt once (the stamp file caches it); return dlt's version."""
    python = DLT_VENV / "bin" / "python"
    if not DLT_STAMP.exists():
        print(f"creating {DLT_VENV.relative_to(ROOT)} with {DLT_REQUIREMENT} (once; this takes a while)", flush=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", DLT_REQUIREMENT], check=True)
        DLT_STAMP.touch()
    out = subprocess.run([str(python), "-c", "import dlt, deltalake; print(dlt.__version__, deltalake.__version__)"],
                         capture_output=True, text=True, check=True)
    dlt_version, deltalake_version = out.stdout.split()
    return f"dlt {dlt_version} (deltalake {deltalake_version})"


def count_delta_rows(table: Path) -> tuple[int, list[str]]:
    """Rows and columns of a Delta table (a count over its Parquet files, no data loaded)."""
    from deltalake import DeltaTable

    dataset = DeltaTable(str(table)).to_pyarrow_dataset()
    return dataset.count_rows(), list(dataset.schema.names)


def bench_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "RESTSYNC_"))}
    env.update(extra)
    return env

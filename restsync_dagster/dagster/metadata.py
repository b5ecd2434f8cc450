"""What a table's materialization shows in the Dagster UI: Dagster's standard keys plus ``restsync/*``.

Every value reads as text a person understands: no ``None``, no Python reprs.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from ..config.pipeline import Table
from ..engine import TableSyncResult
from ..secrets import GLOBAL

PIPELINE_TAG = "restsync/pipeline"


def tag_run(context: Any, pipeline_key: str) -> None:
    """Give the run the pipeline's tag when whatever launched it (the UI's asset job, automation) did not."""
    if PIPELINE_TAG not in context.run.tags:
        context.instance.add_run_tags(context.run.run_id, {PIPELINE_TAG: pipeline_key})


def _text(value: Any, empty: str = "none yet") -> dg.MetadataValue:
    return dg.MetadataValue.text(empty if value is None or value == "" else str(value))


def column_types(table: Table, schema: list[tuple[str, str]]) -> dg.TableSchema:
    """The written columns with their declared type where the table declares one (``json`` is stored as text)."""
    declared = {f.name: f.type for f in table.schema_ or []}
    return dg.TableSchema(columns=[dg.TableColumn(name, declared.get(name, type_)) for name, type_ in schema])


def preview_markdown(rows: list[dict[str, Any]], limit: int = 10) -> str:
    """The first ``limit`` rows as a Markdown table, each cell cut to one short line."""
    rows = rows[:limit]
    if not rows:
        return "_no rows_"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."


def run_metadata(table: Table, result: TableSyncResult) -> dict:
    """The table as it stands after the run, and what the run did."""
    write = result.write
    meta: dict = {
        "dagster/uri": dg.MetadataValue.text(write.table_uri),
        "dagster/table_name": dg.MetadataValue.text(f"{result.pipeline}.{result.table}"),
        "dagster/row_count": dg.MetadataValue.int(result.table_rows),
        "dagster/column_schema": column_types(table, write.schema),
        "restsync/preview": dg.MetadataValue.md(preview_markdown(write.preview)),
        "restsync/table_uri": dg.MetadataValue.path(write.table_uri),
        "restsync/cursor_before": _text(write.cursor_before),
        "restsync/cursor_after": _text(write.cursor_after),
        "restsync/duration_s": dg.MetadataValue.float(round(result.elapsed_s, 3)),
        **work_metadata(result),
    }
    if write.added_columns:
        meta["restsync/added_columns"] = dg.MetadataValue.text(", ".join(write.added_columns))
    return {k: GLOBAL.redact(v) if isinstance(v, str) else v for k, v in meta.items()}


def work_metadata(result: TableSyncResult) -> dict:
    """Counts of one sync: a whole run, or one partition of a multi-partition run."""
    fetch, write = result.fetch, result.write
    meta: dict = {
        "restsync/rows_synced": dg.MetadataValue.int(write.rows),
        "restsync/pages": dg.MetadataValue.int(fetch.pages),
        "restsync/requests": dg.MetadataValue.int(fetch.requests),
        "restsync/requests_skipped": dg.MetadataValue.int(fetch.requests_skipped),
        "restsync/retries": dg.MetadataValue.int(fetch.retries),
        "restsync/rate_limit_wait_s": dg.MetadataValue.float(round(fetch.waited_s, 3)),
        "restsync/bytes_received": dg.MetadataValue.int(fetch.bytes_received),
        "restsync/table_version": dg.MetadataValue.int(write.version if write.version is not None else -1),
    }
    if write.partition_key is not None:
        meta["dagster/partition_row_count"] = dg.MetadataValue.int(write.rows)
    return meta

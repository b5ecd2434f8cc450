"""The lake engine: typing JSON pages, transforming them and writing Delta tables (no Dagster).

The Dagster layer calls ``sync_table`` with an iterable of pages; everything else here is the
machinery behind it, exported for child tables (``read_table_keys``), reverse ETL (``iter_table_batches``) and maintenance (``compact``, ``vacuum``).

    types.Typer        pages → typed polars frames (declared or inferred schema)
    transform          columns.include/exclude and the transformations
    delta.DeltaWriter  frames → one Delta commit (append, overwrite, partition, merge, history)
    delta.WriteResult  what a sync did to its table (commit, rows, pages, schema, preview)
    state              the incremental cursor, stored in commit metadata
    sync               the entry point tying them together
"""

from .delta import DeltaWriter, WriteMode, WriteResult
from .maintenance import compact, vacuum
from .state import read_cursor
from .sync import iter_table_batches, read_table_keys, sync_table, table_uri, write_mode
from .transform import Transformer
from .types import Typer

__all__ = [
    "DeltaWriter",
    "Transformer",
    "Typer",
    "WriteMode",
    "WriteResult",
    "compact",
    "iter_table_batches",
    "read_cursor",
    "read_table_keys",
    "sync_table",
    "table_uri",
    "vacuum",
    "write_mode",
]

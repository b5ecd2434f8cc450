"""A sync that never ends, for the kill -9 tests: ``python -m tests.lake.crash_sync <uri> <mode>``.

It streams pages of rows forever (a part file is opened after the first row group) until killed.
"""

from __future__ import annotations

import sys
import time

from restsync_dagster.lake import sync_table
from tests.lake.helpers import make_table

PAGE_ROWS = 10_000


def pages():
    n = 0
    while True:
        yield [{"id": 1_000_000 + n + i, "v": "crashed"} for i in range(PAGE_ROWS)]
        n += PAGE_ROWS
        if n > 100_000:
            time.sleep(0.05)


if __name__ == "__main__":
    uri, mode = sys.argv[1], sys.argv[2]
    table = make_table(append_only=True) if mode == "append" else make_table(primary_key=["id"])
    sync_table(pages(), table=table, transformations=[], table_uri=uri, storage_options={}, run_id="crashed")

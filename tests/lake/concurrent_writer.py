"""One of several processes writing one partition of the same Delta table at the same moment.

``python -m tests.lake.concurrent_writer URI PARTITION FIRST_ID COUNT BARRIER PEERS`` with the storage
options as JSON in ``RS_TEST_STORAGE_OPTIONS`` (never on the command line). The writer opens the table,
stages its rows, then waits until all ``PEERS`` writers have done the same (a file each in the
``BARRIER`` folder) before committing, so every writer commits against the same table version.
Prints the version it committed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from restsync_dagster.lake import sync_table
from tests.lake.helpers import make_table


def main(uri: str, partition: str, first_id: int, count: int, barrier: str, peers: int) -> None:
    options = json.loads(os.environ["RS_TEST_STORAGE_OPTIONS"])

    def pages():
        yield [{"id": i, "partition": partition} for i in range(first_id, first_id + count)]
        Path(barrier, partition).touch()
        deadline = time.monotonic() + 60
        while len(os.listdir(barrier)) < peers:
            if time.monotonic() > deadline:
                raise TimeoutError("the other writers never got ready")
            time.sleep(0.005)

    result = sync_table(pages(), table=make_table(append_only=True), transformations=[], table_uri=uri,
                        storage_options=options, run_id=f"writer-{partition}", partition_key=partition)
    print(result.version)


if __name__ == "__main__":
    uri, partition, first_id, count, barrier, peers = sys.argv[1:]
    main(uri, partition, int(first_id), int(count), barrier, int(peers))

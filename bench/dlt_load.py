"""dlt's ``rest_api`` source into a Delta table on the filesystem destination: the comparison.

Runs in its own venv (``bench/.venv-dlt``, made by ``bench/run.py``) with dlt's defaults: the same
endpoint, offset paginator and data selector as the restsync table, ``append`` write disposition,
``table_format="delta"``. Prints one JSON line ``{"seconds": S, "table": "<delta table path>"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", required=True, help="folder for the Delta table (bucket_url)")
    parser.add_argument("--work", required=True, help="folder for dlt's pipeline state and load packages")
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    started = time.perf_counter()
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {"base_url": args.base_url},
            "resources": [
                {
                    "name": "records",
                    "write_disposition": "append",
                    "endpoint": {
                        "path": "records",
                        "data_selector": "data",
                        "paginator": {
                            "type": "offset",
                            "limit": args.page_size,
                            "offset_param": "offset",
                            "limit_param": "limit",
                            "total_path": "total",
                        },
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_dlt",
        destination=dlt.destinations.filesystem(bucket_url=os.path.abspath(args.out)),
        dataset_name="bench",
        pipelines_dir=os.path.abspath(args.work),
    )
    pipeline.run(source, table_format="delta")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "table": os.path.join(os.path.abspath(args.out), "bench", "records")}))


if __name__ == "__main__":
    main(sys.argv[1:])

"""The latency benchmark's non-restsync contenders, one process each, stdlib + their own library only.

``bare BASE_URL``: one keep-alive ``httpx.Client``, every request one after another (records pages,
parents pages, then each parent's children) — what a sequential client spends waiting.
``dlt BASE_URL --out DIR --work DIR``: dlt's ``rest_api`` source with the same three resources
(children resolved from parents) into Delta, with dlt's defaults. Both print one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

PAGE_SIZE = 100


def _offset(path: str) -> dict:
    return {"path": path, "data_selector": "data",
            "paginator": {"type": "offset", "limit": PAGE_SIZE, "offset_param": "offset", "limit_param": "limit",
                          "total_path": "total"}}


def run_bare(base_url: str) -> dict:
    import httpx
    import orjson

    counts = {"records": 0, "parents": 0, "children": 0}
    parents: list[int] = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for name in ("records", "parents"):
            offset = 0
            while True:
                body = orjson.loads(client.get(f"/{name}", params={"offset": offset, "limit": PAGE_SIZE}).content)
                counts[name] += len(body["data"])
                if name == "parents":
                    parents += [row["id"] for row in body["data"]]
                offset += PAGE_SIZE
                if len(body["data"]) < PAGE_SIZE or offset >= body["total"]:
                    break
        for parent in parents:
            counts["children"] += len(orjson.loads(client.get(f"/parents/{parent}/children").content)["data"])
    return counts


def run_dlt(base_url: str, out: str, work: str) -> dict:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    children = {"path": "parents/{parent_id}/children", "data_selector": "data", "paginator": "single_page",
                "params": {"parent_id": {"type": "resolve", "resource": "parents", "field": "id"}}}
    source = rest_api_source({
        "client": {"base_url": base_url},
        "resource_defaults": {"write_disposition": "append"},
        "resources": [{"name": "records", "endpoint": _offset("records")},
                      {"name": "parents", "endpoint": _offset("parents")},
                      {"name": "children", "endpoint": children}],
    })
    pipeline = dlt.pipeline(pipeline_name="bench_latency", dataset_name="bench", pipelines_dir=os.path.abspath(work),
                            destination=dlt.destinations.filesystem(bucket_url=os.path.abspath(out)))
    pipeline.run(source, table_format="delta")
    return {"tables": os.path.join(os.path.abspath(out), "bench")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=["bare", "dlt"])
    parser.add_argument("base_url")
    parser.add_argument("--out")
    parser.add_argument("--work")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = run_bare(args.base_url) if args.contender == "bare" else run_dlt(args.base_url, args.out, args.work)
    print(json.dumps({**result, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1:])

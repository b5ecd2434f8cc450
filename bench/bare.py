"""The floor: fetch every page with one keep-alive ``httpx.Client`` and parse it with ``orjson``.

No typing, no writing: what any client must at least spend to get the records into Python. Prints
one JSON line ``{"records": N, "pages": P, "seconds": S}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import httpx
import orjson


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the records endpoint, e.g. http://127.0.0.1:8000/records")
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    records = pages = offset = 0
    with httpx.Client(timeout=30) as client:
        while True:
            response = client.get(args.url, params={"offset": offset, "limit": args.page_size})
            response.raise_for_status()
            body = orjson.loads(response.content)
            data = body["data"]
            records += len(data)
            pages += 1
            offset += args.page_size
            if len(data) < args.page_size or offset >= body["total"]:
                break
    print(json.dumps({"records": records, "pages": pages, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1:])

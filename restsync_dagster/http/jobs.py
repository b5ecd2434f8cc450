"""Asynchronous report jobs: create → poll until done → download every result file.

:func:`iter_job_pages` yields one :class:`~restsync_dagster.http.fetch.Page` per result file, so the
engine treats a report like any paged endpoint. Every request (create, polls, downloads) goes
through the connection's :class:`RestClient`: same retries, same request budget. The wait between
polls starts at ``interval_s`` and grows by ``backoff`` up to ``max_interval_s``. A job that ends
in a ``failed`` status, or is not done within ``timeout_s``, raises :class:`JobError` naming the
job id and its last status. Result URLs outside the connection's ``base_url`` (pre-signed storage
links) are fetched without the connection's auth flow.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from ..config.auth import NoAuth
from ..errors import JobError
from .bodies import RecordsNotFound, extract_records, parse_json
from .client import Reply, RequestStats, RestClient
from .fetch import Page
from .formats import DecodeError, decompress, parse_jsonl
from .jsonpath import MISSING, find, keys_of

Render = Callable[[str, dict], str]


def iter_job_pages(
    client: RestClient,
    table: Any,
    *,
    render: Render,
    connection_name: str | None = None,
    table_name: str | None = None,
    stats: RequestStats | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **_: Any,
) -> Iterator[Page]:
    """The rows of ``table.job``'s result files, one page per file. ``render(text, context)``
    renders the poll path with ``{"job": {"id": ...}}`` added to the stream's template context."""
    job = table.job
    stats = stats if stats is not None else RequestStats()
    name = table_name or table.name
    where = f"connection {connection_name or client.name!r}, table {name!r}"
    auth, policy = client.auth_for(table.auth), client.policy_for(table)

    def get(method: str, url: str, *, json: Any = None, parse: Any = None, use_auth: Any = auth) -> Reply:
        return client.request(method, url, json=json, headers={str(k): str(v) for k, v in table.headers.items()},
                              auth=use_auth, rate_limit=policy, parse=parse, table_name=name, stats=stats)

    created = get(job.create.method, job.create.path, json=job.create.body, parse=_json).data
    job_id = find(created, job.create.id_path)
    if job_id is MISSING or job_id in (None, ""):
        raise JobError(f"{where}: the job's create response has no id at {job.create.id_path!r}; it has keys {keys_of(created)}")
    poll_url = render(job.poll.path, {"job": {"id": job_id}})
    deadline = time.monotonic() + job.poll.timeout_s
    wait = job.poll.interval_s
    statuses: list[str] = []
    while True:
        if time.monotonic() + wait > deadline:
            last = statuses[-1] if statuses else "created"
            raise JobError(f"{where}: report job {job_id!r} was not done within timeout_s={job.poll.timeout_s:g} "
                           f"(last status {last!r} after {len(statuses)} poll(s))")
        sleep(wait)
        wait = min(wait * job.poll.backoff, job.poll.max_interval_s)
        polled = get("GET", poll_url, parse=_json).data
        status = find(polled, job.poll.status_path)
        if status is MISSING:
            raise JobError(f"{where}: report job {job_id!r}: the poll response has no status at "
                           f"{job.poll.status_path!r}; it has keys {keys_of(polled)}")
        statuses.append(str(status))
        if str(status) in job.poll.failed:
            raise JobError(f"{where}: report job {job_id!r} failed with status {str(status)!r} after {len(statuses)} poll(s)")
        if str(status) in job.poll.done:
            break
    urls = find(polled, job.download.urls_path)
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise JobError(f"{where}: report job {job_id!r} is {statuses[-1]!r} but {job.download.urls_path!r} "
                       f"holds no file URL or list of URLs")
    story = f"job {job_id}: {len(statuses)} poll(s) ({' → '.join(statuses)})"
    for number, url in enumerate(urls, 1):
        own = client.url_for(url).startswith(client.base_url.rstrip("/") + "/")
        reply = get("GET", url, use_auth=auth if own else client.auth_for(NoAuth()))
        records = decode_file(reply.response.content, job.download, where=f"{where}, report job {job_id!r} file {number}")
        yield Page(number=number, url=client.describe_url(reply.response.request.url), status=reply.response.status_code,
                   content=b"", records=records, elapsed_s=reply.elapsed_s,
                   decision=f"{story}; file {number}/{len(urls)}: {len(records)} records")
        stats.pages += 1
        stats.records += len(records)


def _json(response: Any) -> Any:
    return parse_json(response.content, response.headers.get("content-type", ""))


def decode_file(content: bytes, download: Any, *, where: str) -> list[Any]:
    """The records of one result file, decompressed and parsed per ``download``."""
    try:
        parts = decompress(content, None if download.compression == "none" else download.compression)
    except DecodeError as exc:
        raise JobError(f"{where}: {exc}") from None
    records: list[Any] = []
    for part in parts:
        try:
            if download.format == "jsonl":
                records.extend(parse_jsonl(part))
            elif download.format == "csv":
                records.extend(csv.DictReader(io.StringIO(part.decode("utf-8-sig"))))
            else:
                records.extend(extract_records(orjson.loads(part), download.root_key))
        except RecordsNotFound as exc:
            raise JobError(f"{where}: download.root_key {exc.path!r} found nothing; the file has keys {exc.keys}") from None
        except (orjson.JSONDecodeError, UnicodeDecodeError, csv.Error, ValueError) as exc:
            raise JobError(f"{where}: not a valid {download.format} file: {str(exc).splitlines()[0]}") from None
    return records

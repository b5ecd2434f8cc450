"""Asynchronous report jobs: create a job, poll it until it is done, download its result files."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PositiveFloat, model_validator

from .common import Model, StrList


class JobCreate(Model):
    method: Literal["GET", "POST"] = "POST"
    """HTTP method of the request that creates the job. Example: `POST`"""
    path: str
    """Where the job is created, relative to ``base_url`` (or an absolute URL), e.g. ``/reports``. Example: `/reports`"""
    body: Any = None
    """JSON body of the create request (templated), e.g. ``{report: orders, since: "{{ incremental.start }}"}``. Example: `{report: orders, since: "{{ incremental.start }}"}`"""
    id_path: str
    """Dotted path of the job id in the create response, e.g. ``report.id``. Example: `report.id`"""


class JobPoll(Model):
    path: str
    """Status URL of the job; ``{{ job.id }}`` is the created job's id, e.g. ``/reports/{{ job.id }}``. Example: `/reports/{{ job.id }}`"""
    status_path: str
    """Dotted path of the job status in the poll response, e.g. ``report.status``. Example: `report.status`"""
    done: StrList = Field(min_length=1)
    """Statuses that mean the result files are ready, e.g. ``[done, COMPLETED]``. Example: `[done, COMPLETED]`"""
    failed: StrList = Field(default_factory=list)
    """Statuses that mean the job failed, e.g. ``[failed, CANCELLED]``; the run fails with the job id. Example: `[failed, CANCELLED]`"""
    interval_s: PositiveFloat = 5.0
    """Seconds before the first poll; each later wait is ``backoff`` times longer, e.g. ``10``. Example: `10`"""
    backoff: Annotated[float, Field(ge=1.0)] = 1.5
    """Factor between two poll waits, e.g. ``2`` (``1`` polls at a fixed interval). Example: `2`"""
    max_interval_s: PositiveFloat = 60.0
    """Longest wait between two polls, e.g. ``120``. Example: `120`"""
    timeout_s: PositiveFloat = 3600.0
    """The run fails (nothing committed) when the job is not done after this many seconds, e.g. ``1800``. Example: `1800`"""

    @model_validator(mode="after")
    def _disjoint(self) -> "JobPoll":
        both = sorted(set(self.done) & set(self.failed))
        if both:
            raise ValueError(f"status {both[0]!r} is listed in both 'done' and 'failed'")
        return self


class JobDownload(Model):
    urls_path: str
    """Dotted path, in the final poll response, of the result file URL or list of URLs, e.g. ``report.files``. Example: `report.files`"""
    format: Literal["jsonl", "csv", "json"] = "jsonl"
    """Format of each result file: JSON lines, CSV with a header row, or JSON, e.g. ``csv``. Example: `csv`"""
    compression: Literal["auto", "none", "gzip", "zip"] = "auto"
    """``auto`` recognises gzip and zip files by their first bytes, e.g. ``gzip``. Example: `gzip`"""
    root_key: str | None = None
    """For ``format: json``: dotted path of the records in the file, e.g. ``data``. Example: `data`"""


class Job(Model):
    """``create`` → ``poll`` until done → ``download`` every result file; each file becomes a page of rows."""

    create: JobCreate
    """The request that starts the report. Example: `{path: /reports, id_path: report.id}`"""
    poll: JobPoll
    """How to follow the job until it is done or failed. Example: `{path: "/reports/{{ job.id }}", status_path: report.status, done: [done]}`"""
    download: JobDownload
    """Where the result files are and how to read them. Example: `{urls_path: report.files, format: csv}`"""

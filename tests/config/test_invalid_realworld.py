"""Invalid real-world API fields (windows, date filters, fan-out, row filters, report jobs):
each fails at load time with the file, the field path and the expectation."""

from __future__ import annotations

import pytest

from restsync_dagster.config import load_project
from tests.config.test_invalid_documents import Case, P, both, delp, setp
from tests.config.test_invalid_documents import test_invalid_document as check_invalid
from tests.support import base_docs, write_docs  # noqa: F401 (fixture)

INC = {"cursor_field": "id", "initial_value": "2026-01-01"}
FAN = {"site_url": ["a", "b"]}
JOB = {
    "create": {"path": "/reports", "id_path": "report.id"},
    "poll": {"path": "/reports/{{ job.id }}", "status_path": "report.status", "done": ["done"]},
    "download": {"urls_path": "report.files"},
}


OFF = {"type": "offset", "page_size": 10}


def job(**parts):
    return {k: {**v, **parts.get(k, {})} for k, v in JOB.items()}


CASES = [
    Case("window_without_initial_value", setp("tables", 0, "incremental", value={"cursor_field": "id", "window": "P1D"}), P, "tables[0].incremental", "'window' needs 'initial_value'"),
    Case("window_zero", setp("tables", 0, "incremental", value={**INC, "window": "PT0S"}), P, "tables[0].incremental.window", "longer than zero"),
    Case("window_not_duration", setp("tables", 0, "incremental", value={**INC, "window": "monthly"}), P, "tables[0].incremental.window", "ISO 8601 duration"),
    Case("end_not_instant", setp("tables", 0, "incremental", value={**INC, "end": "tomorrow"}), P, "tables[0].incremental", "'end': expected an ISO date"),
    Case("template_in_unrendered_field", setp("tables", 0, "incremental", value={"cursor_field": "{{ env.CURSOR }}"}), P, "tables[0].incremental.cursor_field", "templates are not rendered here"),
    Case("template_in_description", setp("description", value="synced on {{ dt }}"), P, "description", "templates are not rendered here"),
    Case("template_in_transformation", setp("transformations", value=[{"type": "exclude_fields", "config": {"fields": ["{{ env.F }}"]}}]), P, "transformations[0].config.fields[0]", "templates are not rendered here"),
    Case("unknown_filter", setp("tables", 0, "params", value={"since": "{{ dt | unix }}"}), P, "tables[0].params.since", "unknown template filter 'unix'"),
    Case("window_var_without_window", setp("tables", 0, "params", value={"since": "{{ window.start }}"}), P, "tables[0].params.since", "unknown template variable 'window'"),
    Case("initial_value_uses_incremental", setp("tables", 0, "incremental", value={**INC, "initial_value": "{{ incremental.start }}"}), P, "tables[0].incremental.initial_value", "unknown template variable 'incremental'"),
    Case("fan_bad_name", setp("tables", 0, "fan_out", value={"site-url": ["a"]}), P, "tables[0].fan_out", "fan_out name 'site-url'"),
    Case("fan_empty_list", setp("tables", 0, "fan_out", value={"site_url": []}), P, "tables[0].fan_out", "the list of values is empty"),
    Case("fan_literal_string", setp("tables", 0, "fan_out", value={"site_url": "a,b"}), P, "tables[0].fan_out", "a template giving a JSON list"),
    Case("fan_not_in_schema", setp("tables", 0, "fan_out", value=FAN), P, "tables[0].fan_out.site_url", "declare it in the table's schema"),
    Case("fan_unknown_name", setp("tables", 0, "params", value={"site": "{{ fan.site }}"}), P, "tables[0].params.site", "unknown template variable 'fan'"),
    Case("filter_rows_syntax", setp("transformations", value=[{"type": "filter_rows", "config": {"where": "name !=== 'x'"}}]), P, "transformations[0].config.where", "not a valid SQL condition"),
    Case("filter_rows_unknown_function", setp("transformations", value=[{"type": "filter_rows", "config": {"where": "nofunc(name) = 1"}}]), P, "transformations[0].config.where", "unsupported function 'nofunc'"),
    Case("filter_rows_unknown_column", setp("transformations", value=[{"type": "filter_rows", "config": {"where": "status != 'deleted'"}}]), P, "transformations[0].config.where", "reads 'status', which is not a column of table 'items'"),
    Case("filter_rows_after_rename", setp("transformations", value=[{"type": "rename_fields", "config": {"mapping": {"name": "title"}}}, {"type": "filter_rows", "config": {"where": "name = 'x'"}}]), P, "transformations[1].config.where", "reads 'name'"),
    Case("filter_rows_no_where", setp("transformations", value=[{"type": "filter_rows", "config": {}}]), P, "transformations[0].config.where", "missing required key 'where'"),
    Case("job_with_pagination", setp("tables", 0, "job", value=JOB), P, "tables[0]", "has no 'pagination'"),
    Case("job_done_and_failed", both(delp("tables", 0, "pagination"), setp("tables", 0, "job", value=job(poll={"failed": ["done"]}))), P, "tables[0].job.poll", "'done' is listed in both"),
    Case("job_no_id_path", both(delp("tables", 0, "pagination"), setp("tables", 0, "job", value={**JOB, "create": {"path": "/r"}})), P, "tables[0].job.create.id_path", "missing required key 'id_path'"),
    Case("job_backoff_below_one", both(delp("tables", 0, "pagination"), setp("tables", 0, "job", value=job(poll={"backoff": 0.5}))), P, "tables[0].job.poll.backoff", ">= 1"),
    Case("job_bad_format", both(delp("tables", 0, "pagination"), setp("tables", 0, "job", value=job(download={"format": "parquet"}))), P, "tables[0].job.download.format", "'jsonl'"),
    Case("job_unknown_attribute", both(delp("tables", 0, "pagination"), setp("tables", 0, "job", value=job(poll={"path": "/r/{{ job.name }}"}))), P, "tables[0].job.poll.path", "'job.name' is not available"),
    Case("job_var_outside_poll", both(delp("tables", 0, "pagination"), setp("tables", 0, "job", value=job(create={"body": {"x": "{{ job.id }}"}}))), P, "tables[0].job.create.body.x", "unknown template variable 'job'"),
    Case("inject_body_on_get", setp("tables", 0, "pagination", value={**OFF, "inject": {"into": "body", "path": "p.offset"}}), P, "tables[0]", "into 'body' needs method POST"),
    Case("inject_body_without_path", both(setp("tables", 0, "method", value="POST"), setp("tables", 0, "pagination", value={**OFF, "inject": {"into": "body"}})), P, "tables[0]", "into 'body' needs a 'path'"),
    Case("inject_unknown_place", setp("tables", 0, "pagination", value={**OFF, "inject": {"into": "cookie"}}), P, "tables[0].pagination.inject.into", "'query'"),
    Case("inject_empty_segment", setp("tables", 0, "pagination", value={**OFF, "inject": {"into": "query", "path": "a..b"}}), P, "tables[0].pagination.inject.path", "dotted path"),
    Case("size_inject_without_page_size", setp("tables", 0, "pagination", value={"type": "cursor", "cursor_field": "next", "size_inject": {"into": "header", "path": "X-Limit"}}), P, "tables[0]", "size_inject needs 'page_size'"),
    Case("inject_on_next_link", setp("tables", 0, "pagination", value={"type": "next_link", "inject": {"into": "header"}}), P, "tables[0].pagination.inject", "inject"),
    Case("page_without_pagination", both(delp("tables", 0, "pagination"), setp("tables", 0, "params", value={"o": "{{ page.offset }}"})), P, "tables[0].params.o", "unknown template variable 'page'"),
    Case("page_unknown_attribute", setp("tables", 0, "params", value={"o": "{{ page.total }}"}), P, "tables[0].params.o", "'page.total' is not available"),
    Case("page_outside_params_and_body", setp("tables", 0, "headers", value={"X-Page": "{{ page.number }}"}), P, "tables[0].headers.X-Page", "unknown template variable 'page'"),
    Case("format_unknown", setp("tables", 0, "response", value={"format": "parquet"}), P, "tables[0].response.format", "'header_rows'"),
    Case("compression_unknown", setp("tables", 0, "response", value={"compression": "brotli"}), P, "tables[0].response.compression", "'gzip'"),
    Case("jsonl_with_root_key", setp("tables", 0, "response", value={"format": "jsonl", "root_key": "data"}), P, "tables[0].response", "'root_key' reads a JSON document; format jsonl"),
    Case("explode_empty_segment", setp("tables", 0, "response", value={"explode": "data..items"}), P, "tables[0].response.explode", "dotted path"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_document(case: Case, base_docs, tmp_path, monkeypatch):
    check_invalid(case, base_docs, tmp_path, monkeypatch)


def test_every_rendered_field_accepts_templates(base_docs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = base_docs[P]["tables"][0]
    table["schema"].append({"name": "site_url", "type": "string"})
    table.update({
        "headers": {"X-Site": "{{ fan.site_url }}"},
        "params": {"since": "{{ window.start | epoch }}", "until": "{{ window.end | epoch_ms }}", "day": "{{ dt | strftime('%Y%m%d') }}"},
        "fan_out": {"site_url": "{{ env.SITES }}"},
        "incremental": {"cursor_field": "id", "initial_value": "{{ env.START }}", "end": "{{ env.END | default('2026-02-01') }}", "window": "P7D"},
    })
    load_project(write_docs(tmp_path / "defs", base_docs))

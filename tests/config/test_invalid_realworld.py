"""Invalid real-world API fields (windows, date filters, fan-out, row filters, report jobs):
each fails at load time with the file, the field path and the expectation."""

from __future__ import annotations

import pytest

from restsync_dagster.config import load_project
from tests.config.test_invalid_documents import Case, P, setp
from tests.config.test_invalid_documents import test_invalid_document as check_invalid
from tests.support import base_docs, write_docs  # noqa: F401 (fixture)

INC = {"cursor_field": "id", "initial_value": "2026-01-01"}
FAN = {"site_url": ["a", "b"]}

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

"""A table of invalid documents: each must fail with the file, the field path and the expectation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from restsync_dagster.config import load_project
from restsync_dagster.errors import ConfigError
from tests.support import base_docs, write_docs  # noqa: F401 (fixture)

P = "pipelines/p.yaml"
API = "connections/api.yaml"
HOOK = "hooks/h.yaml"


def table(docs, i=0):
    return docs[P]["tables"][i]


def auth(docs):
    return docs[API]["auth"]


def setp(*path, value, file=P):
    """Mutation setting docs[file][path...] = value."""

    def mutate(docs):
        node = docs[file]
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


def delp(*path, file=P):
    def mutate(docs):
        node = docs[file]
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return mutate


def both(*mutations):
    def mutate(docs):
        for m in mutations:
            m(docs)

    return mutate


def raw(file: str, text: str):
    def mutate(docs):
        docs[file] = text

    return mutate


@dataclass
class Case:
    id: str
    mutate: Callable
    file: str
    path: str
    expect: str


CHILD = {"name": "details", "path": "/items/{{ parent.item_id }}", "parent": {"table": "items", "fields": {"id": "item_id"}}}

CASES = [
    # wrong types
    Case("definition_version", setp("definition_version", value=2), P, "definition_version", "expected 1"),
    Case("frequency_type", setp("sync", "frequency", value="often"), P, "sync.frequency", "expected a valid integer"),
    Case("tables_not_list", setp("tables", value={"name": "x"}), P, "tables", "expected a list"),
    Case("append_only_type", setp("tables", 0, "append_only", value="maybe"), P, "tables[0].append_only", "valid boolean"),
    Case("timeout_negative", setp("timeout_s", value=-1, file=API), API, "timeout_s", "expected a number > 0"),
    Case("base_url_not_url", setp("base_url", value="ftp://x", file=API), API, "base_url", "http:// or https://"),
    Case("id_bad_slug", setp("id", value="has space", file=API), API, "id", "int or a slug"),
    # unknown keys at each nesting level
    Case("unknown_top", setp("colour", value="red"), P, "colour", "unknown key 'colour'"),
    Case("unknown_source", setp("source", "conection", value={"id": 1}), P, "source.conection", "did you mean 'connection'"),
    Case("unknown_sync", setp("sync", "every", value=5), P, "sync.every", "expected one of: frequency"),
    Case("unknown_table", setp("tables", 0, "urll", value="x"), P, "tables[0].urll", "did you mean 'url'"),
    Case("unknown_pagination", setp("tables", 0, "pagination", "pagesize", value=3), P, "tables[0].pagination.pagesize", "did you mean 'page_size'"),
    Case("unknown_schema_field", setp("tables", 0, "schema", 0, "kind", value="x"), P, "tables[0].schema[0].kind", "unknown key 'kind'"),
    Case("unknown_response", setp("tables", 0, "response", "root", value="x"), P, "tables[0].response.root", "did you mean 'root_key'"),
    Case("unknown_auth", setp("auth", "tokn", value="x", file=API), API, "auth.tokn", "did you mean 'token'"),
    Case("unknown_rate_limit", setp("rate_limit", value={"rps": 3}, file=API), API, "rate_limit.rps", "requests_per_second"),
    Case("unknown_hook_key", setp("secret", value="x", file=HOOK), HOOK, "secret", "unknown key 'secret'"),
    Case("unknown_hook_ref", setp("hooks", 0, "event", value=["x"]), P, "hooks[0].event", "did you mean 'events'"),
    Case("unknown_transformation_config", setp("transformations", value=[{"type": "exclude_fields", "config": {"fields": ["name"], "x": 1}}]), P, "transformations[0].config.x", "unknown key 'x'"),
    # registry names
    Case("unknown_pagination_type", setp("tables", 0, "pagination", value={"type": "scroll"}), P, "tables[0].pagination", "unknown type 'scroll'; expected one of: 'offset'"),
    Case("unknown_transformation_type", setp("transformations", value=[{"type": "uppercase", "config": {}}]), P, "transformations[0]", "unknown type 'uppercase'"),
    Case("unknown_auth_type", setp("auth", value={"type": "kerberos"}, file=API), API, "auth", "'oauth2_client_credentials'"),
    Case("unknown_connection_type", setp("type", value="ftp", file=API), API, "", "unknown type 'ftp'"),
    Case("unknown_event", setp("hooks", 0, "events", value=["pipeline_exploded"]), P, "hooks[0].events[0]", "'pipeline_failed'"),
    Case("unknown_column_type", setp("tables", 0, "schema", 0, "type", value="decimal"), P, "tables[0].schema[0].type", "'timestamp'"),
    # numbers out of range
    Case("page_size_zero", setp("tables", 0, "pagination", "page_size", value=0), P, "tables[0].pagination.page_size", "expected a number > 0, got 0"),
    Case("batch_size_zero", both(setp("destination", value={"connection": {"id": "out"}, "request": {"path": "/x", "request_mode": "batch", "batch_size": 0}})), P, "destination.request.batch_size", "expected a number > 0, got 0"),
    Case("frequency_zero", setp("sync", "frequency", value=0), P, "sync.frequency", "> 0"),
    Case("max_retries_negative", setp("rate_limit", value={"max_retries": -1}, file=API), API, "rate_limit.max_retries", ">= 0"),
    # auth kinds missing a required field
    Case("basic_no_username", setp("auth", value={"type": "basic", "password": "x"}, file=API), API, "auth.username", "missing required key 'username'"),
    Case("bearer_no_token", setp("auth", value={"type": "bearer"}, file=API), API, "auth.token", "missing required key 'token'"),
    Case("api_key_no_key", setp("auth", value={"type": "api_key", "header": "X-Key"}, file=API), API, "auth.key", "missing required key 'key'"),
    Case("api_key_no_place", setp("auth", value={"type": "api_key", "key": "k"}, file=API), API, "auth", "exactly one of 'header' or 'param'"),
    Case("token_param_no_name", setp("auth", value={"type": "token", "token": "t", "send_via": "param"}, file=API), API, "auth", "'param_name' is required"),
    Case("token_refresh_no_path", setp("auth", value={"type": "token", "token": "t", "refresh": {"token_path": "a"}}, file=API), API, "auth.refresh.path", "missing required key 'path'"),
    Case("oauth_no_secret", setp("auth", value={"type": "oauth2_client_credentials", "token_url": "/t", "client_id": "c"}, file=API), API, "auth.client_secret", "missing required key 'client_secret'"),
    Case("refresh_no_token", setp("auth", value={"type": "oauth2_refresh_token", "token_url": "/t", "client_id": "c"}, file=API), API, "auth.refresh_token", "missing required key 'refresh_token'"),
    Case("refresh_client_auth", setp("auth", value={"type": "oauth2_refresh_token", "token_url": "/t", "client_id": "c", "refresh_token": "r", "client_auth": "header"}, file=API), API, "auth.client_auth", "'basic' or 'body'"),
    Case("refresh_blank_token", setp("auth", value={"type": "oauth2_refresh_token", "token_url": "/t", "client_id": "c", "refresh_token": " "}, file=API), API, "auth.refresh_token", "must not be empty"),
    Case("jwt_no_key", setp("auth", value={"type": "jwt_bearer", "token_url": "/t", "issuer": "i"}, file=API), API, "auth", "exactly one of 'key_file'"),
    Case("jwt_pem_no_issuer", setp("auth", value={"type": "jwt_bearer", "private_key": "{{ env.PEM }}", "token_url": "/t"}, file=API), API, "auth", "'issuer' is required"),
    Case("jwt_lifetime", setp("auth", value={"type": "jwt_bearer", "key_file": "sa.json", "lifetime_s": 7200}, file=API), API, "auth.lifetime_s", "3600"),
    Case("skip_statuses_not_error", setp("tables", 0, "response", value={"root_key": "data", "skip_statuses": [200]}), P, "tables[0].response.skip_statuses", "between 400 and 599, got 200"),
    Case("connection_skip_statuses", setp("skip_statuses", value=["nope"], file=API), API, "skip_statuses[0]", "valid integer"),
    Case("cookie_no_login", setp("auth", value={"type": "cookie"}, file=API), API, "auth.login", "missing required key 'login'"),
    Case("delta_no_path", delp("path", file="connections/lake.yaml"), "connections/lake.yaml", "path", "missing required key 'path'"),
    Case("hook_no_url", delp("url", file=HOOK), HOOK, "url", "missing required key 'url'"),
    # templates
    Case("template_syntax", setp("tables", 0, "params", value={"q": "{{ env.X "}), P, "tables[0].params.q", "template syntax error"),
    Case("template_unknown_var", setp("tables", 0, "params", value={"q": "{{ nope }}"}), P, "tables[0].params.q", "unknown template variable 'nope'"),
    Case("template_partition_unpartitioned", setp("tables", 0, "params", value={"q": "{{ partition.start }}"}), P, "tables[0].params.q", "unknown template variable 'partition'"),
    Case("template_parent_field", both(lambda d: d[P]["tables"].append(dict(CHILD, path="/items/{{ parent.other }}"))), P, "tables[1].path", "'parent.other' is not available"),
    Case("template_in_connection", setp("base_url", value="http://{{ parent.x }}", file=API), API, "base_url", "unknown template variable 'parent'"),
    # cron and schedule rules
    Case("bad_cron", setp("sync", value={"cron": "61 * * * *"}), P, "sync.cron", "minute '61' is out of range"),
    Case("cron_fields", setp("sync", value={"cron": "* * *"}), P, "sync.cron", "5 fields"),
    Case("frequency_and_pair", setp("sync", value={"frequency": 5, "source_frequency": 5, "destination_frequency": 10}), P, "sync", "not both"),
    Case("half_pair", setp("sync", value={"source_frequency": 5}), P, "sync", "go together"),
    Case("no_cadence", setp("sync", value={"enabled": True}), P, "sync", "set 'frequency'"),
    # cross-document rules
    Case("duplicate_connection_id", lambda d: d.__setitem__("connections/api2.yaml", dict(d[API])), "connections/api2.yaml", "id", "duplicate connection id 'api'"),
    Case("duplicate_pipeline", lambda d: d.__setitem__("pipelines/q.yaml", dict(d[P])), "pipelines/q.yaml", "name", "duplicate pipeline"),
    Case("missing_source", setp("source", "connection", "id", value="nope"), P, "source.connection.id", "no connection with id 'nope'"),
    Case("missing_destination", setp("destination", "connection", "id", value=99), P, "destination.connection.id", "no connection with id 99"),
    Case("missing_hook", setp("hooks", 0, "id", value="gone"), P, "hooks[0].id", "no hook with id 'gone'"),
    Case("delta_to_delta", setp("source", "connection", "id", value="lake"), P, "destination.connection.id", "Delta to Delta"),
    Case("staging_not_delta", setp("staging", value={"connection": {"id": "api"}}), P, "staging.connection.id", "staging must be a Delta connection"),
    Case("request_on_delta", setp("destination", "request", value={"path": "/x"}), P, "destination.request", "only for REST destinations"),
    Case("rest_dest_no_request", setp("destination", value={"connection": {"id": "out"}}), P, "destination.request", "needs 'destination.request'"),
    Case("include_and_exclude", setp("tables", 0, "columns", value={"include": ["id"], "exclude": ["name"]}), P, "tables[0].columns", "not both"),
    Case("include_unknown_column", setp("tables", 0, "columns", value={"include": ["id", "nam"]}), P, "tables[0].columns.include[1]", "column 'nam' is not in the table's schema"),
    Case("history_no_key", both(delp("tables", 0, "primary_key"), setp("transformations", value=[{"type": "history_mode"}])), P, "transformations[0]", "history_mode needs a primary_key"),
    Case("incremental_merge_no_key", both(delp("tables", 0, "primary_key"), setp("tables", 0, "incremental", value={"cursor_field": "id"})), P, "tables[0].primary_key", "set primary_key, or append_only: true"),
    Case("primary_key_not_column", setp("tables", 0, "primary_key", value=["uid"]), P, "tables[0].primary_key[0]", "primary key column 'uid'"),
    Case("transform_unknown_field", setp("transformations", value=[{"type": "exclude_fields", "config": {"fields": ["colour"]}}]), P, "transformations[0].config.fields[0]", "field 'colour' does not exist"),
    Case("transform_after_rename", setp("transformations", value=[{"type": "rename_fields", "config": {"mapping": {"name": "title"}}}, {"type": "toggle_case", "config": {"fields": ["name"], "case": "upper"}}]), P, "transformations[1].config.fields[0]", "field 'name' does not exist"),
    Case("rename_collision", setp("transformations", value=[{"type": "rename_fields", "config": {"mapping": {"name": "id"}}}]), P, "transformations[0].config.mapping", "two columns named 'id'"),
    Case("transform_unknown_table", setp("transformations", value=[{"type": "exclude_fields", "table": "nope", "config": {"fields": ["name"]}}]), P, "transformations[0].table", "no table 'nope'"),
    Case("bad_regex", setp("transformations", value=[{"type": "find_and_replace", "config": {"fields": ["name"], "find": "(", "regex": True}}]), P, "transformations[0].config", "not a valid regular expression"),
    Case("dest_field_ref", setp("destination", value={"connection": {"id": "out"}, "request": {"path": "/c/#{uid}"}}), P, "destination.request.path", "#{uid} names no column"),
    Case("dest_custom_payload_json", setp("destination", value={"connection": {"id": "out"}, "request": {"path": "/c", "custom_payload": "{\"a\": #{id},}"}}), P, "destination.request", "custom_payload is not valid JSON"),
    Case("field_mapping_type", setp("destination", value={"connection": {"id": "out"}, "request": {"path": "/c", "field_mapping": [{"field_name": "n", "column_name": "name", "field_type": "long"}]}}), P, "destination.request.field_mapping[0].field_type", "has type string, not long"),
    Case("parent_missing", lambda d: d[P]["tables"].append(dict(CHILD, parent={"table": "ghost", "fields": {"id": "item_id"}})), P, "tables[1].parent.table", "no table 'ghost'"),
    Case("parent_cycle", lambda d: d[P]["tables"].extend([
        {"name": "a", "path": "/a/{{ parent.x }}", "parent": {"table": "b", "fields": {"id": "x"}}},
        {"name": "b", "path": "/b/{{ parent.x }}", "parent": {"table": "a", "fields": {"id": "x"}}},
    ]), P, "tables[1].parent.table", "loops back"),
    Case("parent_field_not_in_schema", lambda d: d[P]["tables"].append(dict(CHILD, parent={"table": "items", "fields": {"uid": "item_id"}})), P, "tables[1].parent.fields.uid", "not in parent table 'items'"),
    Case("partitions_and_incremental", setp("tables", 0, "partitions", value={"type": "daily", "start": "2026-01-01"}), P, "tables[0]", "either partitioned or incremental") if False else
    Case("partitions_bad_start", setp("tables", 0, "partitions", value={"type": "daily", "start": "yesterday"}), P, "tables[0].partitions.start", "expected an ISO date"),
    Case("partitions_bad_max_per_run", setp("tables", 0, "partitions", value={"type": "daily", "start": "2026-01-01", "max_per_run": 0}), P, "tables[0].partitions.max_per_run", "expected a number > 0, got 0"),
    Case("partitions_bad_tz", setp("tables", 0, "partitions", value={"type": "daily", "start": "2026-01-01", "timezone": "Mars/Olympus"}), P, "tables[0].partitions.timezone", "unknown time zone"),
    Case("lookback_bad", both(setp("tables", 0, "incremental", value={"cursor_field": "id", "lookback": "1 day"})), P, "tables[0].incremental.lookback", "ISO 8601 duration"),
    Case("duplicate_table_key", lambda d: d[P]["tables"].append(dict(d[P]["tables"][0], name="Items")), P, "tables[1].name", "same key 'items'"),
    # file-level problems
    Case("yaml_syntax", raw(P, "name: [unclosed\n"), P, "", "invalid YAML"),
    Case("json_syntax", raw("pipelines/j.json", "{\"name\": }"), "pipelines/j.json", "", "invalid"),
    Case("not_a_mapping", raw(P, "- just\n- a list\n"), P, "", "expected a mapping of keys at the top level"),
    Case("empty_tables", setp("tables", value=[]), P, "tables", "at least 1 item"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_document(case: Case, base_docs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    case.mutate(base_docs)
    root = write_docs(tmp_path / "defs", base_docs)
    with pytest.raises(ConfigError) as info:
        load_project(root)
    lines = [str(issue) for issue in info.value.issues]
    wanted_file = f"defs/{case.file}"
    matching = [
        issue for issue in info.value.issues
        if issue.file == wanted_file and issue.path == case.path and case.expect in issue.message
    ]
    assert matching, f"expected {wanted_file} / {case.path!r} / {case.expect!r} in:\n" + "\n".join(lines)
    issue = matching[0]
    if not case.id.endswith("_syntax") or case.id == "yaml_syntax":
        assert issue.line is not None and issue.line >= 1, lines


def test_at_least_forty_cases():
    assert len(CASES) >= 40


def test_every_error_reported_at_once(base_docs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base_docs[P]["tables"][0]["pagination"]["page_size"] = 0
    base_docs[API]["auth"] = {"type": "bearer"}
    base_docs[HOOK]["nope"] = 1
    root = write_docs(tmp_path / "defs", base_docs)
    with pytest.raises(ConfigError) as info:
        load_project(root)
    files = {i.file for i in info.value.issues}
    assert files == {f"defs/{P}", f"defs/{API}", f"defs/{HOOK}"}


def test_line_numbers_point_at_the_field(base_docs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base_docs[P] = (
        "definition_version: 1\nname: p\nsource: {connection: {id: api}}\ndestination: {connection: {id: lake}}\n"
        "sync: {frequency: 5}\ntables:\n  - name: items\n    pagination:\n      type: offset\n      page_size: 0\n"
    )
    root = write_docs(tmp_path / "defs", base_docs)
    with pytest.raises(ConfigError) as info:
        load_project(root)
    (issue,) = info.value.issues
    assert (issue.line, issue.path) == (10, "tables[0].pagination.page_size")
    assert str(issue) == "defs/pipelines/p.yaml:10: tables[0].pagination.page_size: expected a number > 0, got 0"

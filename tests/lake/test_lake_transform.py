"""columns.include/exclude and the transformations of SPEC §4.4."""

from __future__ import annotations

import polars as pl
import pytest
from tests.lake.helpers import make_table, make_transformations

from restsync_dagster.errors import SchemaError
from restsync_dagster.config.columns import output_columns
from restsync_dagster.lake import Transformer

FRAME = pl.DataFrame(
    {
        "id": [1, 2],
        "first name": ["Ada", "bob"],
        "email": ["ADA@X.ORG", "bob@y.org"],
        "phone": ["+33 1 23", "555-0100"],
        "_restsync_run_id": ["r", "r"],
    }
)


def apply(table_fields: dict | None = None, *docs: dict) -> pl.DataFrame:
    return Transformer(make_table(**(table_fields or {})), make_transformations(*docs)).apply(FRAME)


def test_columns_include_keeps_system_columns():
    out = apply({"columns": {"include": ["id", "email"]}})
    assert out.columns == ["id", "email", "_restsync_run_id"]


def test_columns_exclude():
    out = apply({"columns": {"exclude": ["phone", "email"]}})
    assert out.columns == ["id", "first name", "_restsync_run_id"]


def test_exclude_fields():
    assert apply(None, {"type": "exclude_fields", "config": {"fields": ["phone"]}}).columns == [
        "id", "first name", "email", "_restsync_run_id",
    ]


def test_rename_fields():
    out = apply(None, {"type": "rename_fields", "config": {"mapping": {"email": "mail", "id": "customer_id"}}})
    assert out.columns == ["customer_id", "first name", "mail", "phone", "_restsync_run_id"]


def test_toggle_case():
    out = apply(None, {"type": "toggle_case", "config": {"fields": ["email"], "case": "lower"}},
                {"type": "toggle_case", "config": {"fields": ["first name"], "case": "upper"}})
    assert out["email"].to_list() == ["ada@x.org", "bob@y.org"]
    assert out["first name"].to_list() == ["ADA", "BOB"]


def test_find_and_replace_literal_and_regex():
    out = apply(None, {"type": "find_and_replace", "config": {"fields": ["email"], "find": ".", "replace": "[dot]"}})
    assert out["email"].to_list() == ["ADA@X[dot]ORG", "bob@y[dot]org"]
    out = apply(None, {"type": "find_and_replace", "config": {"fields": ["phone"], "find": r"\D", "replace": "", "regex": True}})
    assert out["phone"].to_list() == ["33123", "5550100"]
    out = apply(None, {"type": "find_and_replace", "config": {"fields": ["email"], "find": r"^(\w+)@", "replace": r"\1 at $", "regex": True}})
    assert out["email"].to_list() == ["ADA at $X.ORG", "bob at $y.org"]


def test_replace_in_field_name_spares_restsync_columns():
    out = apply(None, {"type": "replace_in_field_name", "config": {"find": " ", "replace": "_"}},
                {"type": "replace_in_field_name", "config": {"find": "_", "replace": "-"}})
    assert out.columns == ["id", "first-name", "email", "phone", "_restsync_run_id"]


def test_transformations_apply_in_order_and_only_to_their_table():
    out = apply(
        None,
        {"type": "rename_fields", "config": {"mapping": {"email": "mail"}}},
        {"type": "toggle_case", "config": {"fields": ["mail"], "case": "lower"}},
        {"type": "exclude_fields", "table": "another_table", "config": {"fields": ["id"]}},
    )
    assert out.columns == ["id", "first name", "mail", "phone", "_restsync_run_id"]
    assert out["mail"].to_list() == ["ada@x.org", "bob@y.org"]


def test_history_mode_is_a_flag():
    t = Transformer(make_table(primary_key=["id"]), make_transformations({"type": "history_mode"}))
    assert t.history_mode
    assert t.apply(FRAME).columns == FRAME.columns


def test_runtime_rename_collision_is_a_schema_error():
    with pytest.raises(SchemaError, match="'contact' and 'contact2' both 'contact'"):
        apply(None, {"type": "rename_fields", "config": {"mapping": {"email": "contact", "phone": "contact2"}}},
              {"type": "rename_fields", "config": {"mapping": {"contact2": "contact"}}})


def test_restsync_columns_cannot_be_touched():
    with pytest.raises(SchemaError, match="restsync column"):
        apply(None, {"type": "exclude_fields", "config": {"fields": ["_restsync_run_id"]}})


SCHEMA = [{"name": n, "type": t} for n, t in [("id", "long"), ("email", "string"), ("phone", "string")]]


def _columns(table, docs):
    return output_columns(table, 0, list(enumerate(docs)))


def test_output_columns_of_a_declared_schema():
    docs = make_transformations(
        {"type": "rename_fields", "config": {"mapping": {"email": "mail"}}},
        {"type": "replace_in_field_name", "config": {"find": "i", "replace": "I"}},
    )
    cols, problems = _columns(make_table(columns={"exclude": ["phone"]}, schema=SCHEMA), docs)
    assert list(cols) == ["Id", "maIl"] and problems == []
    assert _columns(make_table(columns={"exclude": ["phone"]}), docs) == (None, [])


@pytest.mark.parametrize(
    ("table_fields", "doc", "message"),
    [
        ({}, {"type": "exclude_fields", "config": {"fields": ["nope"]}}, "field 'nope' does not exist in table 'orders'"),
        ({}, {"type": "rename_fields", "config": {"mapping": {"email": "phone"}}}, "renaming makes two columns named 'phone'"),
        ({}, {"type": "toggle_case", "config": {"fields": ["id"], "case": "upper"}}, "field 'id' has type long; toggle_case works on string fields"),
        ({}, {"type": "replace_in_field_name", "config": {"find": "email", "replace": "phone"}}, "makes two columns named 'phone'"),
        ({"columns": {"include": ["id", "missing"]}}, None, "column 'missing' is not in the table's schema"),
        ({"columns": {"include": ["id"]}}, {"type": "find_and_replace", "config": {"fields": ["email"], "find": "a"}}, "field 'email' does not exist in table 'orders' at this point (columns: id)"),
    ],
)
def test_output_columns_reports_missing_fields_and_collisions(table_fields, doc, message):
    docs = make_transformations(doc) if doc else []
    _, problems = _columns(make_table(schema=SCHEMA, **table_fields), docs)
    assert any(message in text for _, text in problems), problems

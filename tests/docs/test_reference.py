"""docs/reference.md is generated from the models and covers every field."""

from __future__ import annotations

from pathlib import Path

from restsync_dagster.config.reference import all_models, field_doc, render, undocumented

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_reference_is_fresh():
    assert REFERENCE.is_file(), "docs/reference.md is missing; run `make docs`"
    assert REFERENCE.read_text(encoding="utf-8") == render(), "docs/reference.md is stale; run `make docs`"


def test_every_field_has_a_description_and_an_example():
    missing = undocumented()
    assert not missing, (
        "fields without a docstring ending in 'Example: `value`': " + ", ".join(missing)
    )


def test_every_field_appears_in_the_reference():
    text = render()
    fields = [(m, n) for m in all_models() for n in m.model_fields]
    assert len(fields) > 200
    for model, name in fields:
        doc = field_doc(name, model.model_fields[name])
        assert f"### {model.__name__}" in text
        assert f"| `{doc.name}` |" in text


def test_a_field_without_a_docstring_is_reported(monkeypatch):
    from restsync_dagster.config.hook import Hook

    info = Hook.model_fields["url"]
    monkeypatch.setattr(info, "description", "Where the call goes.")
    assert "Hook.url" in undocumented()

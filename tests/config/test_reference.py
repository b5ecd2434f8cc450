"""docs/reference.md is generated from the models, and every field has a description and an example."""

from pathlib import Path

from restsync_dagster.config.reference import missing, render, sections, split_example

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_reference_is_up_to_date() -> None:
    assert REFERENCE.exists(), "docs/reference.md is missing: run `make docs`"
    assert REFERENCE.read_text(encoding="utf-8") == render(), "docs/reference.md is stale: run `make docs`"


def test_every_field_has_a_description_and_an_example() -> None:
    offenders = missing()
    assert not offenders, "fields without a description or example:\n" + "\n".join(offenders)


def test_every_kind_gets_its_own_section() -> None:
    titles = {s.title for s in sections()}
    for expected in ("`auth` (type `oauth2_refresh_token`)", "`tables[].pagination` (type `keyset`)", "`transformations[]` (type `filter_rows`)"):
        assert expected in titles


def test_both_example_conventions_are_parsed_and_stripped() -> None:
    assert split_example("Seconds to wait. Example: `10`") == ("Seconds to wait.", "10")
    assert split_example("Dotted path of the id, e.g. ``report.id``.") == ("Dotted path of the id.", "report.id")
    assert split_example("No example here.") == ("No example here.", "")

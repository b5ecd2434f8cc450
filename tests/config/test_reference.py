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


def _snippets() -> list[tuple[str, str, str]]:
    """(guide, relative path, text) of every YAML block in docs/ that starts with a ``# kind/file.yaml`` line."""
    import re

    out = []
    for guide in sorted(REFERENCE.parent.glob("*.md")):
        for block in re.findall(r"```yaml\n(.*?)```", guide.read_text(encoding="utf-8"), re.S):
            head = block.split("\n", 1)[0]
            match = re.match(r"# ((?:connections|pipelines|hooks)/\w+\.yaml)$", head)
            if match:
                out.append((guide.name, match.group(1), block))
    return out


def test_guide_snippets_load_with_the_shipped_connections(tmp_path) -> None:
    import shutil

    from restsync_dagster.config import load_project

    shipped = REFERENCE.parents[1] / "definitions_yaml"
    shutil.copytree(shipped / "connections", tmp_path / "connections")
    shutil.copytree(shipped / "hooks", tmp_path / "hooks")
    (tmp_path / "pipelines").mkdir()
    snippets = _snippets()
    assert len(snippets) >= 10
    for _guide, relative, text in snippets:
        (tmp_path / relative).write_text(text, encoding="utf-8")
    project = load_project(tmp_path, strict=False)
    assert not project.broken, "\n".join(str(i) for b in project.broken for i in b.issues)
    names = {relative.split("/")[1][:-5] for _g, relative, _t in snippets if relative.startswith("pipelines/")}
    assert names <= set(project.pipelines)

"""Every YAML snippet of the guides in docs/ validates against the definition models.

A snippet is a whole document (connection, pipeline or hook), a list of tables, or a block of fields
of a pipeline, a table or a connection; each value is validated against that field's type.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from restsync_dagster.config.connection import DeltaConnection, RestConnection
from restsync_dagster.config.hook import Hook
from restsync_dagster.config.pipeline import Pipeline, Table

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"```ya?ml\n(.*?)```", re.S)
#: Snippets of files that are not definitions (dagster.yaml, a dg component).
NOT_DEFINITIONS = ("concurrency", "type: restsync_dagster.", "MODEL:")


def _snippets() -> list[tuple[str, str]]:
    out = []
    for guide in sorted(DOCS.glob("*.md")):
        if guide.name == "reference.md":
            continue
        for n, block in enumerate(BLOCK.findall(guide.read_text(encoding="utf-8")), 1):
            if not any(marker in block for marker in NOT_DEFINITIONS):
                out.append((f"{guide.name} snippet {n}", block))
    return out


def _fields(model: type[BaseModel], data: dict[str, Any]) -> None:
    """Validate each key of ``data`` as the field of ``model`` it names."""
    by_key = {info.alias or name: info for name, info in model.model_fields.items()}
    unknown = sorted(set(data) - set(by_key))
    if unknown:
        raise AssertionError(f"not fields of {model.__name__}: {unknown}")
    for key, value in data.items():
        TypeAdapter(by_key[key].annotation).validate_python(value)


def _check(data: Any) -> None:
    if isinstance(data, list):
        for table in data:
            Table.model_validate(table)
    elif "definition_version" in data:
        Pipeline.model_validate(data)
    elif data.get("type") == "rest" and "id" in data:
        RestConnection.model_validate(data)
    elif data.get("type") == "delta" and "id" in data:
        DeltaConnection.model_validate(data)
    elif data.get("type") == "webhook":
        Hook.model_validate(data)
    else:
        errors = []
        for model in (Pipeline, Table, RestConnection):
            try:
                _fields(model, data)
                return
            except (AssertionError, ValidationError) as exc:
                errors.append(f"{model.__name__}: {exc}")
        raise AssertionError("\n".join(errors))


SNIPPETS = _snippets()


def test_the_guides_have_snippets() -> None:
    assert len(SNIPPETS) >= 20


@pytest.mark.parametrize("label,text", SNIPPETS, ids=[label for label, _ in SNIPPETS])
def test_snippet_validates(label: str, text: str) -> None:
    data = yaml.safe_load(text)
    assert isinstance(data, (dict, list)), f"{label}: not a YAML mapping or list"
    _check(data)

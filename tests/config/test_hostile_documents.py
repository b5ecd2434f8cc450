"""Files that used to crash or hang validation: each gives ``file:line`` and exit code 1, quickly."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from restsync_dagster.cli import main
from restsync_dagster.config import load_project
from restsync_dagster.errors import ConfigError
from tests.support import base_docs, write_docs  # noqa: F401 (fixture)

BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)
CONN = "id: c\ntype: rest\nbase_url: http://127.0.0.1:1\n"

CASES = [
    ("connections/c.yaml", b"id: c\ntype: rest\nname: \"caf\xe9\"\nbase_url: http://x\n", 3, "not UTF-8 text (byte 0xe9"),
    ("connections/c.yaml", (CONN + "headers: " + "[" * 500 + "]" * 500 + "\n").encode(), 4, "nested more than 64 levels deep"),
    ("connections/c.json", ('{"id": "c", "type": "rest", "base_url": "http://x",\n "headers": ' + '{"a":' * 500 + "1" + "}" * 500 + "}").encode(), 2, "nested more than 64 levels deep"),
    ("connections/c.yaml", (CONN + "headers: &h [*h]\n").encode(), 4, "an alias refers to a value that contains it"),
    ("connections/c.yaml", (CONN + BOMB + "headers: *a8\n").encode(), 8, "more than 10,000 values"),
    ("connections/c.yaml", (CONN + "description: 2024-02-30\n").encode(), 4, "day is out of range"),
    ("connections/c.yaml", (CONN + "timeout_s: " + "9" * 5000 + "\n").encode(), 4, "Exceeds the limit (4300 digits)"),
    ("connections/c.yaml", b"id: c\ntype: delta\npath: ''\n", 3, "path: expected a non-empty value, got ''"),
    ("connections/c.yaml", b"id: c\ntype: delta\npath: '   '\n", 3, "path: expected a non-empty value, got '   '"),
    ("connections/c.yaml", b"id: c\ntype: rest\nbase_url: ' '\n", 3, "base_url: expected a non-empty value"),
    ("connections/c.yaml", b"id: ' '\ntype: delta\npath: x\n", 1, "id: expected an int or a slug"),
    ("hooks/k.yaml", b"id: k\ntype: webhook\nurl: ''\n", 3, "url: expected a non-empty value"),
]


@pytest.mark.parametrize("rel, content, line, expected", CASES, ids=[f"{i}" for i in range(len(CASES))])
def test_hostile_file_gives_file_line_error(tmp_path, base_docs, rel, content, line, expected):
    root = write_docs(tmp_path, base_docs)
    (root / rel).write_bytes(content)
    started = time.process_time()  # CPU time: a busy machine does not fail the bound
    with pytest.raises(ConfigError) as caught:
        load_project(root, environ={})
    assert time.process_time() - started < 1.0
    mine = [str(i) for i in caught.value.issues if i.file.endswith(rel)]
    assert len(mine) == 1, mine
    assert f"{rel}:{line}:" in mine[0] and expected in mine[0], mine[0]

    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output


def test_empty_table_path_and_pipeline_name_are_rejected(tmp_path, base_docs):
    base_docs["pipelines/p.yaml"]["tables"][0]["path"] = ""
    base_docs["pipelines/p.yaml"]["name"] = "  "
    root = write_docs(tmp_path, base_docs)
    with pytest.raises(ConfigError) as caught:
        load_project(root, environ={})
    text = "\n".join(map(str, caught.value.issues))
    assert "tables[0].path: expected a non-empty value, got ''" in text
    assert "name: expected a non-empty value, got '  '" in text


def test_a_lake_path_that_renders_empty_fails_before_writing(tmp_path, base_docs):
    from restsync_dagster.config.templating import Renderer
    from restsync_dagster.engine import lake_location
    from restsync_dagster.errors import TemplateError
    from restsync_dagster.secrets import Secrets

    base_docs["connections/lake.yaml"]["path"] = "{{ env.LAKE_DIR }}"
    project = load_project(write_docs(tmp_path, base_docs), environ={})
    with pytest.raises(TemplateError, match="connection lake path rendered to an empty string"):
        lake_location(project, project.pipeline("p"), Renderer(Secrets(), environ={"LAKE_DIR": " "}))

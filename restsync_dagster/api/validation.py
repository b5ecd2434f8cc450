"""Check a pipeline document sent to the API exactly as ``restsync validate`` would.

The body is written to ``pipelines/`` of a scratch copy of the definitions folder's connections and
hooks, then loaded with ``load_project``, so parsing, models, templates and cross-references (a
missing connection or hook) are the loader's own. Line numbers refer to the body as sent.

Status split (seed 004): 422 when the body is not a document of the right shape (unparseable, not a
mapping, unknown keys, a top-level field of the wrong type); 400 when it parses into that shape but
fails validation (conflicting ``include``/``exclude``, an unknown transformation type, a missing
connection, ...). Both bodies list every failing field.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ..config import load_project
from ..config.common import to_key
from ..config.issues import Issue
from ..config.pipeline import Pipeline
from ..config.source import read_source
from ..errors import ConfigError
from .problems import ApiError, invalid

Format = Literal["yaml", "json"]

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/vnd.yaml")
MAX_BODY = 1_000_000


def body_format(content_type: str | None) -> Format:
    """JSON for ``application/json`` and ``*+json``; YAML otherwise (YAML also reads JSON)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return "json" if media in JSON_TYPES or media.endswith("+json") else "yaml"


@dataclass
class Checked:
    """A document that passed validation."""

    text: str
    data: dict[str, Any]
    format: Format
    pipeline: Pipeline
    name_line: int | None = None

    @property
    def key(self) -> str:
        return self.pipeline.key


def _is_shape_error(error: ErrorDetails) -> bool:
    kind = error["type"]
    if kind == "extra_forbidden":
        return True
    top_level = len(error["loc"]) <= 1
    return top_level and (kind.endswith("_type") or kind.endswith("_parsing"))


def check_document(raw: bytes, content_type: str | None, definitions: Path) -> Checked:
    """Parse and validate a body; raise ``ApiError`` (400 or 422) listing every failing field."""
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"the document is larger than {MAX_BODY} bytes")
    fmt = body_format(content_type)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid([Issue("", "", f"the body is not UTF-8 text (byte {exc.start})", None)], status=422) from None
    if "\x00" in text:
        raise invalid([Issue("", "", "the body contains a NUL character", None)], status=422)

    with tempfile.TemporaryDirectory(prefix="restsync-validate-") as tmp:
        root = Path(tmp)
        for kind in ("connections", "hooks"):
            if (definitions / kind).is_dir():
                shutil.copytree(definitions / kind, root / kind)
        (root / "pipelines").mkdir()
        doc = root / "pipelines" / f"document.{fmt}"
        doc.write_text(text, encoding="utf-8")

        src, problems = read_source(doc, doc.name)
        if problems:
            raise invalid(problems, status=422)
        shape = _shape_problems(src.data)
        try:
            project = load_project(root, environ={})
        except ConfigError as exc:
            mine = [i for i in exc.issues if _same_file(i.file, doc)]
            if mine:
                raise invalid(mine, status=422 if shape else 400) from None
            # Problems elsewhere in the folder are not this document's; only a broken connection
            # that the document references shows up as its own error.
            project = None
        except ValidationError as exc:  # pragma: no cover - the loader turns these into issues
            raise ApiError(400, "validation_failed", str(exc)) from None
        if project is not None:
            key = to_key(str(src.data.get("name", "")))
            pipeline = project.pipelines.get(key)
        else:
            pipeline = _model(src.data)
        if pipeline is None:  # pragma: no cover - a valid document always loads
            raise invalid([Issue("", "name", "the pipeline did not load", src.line_of(["name"]))])
        return Checked(text=text, data=src.data, format=fmt, pipeline=pipeline, name_line=src.line_of(["name"]))


def _model(data: Any) -> Pipeline | None:
    try:
        return Pipeline.model_validate(data)
    except ValidationError:
        return None


def _shape_problems(data: Any) -> bool:
    try:
        Pipeline.model_validate(data)
    except ValidationError as exc:
        return any(_is_shape_error(e) for e in exc.errors(include_url=False))
    return False


def _same_file(display: str, path: Path) -> bool:
    if display in (path.name, str(path)):
        return True
    try:
        return Path(display).resolve() == path.resolve()
    except OSError:
        return False

"""Reading one definition file (YAML or JSON) and finding the line of any field in it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from .issues import Issue

SUFFIXES = (".yaml", ".yml", ".json")


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps ``on``/``yes`` as strings (YAML 1.2 booleans only)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass
class SourceFile:
    path: Path
    display: str
    text: str
    data: Any = None
    node: yaml.Node | None = field(default=None, repr=False)

    def field_path(self, parts: Sequence[str | int]) -> list[str | int]:
        """The path to show for a field of the document (translated documents show the original)."""
        return list(parts)

    def line_of(self, parts: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node of ``parts`` that exists."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for part in parts:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == part:
                        line = key_node.start_mark.line + 1
                        node = value_node
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


@dataclass
class MappedSource(SourceFile):
    """A document translated from another file (an ETL model document): its fields' lines are those
    of the original fields they came from."""

    original: Any = None
    """Translated field path (a list of parts) → original field path."""
    base: SourceFile | None = field(default=None, repr=False)

    @classmethod
    def of(cls, base: SourceFile, data: Any, original: Any) -> "MappedSource":
        return cls(path=base.path, display=base.display, text=base.text, data=data, node=None,
                   original=original, base=base)

    def line_of(self, parts: Sequence[str | int]) -> int | None:
        assert self.base is not None
        return self.base.line_of(self.original(list(parts)))

    def field_path(self, parts: Sequence[str | int]) -> list[str | int]:
        return list(self.original(list(parts)))


def read_source(path: Path, display: str) -> tuple[SourceFile, list[Issue]]:
    text = path.read_text(encoding="utf-8")
    src = SourceFile(path=path, display=display, text=text)
    if path.suffix == ".json":
        try:
            src.data = json.loads(text)
        except json.JSONDecodeError as exc:
            return src, [Issue(display, "", f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno)]
        try:
            src.node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            src.node = None  # still valid JSON; errors just carry no line
    else:
        try:
            src.node = yaml.compose(text, Loader=_Loader)
            src.data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            line = mark.line + 1 if mark is not None else None
            return src, [Issue(display, "", f"invalid YAML: {problem}", line)]
    if src.data is None:
        return src, [Issue(display, "", "the file is empty; expected a mapping of keys", 1)]
    if not isinstance(src.data, dict):
        return src, [Issue(display, "", f"expected a mapping of keys at the top level, got a {type(src.data).__name__}", 1)]
    return src, []

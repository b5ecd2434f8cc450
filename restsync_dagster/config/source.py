"""Reading one definition file (YAML or JSON) and finding the line of any field in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from .issues import Issue
from .parsing import ParseError, parse_json, parse_yaml

SUFFIXES = (".yaml", ".yml", ".json")


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


def decode(raw: bytes, display: str) -> tuple[str, list[Issue]]:
    """The text of a file, or an issue at the line of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        message = f"the file is not UTF-8 text (byte 0x{byte} at column {column}); save it as UTF-8"
        return "", [Issue(display, "", message, line)]


def read_source(path: Path, display: str) -> tuple[SourceFile, list[Issue]]:
    src = SourceFile(path=path, display=display, text="")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return src, [Issue(display, "", f"cannot read the file: {exc.strerror or exc}")]
    src.text, problems = decode(raw, display)
    if problems:
        return src, problems
    try:
        src.data, src.node = (parse_json if path.suffix == ".json" else parse_yaml)(src.text)
    except ParseError as exc:
        return src, [Issue(display, "", str(exc), exc.line)]
    if src.data is None:
        return src, [Issue(display, "", "the file is empty; expected a mapping of keys", 1)]
    if not isinstance(src.data, dict):
        return src, [Issue(display, "", f"expected a mapping of keys at the top level, got a {type(src.data).__name__}", 1)]
    return src, []

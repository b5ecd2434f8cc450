"""Bounded YAML and JSON parsing: a hostile or broken file gives an error with its line, never a hang.

Limits: ``MAX_DEPTH`` levels of nesting and ``MAX_NODES`` values per document once aliases are
expanded (an alias bomb of a few hundred bytes would otherwise expand to millions of values); an
alias that contains itself is an error. Values the YAML constructor cannot build (a date that does
not exist, an integer too long to convert) are errors at their line.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MAX_DEPTH = 64
MAX_NODES = 10_000


class ParseError(Exception):
    """A document that cannot be read; ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


class LimitError(ParseError):
    """The document exceeds ``MAX_DEPTH`` or ``MAX_NODES``, or an alias contains itself."""


try:
    from yaml._yaml import CParser as _Parser  # libyaml: the same events, several times faster
except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _Loader(Composer, _Parser, SafeConstructor, Resolver):
    """Safe loading that keeps ``on``/``yes`` as strings (YAML 1.2 booleans only) and caps nesting."""

    def __init__(self, stream: str):
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self.aliased = False

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = getattr(self.peek_event(), "start_mark", None)
                line = mark.line + 1 if mark is not None else None
                raise LimitError(f"nested more than {MAX_DEPTH} levels deep", line)
            if self.check_event(AliasEvent):
                self.aliased = True
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise ConstructorError(None, None, f"invalid value {_short(node)}: {str(exc).split(';')[0]}", node.start_mark) from None


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in Resolver.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _short(node: yaml.Node) -> str:
    value = node.value if isinstance(node, yaml.ScalarNode) else node.tag
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_expansion(root: yaml.Node) -> None:
    """Raise ``ParseError`` if aliases make the document cyclic, too deep or too large."""
    done: dict[int, tuple[int, int]] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            kids = [done[id(k)] for k in _children(node)]
            size = 1 + sum(s for s, _ in kids)
            depth = 1 + max((d for _, d in kids), default=0)
            on_path.discard(key)
            line = node.start_mark.line + 1
            if size > MAX_NODES:
                raise LimitError(f"aliases expand this value to more than {MAX_NODES:,} values; write it out or simplify it", line)
            if depth > MAX_DEPTH:
                raise LimitError(f"aliases nest this value more than {MAX_DEPTH} levels deep", line)
            done[key] = (size, depth)
            continue
        if key in done:
            continue
        if key in on_path:
            raise LimitError("an alias refers to a value that contains it (a cycle)", node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in done)


def _yaml_problem(exc: yaml.YAMLError) -> ParseError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return ParseError(problem, mark.line + 1 if mark is not None else None)


def compose(text: str) -> yaml.Node | None:
    """The node tree of ``text`` within the limits; raises ``ParseError``."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and loader.aliased:
            check_expansion(node)
        return node
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc) from None
    finally:
        loader.dispose()


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """``(data, node)`` of a YAML document; raises ``ParseError`` with ``invalid YAML: ...``."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if loader.aliased:
            check_expansion(node)
        return loader.construct_document(node), node
    except LimitError as exc:
        raise ParseError(f"invalid YAML: {exc}", exc.line) from None
    except yaml.YAMLError as exc:
        problem = _yaml_problem(exc)
        raise ParseError(f"invalid YAML: {problem}", problem.line) from None
    finally:
        loader.dispose()


def parse_json(text: str) -> tuple[Any, yaml.Node | None]:
    """``(data, node)`` of a JSON document; the node (for line numbers) is None if YAML cannot read it."""
    node = None
    try:
        node = compose(text)
    except LimitError as exc:
        raise ParseError(f"invalid JSON: {exc}", exc.line) from None
    except ParseError:
        pass
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}", None) from None
    if node is None:
        _check_depth(data)
    return data, node


def _check_depth(data: Any) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"invalid JSON: nested more than {MAX_DEPTH} levels deep", None)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)

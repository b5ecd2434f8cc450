"""Jinja2 templates in definition values.

Templates are *parsed* when definitions load, so syntax errors and unknown variables are reported
by ``restsync validate``; they are *rendered* only when a run starts. Every value read from ``env``
is registered as a secret, so it can be scrubbed from anything that is logged or raised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from ..errors import TemplateError
from ..secrets import Secrets
from .filters import DATE_FILTERS

VARIABLES = ("env", "dt", "partition", "incremental", "window", "fan", "parent", "job", "page")

_ENV = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
_ENV.filters.update(DATE_FILTERS)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


@dataclass
class TemplateInfo:
    """What a template string refers to: used for load-time checks."""

    names: set[str] = field(default_factory=set)
    env_required: set[str] = field(default_factory=set)
    env_optional: set[str] = field(default_factory=set)
    attributes: dict[str, set[str]] = field(default_factory=dict)
    unknown_filters: set[str] = field(default_factory=set)


def _defaulted(node: nodes.Node, parents: list[nodes.Node]) -> bool:
    return any(isinstance(p, nodes.Filter) and p.name in ("default", "d") for p in parents)


def inspect(text: str) -> TemplateInfo:
    """Parse ``text``; raise ``TemplateError`` with the syntax problem (no value is echoed)."""
    try:
        tree = _ENV.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from None
    info = TemplateInfo()

    def walk(node: nodes.Node, parents: list[nodes.Node]) -> None:
        if isinstance(node, nodes.Filter) and node.name not in _ENV.filters:
            info.unknown_filters.add(node.name)
        if isinstance(node, nodes.Name) and node.ctx == "load":
            info.names.add(node.name)
        if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name):
            attr = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if isinstance(attr, str):
                info.attributes.setdefault(node.node.name, set()).add(attr)
                if node.node.name == "env":
                    (info.env_optional if _defaulted(node, parents) else info.env_required).add(attr)
        for child in node.iter_child_nodes():
            walk(child, parents + [node])

    walk(tree, [])
    return info


class _Env(Mapping[str, str]):
    """``env`` inside templates: reads os.environ lazily and records every value as a secret."""

    def __init__(self, environ: Mapping[str, str], secrets: Secrets):
        self._environ = environ
        self._secrets = secrets

    def __getitem__(self, name: str) -> str:
        value = self._environ[name]
        self._secrets.add(value)
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._environ:
            return jinja2.StrictUndefined(hint=f"environment variable {name!r} is not set", name=name)
        return self[name]

    def __iter__(self):
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


class Renderer:
    """Renders templated values at run time with a context (``dt``, ``partition``, ``parent``, …)."""

    def __init__(self, secrets: Secrets, environ: Mapping[str, str] | None = None):
        self.secrets = secrets
        self._env = _Env(os.environ if environ is None else environ, secrets)

    def render_str(self, text: str, context: Mapping[str, Any] | None = None, *, where: str = "") -> str:
        if not is_template(text):
            return text
        try:
            return _ENV.from_string(text).render({**(context or {}), "env": self._env})
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"{where or 'template'}: {self.secrets.redact(exc.message or exc)}") from None
        except (jinja2.TemplateError, TemplateError) as exc:
            raise TemplateError(f"{where or 'template'}: {self.secrets.redact(exc)}") from None

    def render(self, value: Any, context: Mapping[str, Any] | None = None, *, where: str = "") -> Any:
        """Render every string inside ``value`` (dicts and lists walked recursively)."""
        if isinstance(value, str):
            return self.render_str(value, context, where=where)
        if isinstance(value, dict):
            return {k: self.render(v, context, where=f"{where}.{k}" if where else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, context, where=f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    def render_model(self, model: Any, context: Mapping[str, Any] | None = None, *, where: str = "") -> Any:
        """A copy of a pydantic model with every string rendered (validated again)."""
        data = model.model_dump(by_alias=True, exclude_unset=True)
        rendered = self.render(data, context, where=where)
        return type(model).model_validate(rendered)

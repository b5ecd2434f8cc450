"""Name → class registries for the extension points (paginators, auth flows)."""

from __future__ import annotations

from typing import Generic, TypeVar

from ..errors import RestSyncError

T = TypeVar("T", bound=type)


class UnknownTypeError(RestSyncError, LookupError):
    """A ``type`` name no registered class answers to."""


class Registry(dict[str, T], Generic[T]):
    """A plain dict of ``type`` name → class, whose lookups name the valid values when they fail.

    It can be copied and passed in (``build_paginator(model, registry=...)``) so a test or a plugin
    never has to patch the module-level default.
    """

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def register(self, cls: T) -> T:
        """Class decorator: register ``cls`` under its ``type`` attribute."""
        name = getattr(cls, "type", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{cls.__name__} needs a class attribute 'type' to be registered as a {self.kind}")
        self[name] = cls
        return cls

    def lookup(self, name: str) -> T:
        try:
            return self[name]
        except KeyError:
            raise UnknownTypeError(
                f"unknown {self.kind} type {name!r}. Valid values are: {sorted(self)}"
            ) from None

    def copy(self) -> "Registry[T]":
        clone: Registry[T] = Registry(self.kind)
        clone.update(self)
        return clone

"""``columns.include``/``exclude`` and the transformations, as polars expressions.

They run after typing and before writing, in the order the pipeline lists them. Which name a column
ends with is decided by ``config.columns`` (the rule validation uses too). Columns named
``_restsync_*`` belong to restsync and are never renamed or dropped.

``find_and_replace`` with ``regex: true`` uses polars' (Rust) regular expressions; ``\\1`` in the
replacement is accepted and means the first group, as in Python.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import polars as pl

from ..errors import SchemaError
from ..config.columns import output_name
from .spec import is_system


def applies_to(transformation: Any, table: Any) -> bool:
    scope = getattr(transformation, "table", None)
    return scope is None or scope in (table.name, table.key)


class Transformer:
    """The column selection and transformations of one table, ready to apply to typed frames."""

    def __init__(self, table: Any, transformations: Iterable[Any] = (), *, strict: bool = False):
        self.table = table
        self.steps = [(i, t) for i, t in enumerate(transformations) if applies_to(t, table)]
        self.strict = strict
        self.history_mode = any(t.type == "history_mode" for _, t in self.steps)

    def output_name(self, name: str) -> str | None:
        """What a typed column is called after the transformations (``None``: dropped)."""
        if is_system(name):
            return name
        return output_name(self.table, [t for _, t in self.steps], name)

    def apply(self, df: pl.DataFrame) -> pl.DataFrame:
        df = self._select(df)
        for index, t in self.steps:
            handler = getattr(self, f"_{t.type}", None)
            if handler is not None:
                df = handler(df, t.config, f"transformations[{index}] ({t.type})")
        return df

    def _fail(self, message: str) -> Exception:
        return ValueError(message) if self.strict else SchemaError(f"table {self.table.name!r}: {message}")

    def _existing(self, df: pl.DataFrame, fields: Iterable[str], where: str) -> list[str]:
        present = []
        for name in fields:
            if is_system(name):
                raise self._fail(f"{where}: {name!r} is a restsync column and cannot be changed")
            if name in df.columns:
                present.append(name)
            elif self.strict:
                data = [c for c in df.columns if not is_system(c)]
                raise self._fail(f"{where}: field {name!r} does not exist; the columns at this step are {', '.join(data) or '(none)'}")
        return present

    def _select(self, df: pl.DataFrame) -> pl.DataFrame:
        columns = self.table.columns
        if columns is None:
            return df
        if columns.include is not None:
            keep = set(self._existing(df, columns.include, "columns.include"))
            return df.select([c for c in df.columns if c in keep or is_system(c)])
        if columns.exclude is not None:
            return df.drop(self._existing(df, columns.exclude, "columns.exclude"))
        return df

    def _exclude_fields(self, df: pl.DataFrame, config: Any, where: str) -> pl.DataFrame:
        return df.drop(self._existing(df, config.fields, where))

    def _rename_fields(self, df: pl.DataFrame, config: Any, where: str) -> pl.DataFrame:
        for new in config.mapping.values():
            if is_system(new):
                raise self._fail(f"{where}: cannot rename a field to the restsync column name {new!r}")
        mapping = {old: config.mapping[old] for old in self._existing(df, config.mapping, where)}
        return self._rename(df, mapping, where)

    def _replace_in_field_name(self, df: pl.DataFrame, config: Any, where: str) -> pl.DataFrame:
        mapping = {c: c.replace(config.find, config.replace) for c in df.columns if not is_system(c)}
        return self._rename(df, {old: new for old, new in mapping.items() if old != new}, where)

    def _rename(self, df: pl.DataFrame, mapping: dict[str, str], where: str) -> pl.DataFrame:
        final = [mapping.get(c, c) for c in df.columns]
        for new in set(final):
            sources = [c for c in df.columns if mapping.get(c, c) == new]
            if len(sources) > 1:
                raise self._fail(f"{where}: renaming makes {' and '.join(map(repr, sources))} both {new!r}")
            if new == "":
                raise self._fail(f"{where}: renaming {sources[0]!r} leaves an empty column name")
            if is_system(new) and not is_system(sources[0]):
                raise self._fail(f"{where}: renaming {sources[0]!r} to {new!r} would take a restsync column name")
        return df.rename(mapping) if mapping else df

    def _string_fields(self, df: pl.DataFrame, fields: Iterable[str], where: str) -> list[str]:
        names = self._existing(df, fields, where)
        for name in names:
            if df.schema[name] != pl.String:
                raise self._fail(f"{where}: field {name!r} is {df.schema[name]}, this transformation needs a string field")
        return names

    def _toggle_case(self, df: pl.DataFrame, config: Any, where: str) -> pl.DataFrame:
        names = self._string_fields(df, config.fields, where)
        method = "to_uppercase" if config.case == "upper" else "to_lowercase"
        return df.with_columns([getattr(pl.col(n).str, method)() for n in names])

    def _filter_rows(self, df: pl.DataFrame, config: Any, where: str) -> pl.DataFrame:
        try:
            return df.filter(pl.sql_expr(config.where))
        except pl.exceptions.PolarsError as exc:
            raise self._fail(f"{where}: the condition {config.where!r} cannot be applied: {str(exc).splitlines()[0]}") from None

    def _find_and_replace(self, df: pl.DataFrame, config: Any, where: str) -> pl.DataFrame:
        names = self._string_fields(df, config.fields, where)
        replace = config.replace
        if config.regex:
            replace = re.sub(r"\\(\d+)", r"${\1}", replace.replace("$", "$$"))
        return df.with_columns([pl.col(n).str.replace_all(config.find, replace, literal=not config.regex) for n in names])

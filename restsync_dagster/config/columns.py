"""Which columns a table ends with: the one rule used by validation, the engine, checks and the lake.

:func:`output_name` follows one source column through ``columns`` and the transformations;
:func:`output_columns` applies the same steps to a declared schema and reports what cannot work.
"""

from __future__ import annotations

from typing import Any, Iterable

from .pipeline import Table
from .transformations import sql_columns

Problem = tuple[str, str]  # (field path inside the pipeline document, message)


def renamed(name: str, transformation: Any) -> str | None:
    """``name`` after one transformation (None when it drops the column)."""
    kind, config = transformation.type, transformation.config
    if kind == "exclude_fields":
        return None if name in config.fields else name
    if kind == "rename_fields":
        return config.mapping.get(name, name)
    if kind == "replace_in_field_name":
        return name.replace(config.find, config.replace)
    return name


def output_name(table: Table, transformations: Iterable[Any], name: str) -> str | None:
    """What the source column ``name`` is called in the table (None: not kept)."""
    columns = table.columns
    if columns is not None:
        if columns.include is not None and name not in columns.include:
            return None
        if columns.exclude is not None and name in columns.exclude:
            return None
    for transformation in transformations:
        result = renamed(name, transformation)
        if result is None:
            return None
        name = result
    return name


def key_columns(table: Table, transformations: Iterable[Any]) -> list[str]:
    """The table's ``primary_key`` as columns of the written table."""
    steps = list(transformations)
    return [output_name(table, steps, k) or k for k in table.primary_key or []]


def output_columns(table: Table, index: int, transformations: list[tuple[int, Any]]) -> tuple[dict[str, str] | None, list[Problem]]:
    """Columns (name → type) after ``columns`` and the transformations, or None without a schema."""
    if table.schema_ is None:
        return None, []
    problems: list[Problem] = []
    cols: dict[str, str] = {f.name: f.type for f in table.schema_}
    known = ", ".join(cols)
    if table.columns is not None:
        chosen = table.columns.include if table.columns.include is not None else table.columns.exclude
        which = "include" if table.columns.include is not None else "exclude"
        for i, name in enumerate(chosen or []):
            if name not in cols:
                problems.append((f"tables[{index}].columns.{which}[{i}]", f"column {name!r} is not in the table's schema ({known})"))
        if table.columns.include is not None:
            cols = {n: t for n, t in cols.items() if n in table.columns.include}
        else:
            cols = {n: t for n, t in cols.items() if n not in (table.columns.exclude or [])}
    for t_index, transformation in transformations:
        where = f"transformations[{t_index}].config"
        missing = lambda name: f"field {name!r} does not exist in table {table.name!r} at this point (columns: {', '.join(cols)})"  # noqa: E731
        kind = transformation.type
        config = transformation.config
        if kind in ("exclude_fields", "toggle_case", "find_and_replace"):
            for i, name in enumerate(config.fields):
                if name not in cols:
                    problems.append((f"{where}.fields[{i}]", missing(name)))
                elif kind != "exclude_fields" and cols[name] not in ("string",):
                    problems.append((f"{where}.fields[{i}]", f"field {name!r} has type {cols[name]}; {kind} works on string fields"))
            if kind == "exclude_fields":
                cols = {n: t for n, t in cols.items() if n not in config.fields}
        elif kind == "rename_fields":
            renamed_cols: dict[str, str] = {}
            for old, new in config.mapping.items():
                if old not in cols:
                    problems.append((f"{where}.mapping.{old}", missing(old)))
            for name, typ in cols.items():
                target = renamed(name, transformation)
                if target is None:
                    continue
                if target in renamed_cols:
                    problems.append((f"{where}.mapping", f"renaming makes two columns named {target!r}"))
                renamed_cols[target] = typ
            cols = renamed_cols
        elif kind == "filter_rows":
            for name in sql_columns(config.where):
                if name not in cols:
                    problems.append((f"{where}.where", f"the condition reads {name!r}, which is not a column of table {table.name!r} at this point (columns: {', '.join(cols)})"))
        elif kind == "replace_in_field_name":
            renamed_cols = {}
            for name, typ in cols.items():
                target = renamed(name, transformation)
                if target is None:
                    continue
                if target in renamed_cols:
                    problems.append((where, f"replacing {config.find!r} in field names makes two columns named {target!r}"))
                renamed_cols[target] = typ
            cols = renamed_cols
    return cols, problems

"""Column names a table ends with, computed from its declared schema, for load-time checks."""

from __future__ import annotations

from typing import Any

from .pipeline import Table
from .transformations import sql_columns

Problem = tuple[str, str]  # (field path inside the pipeline document, message)


def output_columns(table: Table, index: int, transformations: list[tuple[int, Any]]) -> tuple[dict[str, str] | None, list[Problem]]:
    """Columns (name → type) after ``columns`` and the transformations, or None without a schema."""
    if table.schema_ is None:
        return None, []
    problems: list[Problem] = []
    cols = {f.name: f.type for f in table.schema_}
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
            renamed: dict[str, str] = {}
            for old, new in config.mapping.items():
                if old not in cols:
                    problems.append((f"{where}.mapping.{old}", missing(old)))
            for name, typ in cols.items():
                target = config.mapping.get(name, name)
                if target in renamed:
                    problems.append((f"{where}.mapping", f"renaming makes two columns named {target!r}"))
                renamed[target] = typ
            cols = renamed
        elif kind == "filter_rows":
            for name in sql_columns(config.where):
                if name not in cols:
                    problems.append((f"{where}.where", f"the condition reads {name!r}, which is not a column of table {table.name!r} at this point (columns: {', '.join(cols)})"))
        elif kind == "replace_in_field_name":
            renamed = {}
            for name, typ in cols.items():
                target = name.replace(config.find, config.replace)
                if target in renamed:
                    problems.append((where, f"replacing {config.find!r} in field names makes two columns named {target!r}"))
                renamed[target] = typ
            cols = renamed
    return cols, problems

"""Column types guessed from JSON values, for tables without a declared schema.

Only the JSON type of a value counts, never the look of a string: ``"2024-01-01"`` stays a
``string`` and ``"42"`` stays a ``string`` until the schema declares otherwise, so an inferred
table never changes type because one page happened to hold date-like text.

=========================  ===========================================================
values seen (non-null)      inferred type
=========================  ===========================================================
booleans                    boolean
integers                    long
integers and floats         double
strings                     string
objects                     struct (fields inferred the same way, in first-seen order)
lists, or objects mixed     json (the value kept as JSON text)
with anything else
other scalar mixes          string
only nulls                  top level: no column until a value arrives; inside a struct:
                            string
=========================  ===========================================================
"""

from __future__ import annotations

from typing import Any

from .spec import Col


def infer_col(name: str, values: list[Any]) -> Col | None:
    """The column for ``values``; ``None`` when every value is null."""
    type_ = _kind(values)
    if type_ is None:
        return None
    if type_ == "struct":
        return Col(name=name, type="struct", path=(name,), fields=infer_fields(values), inferred=True)
    return Col(name=name, type=type_, path=(name,), inferred=True)


def infer_fields(values: list[Any]) -> tuple[Col, ...]:
    keys: dict[str, None] = {}
    for v in values:
        if v.__class__ is dict:
            keys.update(dict.fromkeys(v))
    fields = []
    for key in keys:
        sub = [v.get(key) if v.__class__ is dict else None for v in values]
        fields.append(infer_col(key, sub) or Col(name=key, type="string", path=(key,), inferred=True))
    return tuple(fields)


def _kind(values: list[Any]) -> str | None:
    classes = {v.__class__ for v in values}
    classes.discard(type(None))
    if not classes:
        return None
    if classes == {bool}:
        return "boolean"
    if classes == {int}:
        return "long"
    if classes <= {int, float}:
        return "double"
    if classes == {str}:
        return "string"
    if classes == {dict}:
        return "struct"
    if list in classes or dict in classes:
        return "json"
    return "string"


def new_struct_fields(col: Col, values: list[Any]) -> tuple[Col, list[str]]:
    """``col`` grown by the object keys of ``values`` it does not know yet (nested schema evolution).

    Returns the (possibly unchanged) column and the dotted names of the fields added.
    """
    if col.type != "struct" or col.fields is None or not col.inferred:
        return col, []
    known = {f.name for f in col.fields}
    seen: set[str] = set()
    for v in values:
        if v.__class__ is dict:
            seen.update(v)
    added: list[str] = []
    fields = list(col.fields)
    for key in [k for k in _first_seen_order(values, seen - known)]:
        sub = [v.get(key) if v.__class__ is dict else None for v in values]
        fields.append(infer_col(key, sub) or Col(name=key, type="string", path=(key,), inferred=True))
        added.append(f"{col.name}.{key}")
    for i, field in enumerate(fields):
        if field.type == "struct" and field.name in known:
            sub = [v.get(field.name) if v.__class__ is dict else None for v in values]
            grown, sub_added = new_struct_fields(field, sub)
            if sub_added:
                fields[i] = grown
                added.extend(f"{col.name}.{name}" for name in sub_added)
    if not added:
        return col, []
    return col.with_fields(tuple(fields)), added


def _first_seen_order(values: list[Any], keys: set[str]) -> list[str]:
    if not keys:
        return []
    ordered: dict[str, None] = {}
    for v in values:
        if v.__class__ is dict:
            for k in v:
                if k in keys:
                    ordered[k] = None
            if len(ordered) == len(keys):
                break
    return list(ordered)

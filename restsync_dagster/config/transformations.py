"""Transformations, one model per ``type``; applied in ``lake.transform``."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .common import Model


class _Transformation(Model):
    table: str | None = None
    """Name of the table it applies to; default every table of the pipeline. Example: `customers`"""


class FieldsConfig(Model):
    fields: list[str] = Field(min_length=1)
    """Columns it applies to. Example: `[internal_note, debug]`"""


class ExcludeFields(_Transformation):
    type: Literal["exclude_fields"]
    """Drops columns. Example: `exclude_fields`"""
    config: FieldsConfig
    """Settings of this transformation. Example: `{fields: [internal_note]}`"""


class RenameConfig(Model):
    mapping: dict[str, str] = Field(min_length=1)
    """Old column name to new column name. Example: `{fname: first_name}`"""

    @field_validator("mapping")
    @classmethod
    def _distinct_targets(cls, mapping: dict[str, str]) -> dict[str, str]:
        targets = list(mapping.values())
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        if dupes:
            raise ValueError(f"several fields renamed to {', '.join(map(repr, dupes))}")
        return mapping


class RenameFields(_Transformation):
    type: Literal["rename_fields"]
    """Renames columns. Example: `rename_fields`"""
    config: RenameConfig
    """Settings of this transformation. Example: `{mapping: {fname: first_name}}`"""


class ToggleCaseConfig(Model):
    fields: list[str] = Field(min_length=1)
    """Columns whose values change case. Example: `[country]`"""
    case: Literal["upper", "lower"]
    """The case values are converted to. Example: `lower`"""


class ToggleCase(_Transformation):
    type: Literal["toggle_case"]
    """Upper- or lower-cases the values of columns. Example: `toggle_case`"""
    config: ToggleCaseConfig
    """Settings of this transformation. Example: `{fields: [country], case: upper}`"""


class FindAndReplaceConfig(Model):
    fields: list[str] = Field(min_length=1)
    """Columns whose values are rewritten. Example: `[phone]`"""
    find: str = Field(min_length=1)
    """Text (or regular expression with `regex`) to find. Example: `[^0-9]`"""
    replace: str = ""
    """Replacement text. Example: `-`"""
    regex: bool = False
    """Whether `find` is a regular expression. Example: `true`"""

    @model_validator(mode="after")
    def _compiles(self) -> "FindAndReplaceConfig":
        if self.regex:
            try:
                re.compile(self.find)
            except re.error as exc:
                raise ValueError(f"'find' is not a valid regular expression: {exc}") from None
        return self


class FindAndReplace(_Transformation):
    type: Literal["find_and_replace"]
    """Replaces text in the values of columns. Example: `find_and_replace`"""
    config: FindAndReplaceConfig
    """Settings of this transformation. Example: `{fields: [phone], find: '-', replace: ''}`"""


class ReplaceInFieldNameConfig(Model):
    find: str = Field(min_length=1)
    """Text to find in column names. Example: `.`"""
    replace: str = ""
    """Replacement text. Example: `_`"""


class ReplaceInFieldName(_Transformation):
    type: Literal["replace_in_field_name"]
    """Replaces text in every column name. Example: `replace_in_field_name`"""
    config: ReplaceInFieldNameConfig
    """Settings of this transformation. Example: `{find: '.', replace: _}`"""


class FilterRowsConfig(Model):
    where: str = Field(min_length=1)
    """A polars SQL condition; rows for which it is false or null are dropped, e.g. ``"status != 'deleted'"``."""

    @field_validator("where")
    @classmethod
    def _parses(cls, where: str) -> str:
        sql_columns(where)
        return where


def sql_columns(where: str) -> list[str]:
    """The columns a polars SQL condition reads; ``ValueError`` when it does not parse."""
    import polars as pl

    try:
        return pl.sql_expr(where).meta.root_names()
    except Exception as exc:  # polars raises several SQL error types
        raise ValueError(f"not a valid SQL condition: {exc}") from None


class FilterRows(_Transformation):
    type: Literal["filter_rows"]
    """Keeps only the rows matching a SQL condition. Example: `filter_rows`"""
    config: FilterRowsConfig
    """Settings of this transformation. Example: `{where: "status != 'deleted'"}`"""


class EmptyConfig(Model):
    pass


class HistoryMode(_Transformation):
    type: Literal["history_mode"]
    """Keeps every version of a row (type-2 history with valid-from, valid-to and is-current columns); needs `primary_key`. Example: `history_mode`"""
    config: EmptyConfig | None = None
    """Settings of this transformation. Example: `{}`"""


Transformation = Annotated[
    ExcludeFields | RenameFields | ToggleCase | FindAndReplace | ReplaceInFieldName | FilterRows | HistoryMode,
    Field(discriminator="type"),
]

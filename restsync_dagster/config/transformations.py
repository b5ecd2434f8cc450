"""Transformations, one model per ``type``; applied in ``lake.transform``."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .common import Model


class _Transformation(Model):
    table: str | None = None
    """Name of the table it applies to; default every table of the pipeline. Example: `users`"""


class FieldsConfig(Model):
    fields: list[str] = Field(min_length=1)
    """Columns to drop. Example: `[email, phone]`"""


class ExcludeFields(_Transformation):
    type: Literal["exclude_fields"]
    """Drop columns. Example: `exclude_fields`"""
    config: FieldsConfig
    """Which columns. Example: `{fields: [email]}`"""


class RenameConfig(Model):
    mapping: dict[str, str] = Field(min_length=1)
    """Old column name → new name. Example: `{userId: user_id}`"""

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
    """Rename columns. Example: `rename_fields`"""
    config: RenameConfig
    """Which columns and their new names. Example: `{mapping: {userId: user_id}}`"""


class ToggleCaseConfig(Model):
    fields: list[str] = Field(min_length=1)
    """String columns to change. Example: `[country]`"""
    case: Literal["upper", "lower"]
    """Target case. Example: `upper`"""


class ToggleCase(_Transformation):
    type: Literal["toggle_case"]
    """Upper- or lower-case string values. Example: `toggle_case`"""
    config: ToggleCaseConfig
    """Which columns and which case. Example: `{fields: [country], case: upper}`"""


class FindAndReplaceConfig(Model):
    fields: list[str] = Field(min_length=1)
    """String columns to change. Example: `[phone]`"""
    find: str = Field(min_length=1)
    """Text (or regular expression) to find. Example: `-`"""
    replace: str = ""
    """Replacement text. Example: `" "`"""
    regex: bool = False
    """Treat find as a regular expression. Example: `false`"""

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
    """Replace text inside string values. Example: `find_and_replace`"""
    config: FindAndReplaceConfig
    """Which columns and what to replace. Example: `{fields: [phone], find: "-", replace: ""}`"""


class ReplaceInFieldNameConfig(Model):
    find: str = Field(min_length=1)
    """Text to find in column names. Example: `.`"""
    replace: str = ""
    """Replacement text. Example: `_`"""


class ReplaceInFieldName(_Transformation):
    type: Literal["replace_in_field_name"]
    """Replace text inside column names. Example: `replace_in_field_name`"""
    config: ReplaceInFieldNameConfig
    """What to replace. Example: `{find: ".", replace: _}`"""


class FilterRowsConfig(Model):
    where: str = Field(min_length=1)
    """A polars SQL condition; rows for which it is false or null are dropped, e.g. ``"status != 'deleted'"``. Example: `"status != 'deleted'"`"""

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
    """Drop the rows that do not match a condition. Example: `filter_rows`"""
    config: FilterRowsConfig
    """The condition. Example: `{where: "status != 'deleted'"}`"""


class EmptyConfig(Model):
    pass


class HistoryMode(_Transformation):
    type: Literal["history_mode"]
    """Keep every version of a record (_restsync_valid_from, _restsync_valid_to, _restsync_is_current) instead of overwriting it. Example: `history_mode`"""
    config: EmptyConfig | None = None
    """No settings. Example: `{}`"""


Transformation = Annotated[
    ExcludeFields | RenameFields | ToggleCase | FindAndReplace | ReplaceInFieldName | FilterRows | HistoryMode,
    Field(discriminator="type"),
]

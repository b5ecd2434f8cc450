"""Transformations of SPEC §4.4, one model per ``type``; applied in ``lake.transform``."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .common import Model


class _Transformation(Model):
    table: str | None = None
    """Name of the table it applies to; default every table of the pipeline."""


class FieldsConfig(Model):
    fields: list[str] = Field(min_length=1)


class ExcludeFields(_Transformation):
    type: Literal["exclude_fields"]
    config: FieldsConfig


class RenameConfig(Model):
    mapping: dict[str, str] = Field(min_length=1)

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
    config: RenameConfig


class ToggleCaseConfig(Model):
    fields: list[str] = Field(min_length=1)
    case: Literal["upper", "lower"]


class ToggleCase(_Transformation):
    type: Literal["toggle_case"]
    config: ToggleCaseConfig


class FindAndReplaceConfig(Model):
    fields: list[str] = Field(min_length=1)
    find: str = Field(min_length=1)
    replace: str = ""
    regex: bool = False

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
    config: FindAndReplaceConfig


class ReplaceInFieldNameConfig(Model):
    find: str = Field(min_length=1)
    replace: str = ""


class ReplaceInFieldName(_Transformation):
    type: Literal["replace_in_field_name"]
    config: ReplaceInFieldNameConfig


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
    config: FilterRowsConfig


class EmptyConfig(Model):
    pass


class HistoryMode(_Transformation):
    type: Literal["history_mode"]
    config: EmptyConfig | None = None


Transformation = Annotated[
    ExcludeFields | RenameFields | ToggleCase | FindAndReplace | ReplaceInFieldName | FilterRows | HistoryMode,
    Field(discriminator="type"),
]

"""Shared building blocks of the definition models."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PositiveFloat, PositiveInt

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KEY_CHARS = re.compile(r"[^a-z0-9_]+")


class Model(BaseModel):
    """Base of every document model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False, use_attribute_docstrings=True)


class Named(Model):
    """Base of the documents pipelines refer to by ``id``: connections and hooks."""

    if TYPE_CHECKING:
        id: int | str
        name: str | None

    @property
    def display_name(self) -> str:
        """The ``name`` shown in the UI, else the id."""
        return self.name or str(self.id)


def to_key(name: str) -> str:
    """Lower-case, every run of characters outside [a-z0-9_] becomes ``_``."""
    return _KEY_CHARS.sub("_", str(name).lower())


def _check_id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an int or a slug")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and SLUG.match(value):
        return value
    raise ValueError("expected an int or a slug (letters, digits, '_', '-', '.')")


Id = Annotated[int | str, BeforeValidator(_check_id)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(f"expected a non-empty value, got {value!r}")
    return value


#: A path, URL or name that cannot be empty or whitespace only.
NonBlank = Annotated[str, AfterValidator(_not_blank)]


def _dotted(value: str) -> str:
    if not value.strip() or any(not part for part in value.split(".")):
        raise ValueError(f"expected a name or a dotted path such as 'data.items', got {value!r}")
    return value


#: A name or dotted path (``data.items``, ``keys.0``) without empty parts.
DottedPath = Annotated[str, AfterValidator(_dotted)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value


StrList = Annotated[list[str], BeforeValidator(_as_list)]
IntList = Annotated[list[int], BeforeValidator(_as_list)]


def _error_statuses(values: list[int]) -> list[int]:
    bad = [v for v in values if not 400 <= v <= 599]
    if bad:
        raise ValueError(f"expected HTTP error statuses between 400 and 599, got {bad[0]}")
    return values


ErrorStatusList = Annotated[list[int], BeforeValidator(_as_list), AfterValidator(_error_statuses)]
"""HTTP statuses a response may answer with instead of records (``skip_statuses``)."""


class Ref(Model):
    id: Id
    """Id of a connection document. Example: `jsonplaceholder`"""


class ConnectionRef(Model):
    connection: Ref
    """The connection this block reads from or writes to, by id. Example: `{id: lake}`"""


DEFAULT_RETRY_ON = [429, 500, 502, 503, 504]


class RateLimit(Model):
    """Request budget and retry policy. Table values override the connection's."""

    requests_per_second: PositiveFloat | None = None
    """Most requests per second sent to the connection; unset means no limit. Example: `5`"""
    max_concurrency: PositiveInt | None = None
    """Most requests in flight at once; unset means no limit. Example: `4`"""
    retry_on: IntList = Field(default_factory=lambda: list(DEFAULT_RETRY_ON))
    """HTTP statuses that are retried with backoff. Example: `[429, 503]`"""
    max_retries: Annotated[int, Field(ge=0)] = 5
    """Retries of one request before the sync fails. Example: `5`"""
    backoff_s: Annotated[float, Field(ge=0)] = 1.0
    """First backoff in seconds, doubled at each retry; a Retry-After header wins. Example: `1.0`"""
    max_backoff_s: PositiveFloat = 60.0
    """Longest wait between two retries, in seconds. Example: `60`"""


def merge_rate_limit(connection: RateLimit | None, override: Any, override_set: bool) -> RateLimit | None:
    """Resolve a table's rate limit: unset inherits, ``null`` disables, a block overrides field by field."""
    if not override_set:
        return connection
    if override is None:
        return None
    base = connection.model_dump() if connection else {}
    base.update(override.model_dump(exclude_unset=True))
    return RateLimit.model_validate(base)


ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration without years/months (``P1D``, ``PT6H``, ``PT30M``) as a timedelta."""
    match = ISO_DURATION.match(text or "")
    if not match:
        raise ValueError(f"expected an ISO 8601 duration such as 'P1D', 'PT6H' or 'PT30M', got {text!r}")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)

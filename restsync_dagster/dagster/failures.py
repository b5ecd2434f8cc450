"""restsync's own error as the step's failure: its message in the run's logs, its class as metadata.

Without this, a failed step shows Dagster's wrapper ("Error occurred while executing op ...") and the
user's message sits in ``error.cause``. ``failure_of`` reads a step failure back, for the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dagster as dg

from ..errors import UNEXPECTED_EXIT, UNEXPECTED_HINT, RestSyncError, error_class
from ..secrets import GLOBAL

ERROR_CLASS = "restsync/error_class"
EXIT_CODE = "restsync/exit_code"
HINT = "restsync/hint"
TABLE = "restsync/table"


@contextmanager
def restsync_failures(table: str) -> Iterator[None]:
    """Turn a ``RestSyncError`` raised inside into a ``dg.Failure`` carrying its redacted message."""
    try:
        yield
    except RestSyncError as exc:
        raise dg.Failure(
            description=GLOBAL.redact(str(exc)),
            metadata={
                ERROR_CLASS: dg.MetadataValue.text(type(exc).__name__),
                EXIT_CODE: dg.MetadataValue.int(exc.exit_code),
                HINT: dg.MetadataValue.text(exc.hint),
                TABLE: dg.MetadataValue.text(table),
            },
            allow_retries=False,
        ) from None


@dataclass(frozen=True)
class StepFailure:
    """What a failed step tells a person: the step, restsync's message, the exit code and a hint."""

    step: str
    message: str
    exit_code: int
    hint: str
    error_class: str
    stack: str

    def closing_line(self) -> str:
        return f"{self.step} failed: {self.message} ({self.error_class}; {self.hint})"


def _meta(data: Any, key: str) -> Any:
    value = (getattr(data, "metadata", None) or {}).get(key)
    return getattr(value, "value", value)


def failure_of(event: dg.DagsterEvent) -> StepFailure:
    """The innermost cause of a step failure event (Dagster wraps the user's exception)."""
    data = event.step_failure_data
    step = event.step_key or "run"
    error = data.error if data is not None else None
    stack = error.to_string() if error is not None else ""
    user = data.user_failure_data if data is not None else None
    if user is not None and _meta(user, ERROR_CLASS):
        return StepFailure(
            step=_meta(user, TABLE) or step,
            message=GLOBAL.redact((user.description or "").strip()),
            exit_code=int(_meta(user, EXIT_CODE) or UNEXPECTED_EXIT),
            hint=_meta(user, HINT) or "",
            error_class=_meta(user, ERROR_CLASS),
            stack=stack,
        )
    while error is not None and error.cause is not None:
        error = error.cause
    name = error.cls_name if error is not None and error.cls_name else "Error"
    known = error_class(name)
    message = (error.message if error is not None else event.message or "").strip()
    prefix, sep, rest = message.partition(": ")
    if sep and prefix.rsplit(".", 1)[-1] == name:
        message = rest
    return StepFailure(
        step=step,
        message=GLOBAL.redact(message),
        exit_code=known.exit_code if known else UNEXPECTED_EXIT,
        hint=known.hint if known else UNEXPECTED_HINT,
        error_class=name,
        stack=GLOBAL.redact(stack),
    )

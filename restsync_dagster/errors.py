"""Exceptions raised by restsync, and what the command line does with them.

    RestSyncError                           exit  what it means
      ├── ConfigError (ValueError)            1   a definition document is invalid
      ├── TemplateError (ValueError)          1   a template failed to render at run time
      ├── HttpError                           3   a request failed for good (after retries)
      │     ├── AuthError                     4   credentials rejected after one refresh/re-login
      │     ├── PaginationError               3   a paginator loop or an unusable page
      │     ├── JobError                      3   a report job failed, timed out or gave no files
      │     └── ResponseError (ValueError)    3   a body that is not what the table expects
      ├── SchemaError (ValueError)            5   a value does not fit the table's schema
      ├── LakeError                           6   a Delta read or write failed
      │     └── CommitConflictError           6   another run committed the same rows first
      ├── WindowError                    (cause's) an incremental window failed (earlier windows committed)
      └── DeliveryError                       7   a REST destination rejected records

Exit code 2 is a usage error (unknown pipeline, table or option) and 10 an unexpected error (a bug:
rerun with ``--debug`` and report the stack trace). Each class carries ``exit_code`` and ``hint``
(what to do); subclasses inherit both. Every message names the file, table, page or field it is
about, and never a secret.
"""

from __future__ import annotations


from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config.issues import Issue
    from .delivery import DeliveryResult

#: Exit code of a usage error and of an error restsync did not raise on purpose.
USAGE_EXIT = 2
UNEXPECTED_EXIT = 10
UNEXPECTED_HINT = "this is a bug: rerun with --debug and report the stack trace"


class RestSyncError(Exception):
    """Root of every error restsync raises on purpose."""

    exit_code: int = 1
    hint: str = "rerun with --debug for the full stack trace"


class ConfigError(RestSyncError, ValueError):
    """One or more definition documents are invalid; ``issues`` lists them all."""

    hint = "fix the document at the line shown, then check it with `restsync validate`"

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__(
            f"{len(self.issues)} error(s) in definitions:\n"
            + "\n".join(f"  {issue}" for issue in self.issues)
        )


class TemplateError(RestSyncError, ValueError):
    hint = "fix the template, or set the environment variables it reads"


class HttpError(RestSyncError):
    exit_code = 3
    hint = "check the service and the connection's base_url (`restsync ping <connection>`), then rerun"

    def __init__(self, message: str, *, status: int | None = None):
        self.status = status
        super().__init__(message)


class AuthError(HttpError):
    exit_code = 4
    hint = "check the connection's credentials (the environment variables its auth block reads)"


class PaginationError(HttpError):
    hint = "compare the table's pagination block with what the API returns (`restsync preview`)"


class ResponseError(HttpError, ValueError):
    hint = "compare the table's response block with a real response (`restsync preview`)"


class JobError(HttpError):
    """A report job failed or timed out; the message names the job id and its last status."""


class SchemaError(RestSyncError, ValueError):
    exit_code = 5
    hint = "fix the column's type or nullable in the table's schema, or the data at its source"


class LakeError(RestSyncError):
    exit_code = 6
    hint = "check the Delta destination's path, storage options and permissions; the table keeps its last commit"


class CommitConflictError(LakeError):
    """A concurrent run committed to the same rows (or kept committing first); nothing was committed."""

    hint = "another run wrote the same rows meanwhile; run the sync again once it has finished"


class DeliveryError(RestSyncError):
    exit_code = 7
    hint = "check the destination request against the REST endpoint; unacknowledged rows are sent again next run"
    result: DeliveryResult | None = None
    """What the delivery did before it stopped, when it got that far."""


class WindowError(RestSyncError):
    """An incremental window failed for good; ``committed_version`` holds the earlier windows'
    commit (``None`` when no window had completed) and ``cause`` the failure. Its exit code and
    hint are the cause's."""

    def __init__(self, message: str, *, cause: BaseException, committed_version: int | None = None):
        self.cause = cause
        self.committed_version = committed_version
        self.exit_code = getattr(cause, "exit_code", UNEXPECTED_EXIT)
        self.hint = getattr(cause, "hint", UNEXPECTED_HINT)
        super().__init__(message)


def error_class(name: str) -> type[RestSyncError] | None:
    """The restsync exception class called ``name`` (as recorded in a run's failure metadata)."""
    found = globals().get(name)
    return found if isinstance(found, type) and issubclass(found, RestSyncError) else None

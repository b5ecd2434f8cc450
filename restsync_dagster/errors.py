"""Exceptions raised by restsync.

    RestSyncError
      ├── ConfigError (ValueError)          a definition document is invalid
      ├── TemplateError (ValueError)        a template failed to render at run time
      ├── HttpError                         a request failed for good (after retries)
      │     ├── AuthError                   credentials rejected after one refresh/re-login
      │     ├── PaginationError             a paginator loop or an unusable page
      │     ├── JobError                    a report job failed, timed out or gave no files
      │     └── ResponseError (ValueError)  a body that is not what the table expects
      ├── SchemaError (ValueError)          a value does not fit the table's schema
      ├── LakeError                         a Delta read or write failed
      │     └── CommitConflictError         another run committed the same rows first
      ├── WindowError                       an incremental window failed (earlier windows committed)
      └── DeliveryError                     a REST destination rejected records

Every message names the file, table, page or field it is about, and never a secret.
"""

from __future__ import annotations


class RestSyncError(Exception):
    """Root of every error restsync raises on purpose."""


class ConfigError(RestSyncError, ValueError):
    """One or more definition documents are invalid; ``issues`` lists them all."""

    def __init__(self, issues: list["Issue"]):  # noqa: F821 - defined in config.issues
        self.issues = list(issues)
        super().__init__(
            f"{len(self.issues)} error(s) in definitions:\n"
            + "\n".join(f"  {issue}" for issue in self.issues)
        )


class TemplateError(RestSyncError, ValueError):
    pass


class HttpError(RestSyncError):
    def __init__(self, message: str, *, status: int | None = None):
        self.status = status
        super().__init__(message)


class AuthError(HttpError):
    pass


class PaginationError(HttpError):
    pass


class ResponseError(HttpError, ValueError):
    pass


class JobError(HttpError):
    """A report job failed or timed out; the message names the job id and its last status."""


class SchemaError(RestSyncError, ValueError):
    pass


class LakeError(RestSyncError):
    pass


class CommitConflictError(LakeError):
    """A concurrent run committed to the same rows (or kept committing first); nothing was committed."""


class DeliveryError(RestSyncError):
    pass


class WindowError(RestSyncError):
    """An incremental window failed for good; ``committed_version`` holds the earlier windows'
    commit (``None`` when no window had completed) and ``cause`` the failure."""

    def __init__(self, message: str, *, cause: BaseException, committed_version: int | None = None):
        self.cause = cause
        self.committed_version = committed_version
        super().__init__(message)

"""Error responses of the management API (status codes of seed 004).

Every error is a JSON body ``{"error": CODE, "message": TEXT}``; validation errors add
``"valid": false`` and ``"errors": [{"path", "message", "line"}]`` naming each failing field.
"""

from __future__ import annotations

from typing import Any

from ..config.issues import Issue
from ..secrets import GLOBAL


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": GLOBAL.redact(self.message)}
        if self.errors is not None:
            body["valid"] = False
            body["errors"] = [{**e, "message": GLOBAL.redact(e["message"])} for e in self.errors]
        return body


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def field_errors(issues: list[Issue]) -> list[dict[str, Any]]:
    return [{"path": issue.path, "message": issue.message, "line": issue.line} for issue in issues]


def invalid(issues: list[Issue], *, status: int = 400) -> ApiError:
    code = "invalid_document" if status == 422 else "validation_failed"
    n = len(issues)
    what = "has the wrong shape" if status == 422 else "failed validation"
    return ApiError(status, code, f"the document {what} ({n} error{'s' if n != 1 else ''})", errors=field_errors(issues))

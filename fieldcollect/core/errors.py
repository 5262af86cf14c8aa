"""One error type for the whole application, turned into one JSON shape by the API."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

_T = TypeVar("_T")


class ApplicationError(Exception):
    """A business-rule violation the user can act on.

    ``code`` is a stable, machine-readable identifier (e.g. ``"case.conflict"``); ``message`` is
    human-readable (already translated where it reaches a user); ``extra`` carries details.
    """

    status_code = 400

    def __init__(self, message: str, *, code: str = "error", extra: dict[str, Any] | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "extra": self.extra}


class NotFoundError(ApplicationError):
    status_code = 404


def found_or_404(obj: _T | None, message: str, *, code: str, extra: dict[str, Any] | None = None) -> _T:
    """``obj``, or a :class:`NotFoundError` (404) with ``message`` and ``code`` when it is None (a row
    that does not exist or that the user may not see)."""
    if obj is None:
        raise NotFoundError(message, code=code, extra=extra)
    return obj


class ConflictError(ApplicationError):
    status_code = 409


class PermissionDeniedError(ApplicationError):
    status_code = 403


class CommonErrorCode(StrEnum):
    """Error codes shared by every domain (permissions, pages, query parameters)."""

    NOT_FOUND = "not_found"
    PAGE_NOT_FOUND = "page.not_found"
    PARAMS_INVALID = "params.invalid"
    PERMISSION_DENIED = "permission.denied"
    READ_ONLY = "permission.read_only"

"""The refusal of an action that the user's role may not do: ``403``, code ``permission.denied``, the
message "Your role may not do this." (the same for every app, the API and the pages alike)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from fieldcollect.core.errors import CommonErrorCode, PermissionDeniedError

__all__ = ["require_role", "role_denied"]


def role_denied(extra: dict[str, Any] | None = None) -> PermissionDeniedError:
    """The refusal (raise it); ``extra`` names what was missing (e.g. ``{"capability": ...}``)."""
    return PermissionDeniedError(_("Your role may not do this."), code=CommonErrorCode.PERMISSION_DENIED, extra=extra)


def require_role(allowed: bool, extra: dict[str, Any] | None = None) -> None:
    """Raise :func:`role_denied` unless the user's role is ``allowed`` to do this."""
    if not allowed:
        raise role_denied(extra)

"""Who may see the selection, scorecard, allocation and settlement pages (same pattern as
:mod:`fieldcollect.cases.access`: anything a user may not see is "not found").

- bank roles (and superusers) see everything; only the collections manager writes (auditors and the
  other bank roles are read-only);
- an agency manager sees its own agency's scorecard and statements, nothing else;
- field collectors see none of it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from fieldcollect.agencies.errors import AgencyErrorCode
from fieldcollect.agencies.models import Agency
from fieldcollect.core.errors import CommonErrorCode, NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role, User


def is_bank_viewer(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_bank_user)


def is_manager(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active
                and (user.is_superuser or user.role == Role.COLLECTIONS_MANAGER))


def require_bank_viewer(user: User) -> None:
    if not is_bank_viewer(user):
        raise NotFoundError(_("Page not found."), code=CommonErrorCode.PAGE_NOT_FOUND)


def require_manager(user: User) -> None:
    require_bank_viewer(user)
    if not is_manager(user):
        raise PermissionDeniedError(_("Your role is read-only."), code=CommonErrorCode.READ_ONLY)


def may_see_agency(user: User, agency_id: int) -> bool:
    if is_bank_viewer(user):
        return True
    return bool(user.is_authenticated and user.is_active and user.role == Role.AGENCY_MANAGER
                and user.agency_id == agency_id)


def access_agency_by_id(agency_id: int, user: User) -> Agency:
    """The agency if the user may see its scorecard / statements, else :class:`NotFoundError`."""
    agency = Agency.objects.filter(pk=agency_id).first() if may_see_agency(user, agency_id) else None
    if agency is None:
        raise NotFoundError(_("Agency not found."), code=AgencyErrorCode.NOT_FOUND, extra={"agency_id": agency_id})
    return agency

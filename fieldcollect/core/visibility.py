"""Who sees the rows of an agency-owned table (``agency_id``): the one rule the selectors of complaints,
settlement statements and data-sharing records share, and its row-level twin :func:`sees_agency` for the
pages (the bank's staff, or this agency's manager)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from fieldcollect.core.models import Role, User

_M = TypeVar("_M", bound=Model)


def visible_by_agency(qs: QuerySet[_M], user: User, *, sees_all: Callable[[User], bool] | None = None,
                      otherwise: Q | None = None) -> QuerySet[_M]:
    """``qs`` as ``user`` sees it: the bank's staff (or those ``sees_all`` names) all of it; an agency
    manager its agency's rows; anyone else what ``otherwise`` selects (nothing when None); an
    anonymous or deactivated user nothing."""
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_all(user) if sees_all is not None else user.is_bank_user:
        return qs
    managed = managed_agency(user)
    if managed is not None:
        return qs.filter(agency_id=managed)
    return qs.none() if otherwise is None else qs.filter(otherwise)


def managed_agency(user: User) -> int | None:
    """The agency ``user`` manages (an agency manager's own), else None."""
    return user.agency_id if user.role == Role.AGENCY_MANAGER else None


def sees_agency(user: User, agency_id: int | None = None, *,
                sees_all: Callable[[User], bool] | None = None) -> bool:
    """Whether ``user`` sees agency ``agency_id``'s rows, by the rule of :func:`visible_by_agency`: the
    bank's staff (or those ``sees_all`` names) every agency; an agency manager its own agency (with
    ``agency_id`` None: whether it sees some agency's rows at all); an anonymous or deactivated user
    none."""
    if not user.is_authenticated or not user.is_active:
        return False
    if sees_all(user) if sees_all is not None else user.is_bank_user:
        return True
    managed = managed_agency(user)
    return managed is not None and (agency_id is None or managed == agency_id)

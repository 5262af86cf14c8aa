"""Who sees the rows of an agency-owned table (``agency_id``): the one rule the selectors of complaints,
settlement statements and data-sharing records share."""

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
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        return qs.filter(agency_id=user.agency_id)
    return qs.none() if otherwise is None else qs.filter(otherwise)

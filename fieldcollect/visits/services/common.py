"""What the visit services share: the public address of the customers' links, the role and
visibility checks, the bank's local time and an appointment's proposed windows."""

from __future__ import annotations

import os
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.cases.access import cases_visible_to
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case
from fieldcollect.core.errors import NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import Appointment


def public_url(path: str) -> str:
    base = str(getattr(settings, "VISITS_PUBLIC_URL", "") or os.environ.get("VISITS_PUBLIC_URL", "")
               or "http://127.0.0.1:8000")
    return base.rstrip("/") + path


def collector_of(user: User) -> Collector:
    collector = Collector.objects.filter(user=user).first() if user.role == Role.FIELD_COLLECTOR else None
    if collector is None:
        raise PermissionDeniedError(_("Only a field collector can do this."), code=E.NOT_COLLECTOR)
    return collector


def require_visible(case: Case, user: User) -> None:
    """404 (never 403) for a case ``user`` may not see (:func:`cases_visible_to`), e.g. recalled."""
    if not cases_visible_to(user).filter(pk=case.pk).exists():
        raise NotFoundError(_("Case not found."), code=CaseErrorCode.NOT_FOUND, extra={"case_id": case.pk})


def require_manager(user: User, agency_id: int) -> None:
    if user.is_superuser:
        return
    if user.role != Role.AGENCY_MANAGER or user.agency_id != agency_id:
        raise PermissionDeniedError(_("Only the agency's manager can do this."), code=E.NOT_MANAGER)


def local_tz() -> Any:
    return timezone.get_default_timezone()


def aware(day: date, at: time, tz: Any = None) -> datetime:
    return datetime.combine(day, at, tzinfo=tz or local_tz())


def appointment_windows(appointment: Appointment) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in appointment.windows]

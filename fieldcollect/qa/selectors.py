"""Reads of quality inspection: the recordings a user may reach, and the confirmed findings of an
agency in a period (for the commission statement's penalty terms, issue 23)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.qa.errors import QaErrorCode
from fieldcollect.qa.models import ConfirmedFinding, Recording


def recordings_visible_to(user: User) -> QuerySet[Recording]:
    """Bank compliance: all; an agency user: its own agency's (the dialler that uploaded them, its QA
    lead); everyone else: none. Playback needs more (:func:`fieldcollect.qa.services.may_play`)."""
    qs = Recording.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser or user.role == Role.COMPLIANCE_OFFICER:
        return qs
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        return qs.filter(agency_id=user.agency_id)
    return qs.none()


def recording_for(user: User, recording_id: int) -> Recording:
    rec = recordings_visible_to(user).filter(pk=recording_id).first()
    if rec is None:
        raise NotFoundError(
            _("Recording not found."), code=QaErrorCode.RECORDING_NOT_FOUND, extra={"recording_id": recording_id}
        )
    return rec


def confirmed_findings(*, agency_id: int, start: datetime, end: datetime) -> QuerySet[ConfirmedFinding]:
    """The agency's confirmed findings in force (not withdrawn on appeal), confirmed in ``[start, end)``:
    what the commission statement's penalty terms apply to (issue 23) and the scorecard's conduct component."""
    return (ConfirmedFinding.objects.filter(agency_id=agency_id, confirmed_at__gte=start, confirmed_at__lt=end)
            .exclude(appeal=ConfirmedFinding.Appeal.UPHELD).order_by("confirmed_at", "id"))  # fmt: skip


def conduct_rates(
    *, start: datetime, end: datetime, contacts_by_agency: dict[int, int]
) -> dict[int, dict[str, float]]:
    """Confirmed findings per 1,000 contacts by agency and category (the dashboard's figure and the
    scorecard's conduct component); ``contacts_by_agency`` is the denominator."""
    out: dict[int, dict[str, float]] = {}
    rows = (ConfirmedFinding.objects.filter(confirmed_at__gte=start, confirmed_at__lt=end)
            .exclude(appeal=ConfirmedFinding.Appeal.UPHELD).values_list("agency_id", "category"))  # fmt: skip
    counts: dict[int, dict[str, int]] = {}
    for agency_id, category in rows:
        counts.setdefault(agency_id, {}).setdefault(category, 0)
        counts[agency_id][category] += 1
    for agency_id, contacts in contacts_by_agency.items():
        if contacts > 0:
            out[agency_id] = {
                cat: round(1000 * n / contacts, 3) for cat, n in sorted(counts.get(agency_id, {}).items())
            }
    return out

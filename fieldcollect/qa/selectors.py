"""Reads of quality inspection: the recordings a user may reach, and the confirmed findings of an
agency in a period (for the commission statement's penalty terms, issue 23)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.qa.models import Recording


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
            _("Recording not found."), code="qa.recording_not_found", extra={"recording_id": recording_id}
        )
    return rec

"""Reads for data sharing: who sees which attestations, sub-processors and export records."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.privacy.errors import PrivacyErrorCode
from fieldcollect.privacy.models import DeletionAttestation, ExportRecord, SubProcessor

_M = TypeVar("_M", bound=Model)

BANK_OVERSIGHT = frozenset({Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.AUDITOR})


def _oversees(user: User) -> bool:
    return user.is_superuser or user.role in BANK_OVERSIGHT


def _by_agency(qs: QuerySet[_M], user: User, *, otherwise: Q | None = None) -> QuerySet[_M]:
    """``qs`` as ``user`` sees it: bank oversight roles all; an agency manager its agency's; anyone else
    what ``otherwise`` selects (nothing when None); an inactive or anonymous user nothing."""
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if _oversees(user):
        return qs
    if user.role == Role.AGENCY_MANAGER and user.agency_id is not None:
        return qs.filter(agency_id=user.agency_id)
    return qs.none() if otherwise is None else qs.filter(otherwise)


def attestations_visible_to(user: User) -> QuerySet[DeletionAttestation]:
    """Bank oversight roles: all; an agency manager: its agency's; anyone else: none."""
    return _by_agency(DeletionAttestation.objects.select_related("agency", "attested_by"), user)


def attestations_overdue(*, user: User, today: date) -> QuerySet[DeletionAttestation]:
    return attestations_visible_to(user).filter(status=DeletionAttestation.Status.OPEN, due_on__lt=today)


def access_attestation_by_id(attestation_id: int, user: User) -> DeletionAttestation:
    att = attestations_visible_to(user).filter(pk=attestation_id).first()
    if att is None:
        raise NotFoundError("Attestation not found.", code=PrivacyErrorCode.ATTESTATION_NOT_FOUND)
    return att


def sub_processors_visible_to(user: User) -> QuerySet[SubProcessor]:
    return _by_agency(SubProcessor.objects.select_related("agency"), user)


def export_records_visible_to(user: User) -> QuerySet[ExportRecord]:
    """The register of exports: bank oversight roles all; an agency manager its agency's; anyone
    else their own."""
    return _by_agency(ExportRecord.objects.select_related("agency"), user, otherwise=Q(recipient=user))

"""Reads for data sharing: who sees which attestations, sub-processors and export records."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import Role, User
from fieldcollect.core.visibility import visible_by_agency
from fieldcollect.privacy.errors import PrivacyErrorCode
from fieldcollect.privacy.models import DeletionAttestation, ExportRecord, SubProcessor

_M = TypeVar("_M", bound=Model)

BANK_OVERSIGHT = frozenset({Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.AUDITOR})


def _oversees(user: User) -> bool:
    return user.is_superuser or user.role in BANK_OVERSIGHT


def _by_agency(qs: QuerySet[_M], user: User, *, otherwise: Q | None = None) -> QuerySet[_M]:
    """Bank oversight roles all; an agency manager its agency's; anyone else what ``otherwise`` selects."""
    return visible_by_agency(qs, user, sees_all=_oversees, otherwise=otherwise)


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

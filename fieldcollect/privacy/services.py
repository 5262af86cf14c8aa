"""Writes for data sharing: deletion attestations when an agency's access ends, sub-processors,
and the purge of data-sharing records past their retention period."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.models import RECALL_CONTRACT_ENDED, Placement
from fieldcollect.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.core.timing import Timings, step
from fieldcollect.privacy.errors import PrivacyErrorCode
from fieldcollect.privacy.models import (
    ATTESTATION_DUE_DAYS,
    RETENTION_DAYS,
    AttestationItem,
    DeletionAttestation,
    ExportRecord,
    SubProcessor,
)

R = DeletionAttestation.Reason


def _reason_of(placement: Placement) -> str:
    if placement.status == Placement.Status.ENDED:
        return R.CLOSED
    if placement.recall_reason == "expired":
        return R.EXPIRED
    if placement.recall_reason == RECALL_CONTRACT_ENDED:
        return R.CONTRACT_ENDED
    return R.RECALLED


def _open_attestation(*, agency_id: int, reason: str, on: date) -> tuple[DeletionAttestation, bool]:
    att = DeletionAttestation.objects.filter(agency_id=agency_id, reason=reason, raised_on=on,
                                             status=DeletionAttestation.Status.OPEN).first()
    if att is not None:
        return att, False
    att = DeletionAttestation.objects.create(agency_id=agency_id, reason=reason, raised_on=on,
                                             due_on=on + timedelta(days=ATTESTATION_DUE_DAYS))
    audit_log(actor=None, action="privacy.attestation_raise", object_type="DeletionAttestation", object_id=att.pk,
              new={"agency": agency_id, "reason": reason, "due_on": att.due_on.isoformat()})
    return att, True


def deletion_attestation_raise(*, placement: Placement, on: date | None = None) -> DeletionAttestation | None:
    """Cover an ended placement by the agency's open deletion attestation of the day (one per agency,
    reason and day); idempotent. Call in the transaction that ended the placement."""
    if placement.status == Placement.Status.ACTIVE:
        return None
    day = on or placement.recalled_on or timezone.localdate()
    with transaction.atomic():
        existing = AttestationItem.objects.filter(placement=placement).select_related("attestation").first()
        if existing is not None:
            return existing.attestation
        att, _created = _open_attestation(agency_id=placement.agency_id, reason=_reason_of(placement), on=day)
        AttestationItem.objects.create(attestation=att, placement=placement, case_id_ref=placement.case_id,
                                       loan_id_ref=placement.case.loan_id)
    return att


def deletion_attestations_sweep(*, as_of: date) -> int:
    """Raise attestations for every ended placement not yet covered (e.g. ended by the nightly cycle)."""
    uncovered = (Placement.objects.exclude(status=Placement.Status.ACTIVE)
                 .exclude(pk__in=AttestationItem.objects.values("placement_id"))
                 .select_related("case").order_by("id"))
    raised = 0
    with transaction.atomic():
        items: list[AttestationItem] = []
        cache: dict[tuple[int, str], DeletionAttestation] = {}
        for placement in uncovered.iterator(chunk_size=2000):
            k = (placement.agency_id, _reason_of(placement))
            if k not in cache:
                cache[k], _created = _open_attestation(agency_id=k[0], reason=k[1], on=as_of)
            items.append(AttestationItem(attestation=cache[k], placement=placement, case_id_ref=placement.case_id,
                                         loan_id_ref=placement.case.loan_id))
        AttestationItem.objects.bulk_create(items, batch_size=2000)
        raised = len(items)
    return raised


def data_sharing_records_purge(*, now: datetime | None = None, acting_user: User | None = None) -> dict[str, int]:
    """Delete the data-sharing records older than the retention period (three years): export
    records, and deletion attestations attested that long ago. Nothing younger is touched."""
    cutoff = (now or timezone.now()) - timedelta(days=RETENTION_DAYS)
    with transaction.atomic():
        exports, _ = ExportRecord.objects.filter(created_at__lt=cutoff).delete()
        old_att = DeletionAttestation.objects.filter(status=DeletionAttestation.Status.ATTESTED,
                                                     attested_at__lt=cutoff)
        items = AttestationItem.objects.filter(attestation__in=old_att).count()
        attestations = old_att.count()
        old_att.delete()
        counts = {"export_records": exports, "attestations": attestations, "attestation_items": items}
        if exports or attestations:
            audit_log(actor=acting_user, action="privacy.purge", object_type="DataSharingRecords",
                      object_id=cutoff.date().isoformat(), new=counts)
    return counts


def revocations_after_cycle(*, as_of: date, timings: Timings | None = None) -> dict[str, int]:
    """The privacy step of the nightly cycle, after the recall of the placements of ended contracts
    (:func:`fieldcollect.cases.services.placements_recall_for_ended_contracts`): raise the deletion
    attestations owed, purge data-sharing records past retention; each step's time in ``timings``
    when given."""
    with step(timings, "attestations_raised_s"):
        raised = deletion_attestations_sweep(as_of=as_of)
    with step(timings, "data_sharing_purge_s"):
        purged = data_sharing_records_purge(now=timezone.make_aware(datetime.combine(as_of, datetime.min.time())))
    return {"attestation_items_raised": raised, "export_records_purged": purged["export_records"]}


def deletion_attest(*, attestation: DeletionAttestation, acting_user: User, statement: str) -> DeletionAttestation:
    """The agency manager attests that the agency deleted the data of the attestation's cases."""
    if acting_user.role != Role.AGENCY_MANAGER or acting_user.agency_id != attestation.agency_id:
        raise PermissionDeniedError(_("Only the agency's manager may attest the deletion."),
                                    code=PrivacyErrorCode.ATTESTATION_NOT_MANAGER)
    if not statement.strip():
        raise ApplicationError(_("Describe how the data was deleted."), code=PrivacyErrorCode.ATTESTATION_STATEMENT)
    with transaction.atomic():
        locked = DeletionAttestation.objects.select_for_update().get(pk=attestation.pk)
        if locked.status != DeletionAttestation.Status.OPEN:
            raise ApplicationError(_("This deletion was already attested."), code=PrivacyErrorCode.ATTESTATION_DONE,
                                   status_code=409)
        locked.status = DeletionAttestation.Status.ATTESTED
        locked.attested_by = acting_user
        locked.attested_at = timezone.now()
        locked.statement = statement.strip()[:2000]
        locked.save(update_fields=["status", "attested_by", "attested_at", "statement"])
        audit_log(actor=acting_user, action="privacy.attest_deletion", object_type="DeletionAttestation",
                  object_id=locked.pk, old={"status": "open"},
                  new={"status": "attested", "statement": locked.statement})
    return locked


def _require_agency_manager(user: User, agency_id: int) -> None:
    if user.role != Role.AGENCY_MANAGER or user.agency_id != agency_id:
        raise PermissionDeniedError(_("Only the agency's manager may register its sub-processors."),
                                    code=PrivacyErrorCode.SUBPROCESSOR_NOT_MANAGER)


def sub_processor_register(*, acting_user: User, name: str, service: str, location: str,
                           data_categories: list[str], registered_on: date | None = None) -> SubProcessor:
    """Register a sub-processor of the acting agency manager's agency."""
    if acting_user.agency_id is None:
        raise PermissionDeniedError(_("Only an agency manager may register sub-processors."),
                                    code=PrivacyErrorCode.SUBPROCESSOR_NOT_MANAGER)
    _require_agency_manager(acting_user, acting_user.agency_id)
    if not name.strip() or not service.strip() or not location.strip():
        raise ApplicationError(_("Name, service and location are required."), code=PrivacyErrorCode.SUBPROCESSOR_INVALID)
    with transaction.atomic():
        sp = SubProcessor.objects.create(
            agency_id=acting_user.agency_id, name=name.strip()[:200], service=service.strip()[:200],
            location=location.strip()[:100], data_categories=sorted({c for c in data_categories if c}),
            registered_on=registered_on or timezone.localdate(), registered_by=acting_user)
        audit_log(actor=acting_user, action="privacy.subprocessor_register", object_type="SubProcessor",
                  object_id=sp.pk, new=_sp_snapshot(sp))
    return sp


def sub_processor_end(*, sub_processor_id: int, acting_user: User, on: date | None = None) -> SubProcessor:
    sp = (SubProcessor.objects.filter(pk=sub_processor_id, agency_id=acting_user.agency_id).first()
          if acting_user.agency_id is not None else None)
    if sp is None:
        raise NotFoundError(_("Sub-processor not found."), code=PrivacyErrorCode.SUBPROCESSOR_NOT_FOUND)
    _require_agency_manager(acting_user, sp.agency_id)
    with transaction.atomic():
        old = _sp_snapshot(sp)
        sp.ends_on = on or timezone.localdate()
        sp.save(update_fields=["ends_on"])
        audit_log(actor=acting_user, action="privacy.subprocessor_end", object_type="SubProcessor",
                  object_id=sp.pk, old=old, new=_sp_snapshot(sp))
    return sp


def _sp_snapshot(sp: SubProcessor) -> dict[str, Any]:
    return {"agency": sp.agency_id, "name": sp.name, "service": sp.service, "location": sp.location,
            "data_categories": sp.data_categories, "registered_on": sp.registered_on.isoformat(),
            "ends_on": sp.ends_on.isoformat() if sp.ends_on else None}

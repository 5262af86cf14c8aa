"""Visit reports and their evidence: a visit starts when the compliance rules allow it and closes
with the evidence the pack requires."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import IO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fieldcollect.audit.services import audit_log
from fieldcollect.cases import services as case_services
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.models import Case, Task
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.selectors import pack_for
from fieldcollect.compliance.services import current_language
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import User
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.evidence import EvidenceIntake, StagedEvidence, evidence_chunks, evidence_path
from fieldcollect.visits.models import Appointment, CheckIn, Evidence, VisitOutcome, VisitReport
from fieldcollect.visits.services.common import collector_of, local_tz, require_visible
from fieldcollect.visits.services.feedback import feedback_issue
from fieldcollect.visits.services.teams import team_of


def report_start(*, case: Case, acting_user: User, recording: bool, at: datetime | None = None) -> VisitReport:
    """Start a visit: the compliance engine must allow it now (team of two certified collectors,
    recording on, confirmed appointment, contact hours, pauses)."""
    require_capability(acting_user, "case.contact")
    collector = collector_of(acting_user)
    require_visible(case, acting_user)
    at = at or timezone.now()
    local_day = at.astimezone(local_tz()).date()
    team = team_of(collector_id=collector.pk, day=local_day)
    qualified = 1 if collector.qualified_on(local_day) else 0
    if team is not None:
        qualified = sum(1 for c in (team.member_a, team.member_b) if c.qualified_on(local_day))
    appointment = Appointment.objects.filter(
        case=case, status=Appointment.Status.CONFIRMED, chosen_start__lte=at + timedelta(minutes=30),
        chosen_end__gte=at - timedelta(hours=2)).order_by("-chosen_start").first()
    compliance_services.contact_guard(case=case, acting_user=acting_user, channel="visit", at=at, path="visit",
                                      collectors=qualified, recording=recording,
                                      appointment_confirmed=appointment is not None, request_id="visit")
    checkin = CheckIn.objects.filter(case=case, collector=collector, accepted=True,
                                     at__gte=at - timedelta(hours=3)).order_by("-at").first()
    with transaction.atomic():
        report = VisitReport.objects.create(case=case, collector=collector, team=team, appointment=appointment,
                                            checkin=checkin, recording=recording, created_by=acting_user)
        audit_log(actor=acting_user, action="visit.start", object_type="visit_report", object_id=report.pk,
                  new={"case": case.pk, "team": team.pk if team else None,
                       "appointment": appointment.pk if appointment else None, "recording": recording})
    return report


def evidence_check_can_add(*, report: VisitReport, acting_user: User) -> None:
    """Refuse before any byte of the upload is read: only the collector who started the open visit."""
    if report.created_by_id != acting_user.pk and not acting_user.is_superuser:
        raise PermissionDeniedError(_("Only the collector who started the visit can add evidence."),
                                    code=E.VISIT_NOT_OWNER)
    if report.status != VisitReport.Status.OPEN:
        raise ConflictError(_("The report is closed."), code=E.VISIT_CLOSED)


def evidence_add(*, report: VisitReport, acting_user: User, stream: IO[bytes], name: str = "") -> Evidence:
    """Store an evidence file read from ``stream``: the kind from its content, encrypted at rest under
    ``$FIELDCOLLECT_HOME/evidence/<sha256>`` (see :mod:`fieldcollect.visits.evidence`)."""
    evidence_check_can_add(report=report, acting_user=acting_user)
    staged = EvidenceIntake().read_from(stream)
    return evidence_add_staged(report=report, acting_user=acting_user, staged=staged, name=name)


def evidence_add_staged(*, report: VisitReport, acting_user: User, staged: StagedEvidence,
                        name: str = "") -> Evidence:
    """Record an upload already sealed by an :class:`EvidenceIntake` (the upload handler's)."""
    try:
        evidence_check_can_add(report=report, acting_user=acting_user)
    except ApplicationError:
        staged.discard()
        raise
    target = evidence_path(staged.sha256)
    if target.exists():
        staged.discard()  # the same content is stored already
    else:
        os.replace(staged.tmp_path, target)
        target.chmod(0o440)
    with transaction.atomic():
        evidence = Evidence.objects.create(report=report, kind=staged.kind, sha256=staged.sha256, size=staged.size,
                                           content_type=staged.mime, original_name=name[:200],
                                           uploaded_by=acting_user)
        audit_log(actor=acting_user, action="evidence.add", object_type="visit_report", object_id=report.pk,
                  new={"evidence": evidence.pk, "kind": staged.kind, "sha256": staged.sha256, "size": staged.size,
                       "content_type": staged.mime})
    return evidence


def evidence_open(*, evidence: Evidence, acting_user: User) -> Iterator[bytes]:
    """The decrypted content of an evidence file for a user the caller checked may see the case
    (``access_case_by_id``): the read is audited as ``pii.unmask`` first, then streamed."""
    chunks = evidence_chunks(sha256=evidence.sha256)
    first = next(chunks)  # fails here (404/409/tampered) before anything is audited or sent
    with transaction.atomic():
        audit_log(actor=acting_user, action="pii.unmask", object_type="Customer",
                  object_id=evidence.report.case.customer_id,
                  new={"case_id": evidence.report.case_id, "purpose": "evidence", "fields": ["evidence"],
                       "evidence": evidence.pk, "sha256": evidence.sha256})

    def stream() -> Iterator[bytes]:
        yield first
        yield from chunks

    return stream()


def missing_evidence(*, report: VisitReport) -> str | None:
    """The explanation of the pack rule whose evidence is missing, else ``None``."""
    pack = pack_for(report.case.loan.jurisdiction)
    for rule in pack.active_rules:
        if rule.kind == "visit_recording" and not report.evidence.filter(
                kind__in=[Evidence.Kind.AUDIO, Evidence.Kind.VIDEO]).exists():
            return rule.explain(current_language())
    return None


_CONVERSATION = {VisitOutcome.PAID, VisitOutcome.PROMISE, VisitOutcome.HARDSHIP, VisitOutcome.REFUSED,
                 VisitOutcome.DISPUTE}


_FOLLOW_UP: dict[str, tuple[str, str, int]] = {
    VisitOutcome.PAID: (Task.Kind.FOLLOW_UP, gettext_noop("Confirm that the payment arrived"), 2),
    VisitOutcome.HARDSHIP: (Task.Kind.FOLLOW_UP, gettext_noop("Record the hardship and propose a repayment plan"), 1),
    VisitOutcome.REFUSED: (Task.Kind.CALL_BACK, gettext_noop("Call back after the refused visit"), 3),
    VisitOutcome.NOT_HOME: (Task.Kind.VISIT, gettext_noop("Book another visit (customer not at home)"), 2),
    VisitOutcome.MOVED: (Task.Kind.FOLLOW_UP, gettext_noop("Find the customer's new address"), 3),
    VisitOutcome.WRONG_ADDRESS: (Task.Kind.FOLLOW_UP, gettext_noop("Verify the customer's address"), 2),
    VisitOutcome.DISPUTE: (Task.Kind.FOLLOW_UP, gettext_noop("Send the dispute for verification"), 1),
    VisitOutcome.THIRD_PARTY_MET: (Task.Kind.CALL_BACK, gettext_noop("Contact the customer directly"), 2),
}


def report_close(*, report: VisitReport, acting_user: User, outcome: str, notes: str = "",
                 customer_situation: str = "", promise_amount_fen: int | None = None,
                 promise_due_on: date | None = None, now: datetime | None = None) -> tuple[VisitReport, str]:
    """Close a visit report: refused without the evidence the pack requires. Records the visit as a
    contact, a promise through case management, a follow-up task, and a feedback request (signed
    link queued to the customer). Returns the report and the feedback token."""
    require_capability(acting_user, "case.contact")
    now = now or timezone.now()
    if outcome not in VisitOutcome.values:
        raise ApplicationError(_("Choose an outcome."), code=E.VISIT_INVALID_OUTCOME)
    if report.created_by_id != acting_user.pk and not acting_user.is_superuser:
        raise PermissionDeniedError(_("Only the collector who started the visit can close it."), code=E.VISIT_NOT_OWNER)
    why = missing_evidence(report=report)
    if why is not None:
        raise ApplicationError(_("The report cannot be closed without the required evidence: %(why)s") % {"why": why},
                               code=E.VISIT_EVIDENCE_MISSING)
    if outcome == VisitOutcome.PROMISE and (not promise_amount_fen or promise_due_on is None):
        raise ApplicationError(_("A promise needs an amount and a date."), code=E.VISIT_PROMISE_INCOMPLETE)
    case = report.case
    today = now.astimezone(local_tz()).date()
    with transaction.atomic():
        locked = VisitReport.objects.select_for_update().get(pk=report.pk)
        if locked.status != VisitReport.Status.OPEN:
            raise ConflictError(_("The report is closed."), code=E.VISIT_CLOSED)
        contact = case_services.contact_record(
            case=case, acting_user=acting_user, channel="visit", outcome=outcome,
            party="third_party" if outcome == VisitOutcome.THIRD_PARTY_MET else "debtor",
            number=case.customer.address[:32], at=now, conversation=outcome in _CONVERSATION,
            notes=notes, prechecked=True)  # the visit was checked when it started (report_start)
        promise = None
        if outcome == VisitOutcome.PROMISE:
            assert promise_amount_fen is not None and promise_due_on is not None
            promise = case_services.promise_record(case=case, acting_user=acting_user, amount_fen=promise_amount_fen,
                                                   due_on=promise_due_on, contact=contact)
        elif outcome in _FOLLOW_UP:
            kind, title, days = _FOLLOW_UP[outcome]
            case_services.task_create(case=case, acting_user=acting_user, title=_(title), kind=kind,
                                      due_on=today + timedelta(days=days))
        locked.status = VisitReport.Status.CLOSED
        locked.outcome = outcome
        locked.notes = notes
        locked.customer_situation = customer_situation
        locked.contact = contact
        locked.promise = promise
        locked.closed_at = now
        locked.save(update_fields=["status", "outcome", "notes", "customer_situation", "contact", "promise",
                                   "closed_at"])
        feedback, token = feedback_issue(case=case, report=locked, contact=contact, collector=report.collector,
                                          now=now)
        audit_log(actor=acting_user, action="visit.close", object_type="visit_report", object_id=locked.pk,
                  old={"status": "open"},
                  new={"status": "closed", "outcome": outcome, "contact": contact.pk,
                       "promise": promise.pk if promise else None, "feedback": feedback.pk,
                       "evidence": list(locked.evidence.values_list("sha256", flat=True))})
    report.refresh_from_db()
    return locked, token

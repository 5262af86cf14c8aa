"""Visit reports and their evidence: a visit starts when the compliance rules allow it and closes
with the evidence the pack requires."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fieldcollect.agencies.models import Collector
from fieldcollect.audit.services import audit_log
from fieldcollect.cases import services as case_services
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.models import Case, Task
from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.selectors import pack_for, third_party_may_discuss_debt
from fieldcollect.compliance.services import current_language
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import User
from fieldcollect.legal import services as skiptrace
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.evidence import EvidenceIntake, StagedEvidence, evidence_chunks, evidence_path
from fieldcollect.visits.models import (
    Appointment,
    CheckIn,
    Evidence,
    Met,
    Team,
    VisitOutcome,
    VisitPermit,
    VisitReport,
)
from fieldcollect.visits.services.common import collector_of, local_tz, require_visible
from fieldcollect.visits.services.feedback import feedback_issue
from fieldcollect.visits.services.permits import permit_recheck
from fieldcollect.visits.services.teams import team_of


def report_start(*, case: Case, acting_user: User, recording: bool, at: datetime | None = None,
                 met: str = "", identity_check: str = "", permit: VisitPermit | None = None,
                 checkin: CheckIn | None = None) -> VisitReport:
    """Start a visit: the compliance engine must allow it now (team of two certified collectors,
    recording on, confirmed appointment, contact hours, pauses). ``recording`` is whether the
    collector records the visit; the report's ``recording`` becomes true when a recording (audio or
    video evidence) is added.

    Under a visit ``permit`` (the collector app), a visit the engine now blocks only because of
    debtor flags raised after the permit was issued is recorded as made under the permit before the
    flag (``flags_after_permit``); any other block is refused as always. ``met`` (who was met at the
    door) and ``identity_check`` (how the debtor's identity was confirmed) are checked by
    :func:`report_met_check`."""
    require_capability(acting_user, "case.contact")
    collector = collector_of(acting_user)
    require_visible(case, acting_user)
    at = at or timezone.now()
    if met:
        report_met_check(case=case, met=met, identity_check=identity_check)
    team, appointment, visit = visit_conditions(case=case, collector=collector, at=at, recording=recording)
    flags_after: list[dict[str, object]] = []
    if permit is None:
        compliance_services.contact_guard(case=case, acting_user=acting_user, channel="visit", at=at, path="visit",
                                          request_id="visit", **visit)
    else:
        recheck = permit_recheck(permit=permit, case=case, at=at, **visit)
        if recheck.refused:
            compliance_services.contact_refuse(verdict=recheck.verdict, case=case, acting_user=acting_user,
                                               channel="visit", at=at, path="visit")
        flags_after = recheck.flags_after
    if checkin is None:
        checkin = CheckIn.objects.filter(case=case, collector=collector, accepted=True,
                                         at__gte=at - timedelta(hours=3)).order_by("-at").first()
    with transaction.atomic():
        report = VisitReport.objects.create(case=case, collector=collector, team=team, appointment=appointment,
                                            checkin=checkin, recording=False, met=met, identity_check=identity_check,
                                            flags_after_permit=flags_after, created_by=acting_user)
        audit_log(actor=acting_user, action="visit.start", object_type="visit_report", object_id=report.pk,
                  new={"case": case.pk, "team": team.pk if team else None,
                       "appointment": appointment.pk if appointment else None, "recording": recording,
                       "met": met, "permit": permit.pk if permit else None, "flags_after_permit": flags_after})
    return report


def visit_conditions(*, case: Case, collector: Collector, at: datetime,
                     recording: bool) -> tuple[Team | None, Appointment | None, dict[str, Any]]:
    """The collector's team of the day, the confirmed appointment around ``at`` and what the
    compliance engine is told about the visit (``collectors``, ``recording``, ``appointment_confirmed``)."""
    local_day = at.astimezone(local_tz()).date()
    team = team_of(collector_id=collector.pk, day=local_day)
    qualified = 1 if collector.qualified_on(local_day) else 0
    if team is not None:
        qualified = sum(1 for c in (team.member_a, team.member_b) if c.qualified_on(local_day))
    appointment = Appointment.objects.filter(
        case=case, status=Appointment.Status.CONFIRMED, chosen_start__lte=at + timedelta(minutes=30),
        chosen_end__gte=at - timedelta(hours=2)).order_by("-chosen_start").first()
    return team, appointment, {"collectors": qualified, "recording": recording,
                               "appointment_confirmed": appointment is not None}


def met_allows(*, met: str, may_discuss_debt: bool) -> frozenset[str] | None:
    """The outcomes that may be recorded (``""``: none yet) when ``met`` was met at the door, and no
    promise; None: any outcome and a promise. ``may_discuss_debt``: the pack lets a collector talk
    about the debt with a third party. The collector app builds its report form from this."""
    if met == Met.DEBTOR:
        return None
    if met == Met.NOBODY:
        return frozenset({"", VisitOutcome.NOT_HOME, VisitOutcome.MOVED, VisitOutcome.WRONG_ADDRESS})
    if may_discuss_debt:
        return None
    return frozenset({"", VisitOutcome.THIRD_PARTY_MET, VisitOutcome.NOT_HOME, VisitOutcome.MOVED,
                      VisitOutcome.WRONG_ADDRESS})


def report_met_check(*, case: Case, met: str, identity_check: str = "", outcome: str = "",
                     promise: bool = False) -> None:
    """Who was met at the door decides what may be recorded: the debtor only with how their identity
    was confirmed; with a family member or another third party, under a pack whose third-party rules
    forbid disclosing the debt (:func:`fieldcollect.compliance.selectors.third_party_may_discuss_debt`),
    no promise and no outcome about the debt; with nobody, only the outcomes of an empty door."""
    if met not in Met.values:
        raise ApplicationError(_("Choose who was met at the door."), code=E.FIELD_MET_RESTRICTED,
                               extra={"field": "met", "allowed": list(Met.values)})
    if met == Met.DEBTOR:
        if not identity_check.strip():
            raise ApplicationError(_("Say how the debtor's identity was confirmed."), code=E.FIELD_IDENTITY_CHECK,
                                   extra={"field": "identity_check"})
        return
    allowed = met_allows(met=met, may_discuss_debt=third_party_may_discuss_debt(pack_for(case.loan.jurisdiction)))
    if allowed is None:
        return
    if promise or outcome not in allowed:
        raise ApplicationError(
            _("With %(met)s at the door, this cannot be recorded: the debt is discussed with the debtor only.")
            % {"met": str(Met(met).label).lower()}, code=E.FIELD_MET_RESTRICTED,
            extra={"field": "outcome", "met": met, "allowed": sorted(str(o) for o in allowed if o)})


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
        if staged.kind in RECORDING_KINDS and not report.recording:
            # "recording" is a fact of the visit: a recording of it exists
            VisitReport.objects.filter(pk=report.pk).update(recording=True)
            report.recording = True
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


RECORDING_KINDS = frozenset({Evidence.Kind.AUDIO, Evidence.Kind.VIDEO})


def missing_evidence(*, report: VisitReport) -> str | None:
    """The explanation of the pack rule whose evidence is missing, else ``None``."""
    pack = pack_for(report.case.loan.jurisdiction)
    for rule in pack.active_rules:
        if rule.kind == "visit_recording" and not report.evidence.filter(
                kind__in=[Evidence.Kind.AUDIO, Evidence.Kind.VIDEO]).exists():
            return rule.explain(current_language())
    return None


# the party of the contact a visit records, by who was met at the door
_MET_PARTY: dict[str, str] = {Met.DEBTOR: "debtor", Met.FAMILY: "relative", Met.THIRD_PARTY: "third_party", Met.NOBODY: "debtor"}

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


def report_found_contacts(*, report: VisitReport, outcome: str, new_address: str, new_phone: str,
                          acting_user: User) -> int:
    """What the collector learnt at the door becomes alternate contacts of the debtor (skip tracing,
    :func:`fieldcollect.legal.services.alt_contact_add`; source: this visit, unverified): a ``new_phone``
    always, a ``new_address`` when the debtor moved or the address was wrong. One already on file keeps
    its source and verification. Returns how many were added. Call inside the report's transaction."""
    found = [("phone", new_phone.strip())]
    if outcome in {VisitOutcome.MOVED, VisitOutcome.WRONG_ADDRESS}:
        found.append(("address", new_address.strip()))
    added = 0
    for kind, value in found:
        if value:
            with contextlib.suppress(ConflictError):
                skiptrace.alt_contact_add(case=report.case, kind=kind, value=value, source="visit",
                                          source_ref=f"visit_report:{report.pk}", acting_user=acting_user)
                added += 1
    return added


def report_close(*, report: VisitReport, acting_user: User, outcome: str, notes: str = "",
                 customer_situation: str = "", promise_amount_fen: int | None = None,
                 promise_due_on: date | None = None, now: datetime | None = None, new_address: str = "",
                 new_phone: str = "") -> tuple[VisitReport, str]:
    """Close a visit report: refused without the evidence the pack requires. Records the visit as a
    contact, a promise through case management, a follow-up task, and a feedback request (signed
    link queued to the customer). Returns the report and the feedback token.

    The debtor "moved" (or the address was wrong) with ``new_address``, or a ``new_phone`` learnt at the
    door, becomes an alternate contact of the debtor (source: this visit; skip tracing,
    :func:`fieldcollect.legal.services.alt_contact_add`), unverified; one already on file is kept as it is."""
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
    if report.met:
        report_met_check(case=report.case, met=report.met, identity_check=report.identity_check, outcome=outcome,
                         promise=outcome == VisitOutcome.PROMISE)
    case = report.case
    today = now.astimezone(local_tz()).date()
    with transaction.atomic():
        locked = VisitReport.objects.select_for_update().get(pk=report.pk)
        if locked.status != VisitReport.Status.OPEN:
            raise ConflictError(_("The report is closed."), code=E.VISIT_CLOSED)
        contact = case_services.contact_record(
            case=case, acting_user=acting_user, channel="visit", outcome=outcome,
            party=_MET_PARTY.get(report.met) or (
                "third_party" if outcome == VisitOutcome.THIRD_PARTY_MET else "debtor"),
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
        report_found_contacts(report=locked, outcome=outcome, new_address=new_address, new_phone=new_phone,
                              acting_user=acting_user)
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

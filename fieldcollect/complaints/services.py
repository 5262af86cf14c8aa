"""Writes on complaints. Keyword-only functions; each runs in one ``transaction.atomic`` and writes its
audit row (acting user, old and new values) in it.

Who may act
    the bank's complaints staff (compliance officers and collections managers, and superusers)
    handle complaints; an agency manager may only write the agency's response on complaints about
    the agency; the customer files through the signed feedback link (``acting_user=None``).
Pause
    a serious complaint (high or critical severity) pauses all collection contact with the customer
    at once through a ``complaint`` flag of the compliance engine
    (:func:`fieldcollect.compliance.services.flag_add`); the flag is lifted when the complaint is
    resolved and set again if the customer rejects the resolution.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.audit.services import audit_log, snapshot
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.complaints import sla
from fieldcollect.complaints.errors import ComplaintErrorCode
from fieldcollect.complaints.models import (
    OPEN_STATUSES,
    SERIOUS,
    Category,
    Complaint,
    CustomerAnswer,
    Finding,
    InvestigationEntry,
    RootCause,
    Severity,
    Source,
    Status,
)
from fieldcollect.compliance.models import DebtorFlag
from fieldcollect.compliance.services import flag_add, flag_lift
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.core.timing import Timings, step
from fieldcollect.outbox.services import outbox_enqueue
from fieldcollect.portfolio.models import Customer
from fieldcollect.visits.models import FeedbackRequest, VisitReport
from fieldcollect.visits.services import feedback_reissue, feedback_requests_for_conversations, public_url

HANDLER_ROLES = frozenset({Role.COMPLIANCE_OFFICER, Role.COLLECTIONS_MANAGER})
FIELDS = ["reference", "source", "customer", "case", "agency", "collector", "category", "severity", "status",
          "received_at", "acknowledge_due_at", "resolve_due_at", "acknowledged_at", "resolved_at", "closed_at",
          "assigned_to", "pause_flag_id", "finding", "root_cause", "customer_answer"]
# free text is stored encrypted: the append-only audit log records its length, never the text
TEXT_FIELDS = ["resolution", "remedy", "agency_response"]


def _snapshot(complaint: Complaint) -> dict[str, Any]:
    out = snapshot(complaint, FIELDS)
    for name in TEXT_FIELDS:
        out[f"{name}_chars"] = len(getattr(complaint, name) or "")
    return out


# the severity a complaint gets when the person recording it does not choose one
DEFAULT_SEVERITY: dict[str, str] = {
    Category.THREATS: Severity.HIGH,
    Category.HARASSMENT: Severity.HIGH,
    Category.DISCLOSURE: Severity.HIGH,
    Category.PRIVACY: Severity.MEDIUM,
    Category.WRONG_PERSON: Severity.MEDIUM,
    Category.FEES: Severity.LOW,
    Category.DISPUTE: Severity.LOW,
}
_RANK: dict[str, int] = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


def is_handler(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active and (
        user.is_superuser or user.role in HANDLER_ROLES)


def require_handler(user: User | None) -> None:
    if not is_handler(user):
        raise PermissionDeniedError(_("Only the bank's complaints staff can do this."), code=ComplaintErrorCode.NOT_HANDLER)


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def _locked_open(complaint: Complaint) -> Complaint:
    """The complaint locked for a change that only an open complaint accepts (else 409)."""
    c = _locked(complaint)
    if not c.is_open:
        raise ConflictError(_("The complaint is no longer open."), code=ComplaintErrorCode.NOT_OPEN)
    return c


def _sms(complaint: Complaint, text: str) -> None:
    to = complaint.contact_phone or complaint.customer.mobile
    if to:
        outbox_enqueue(to=to, body=text, kind="complaint", case_id=complaint.case_id)


# ---------------------------------------------------------------- pause through the compliance engine

def _pause(complaint: Complaint, *, now: datetime) -> None:
    """Pause contact with the customer at once (a ``complaint`` flag open until lifted)."""
    if complaint.pause_flag_id is not None and complaint.pause_lifted_at is None:
        return
    flag = flag_add(customer=complaint.customer, flag="complaint", starts_at=now, ends_at=None,
                    reason=f"Serious complaint {complaint.reference} ({complaint.category}, {complaint.severity})",
                    acting_user=None, source=f"complaint:{complaint.pk}")
    complaint.pause_flag_id = flag.pk
    complaint.paused_at = now
    complaint.pause_lifted_at = None


def _lift(complaint: Complaint, *, now: datetime, reason: str) -> None:
    if complaint.pause_flag_id is None or complaint.pause_lifted_at is not None:
        return
    flag = DebtorFlag.objects.filter(pk=complaint.pause_flag_id).first()
    if flag is not None and flag.lifted_at is None and (flag.ends_at is None or flag.ends_at > now):
        flag_lift(flag=flag, acting_user=None, reason=reason, at=now)
    complaint.pause_lifted_at = now


# ---------------------------------------------------------------- intake

def complaint_create(*, source: str, customer: Customer, category: str, description: str,
                     acting_user: User | None, severity: str = "", case: Case | None = None,
                     agency: Agency | None = None, collector: Collector | None = None,
                     feedback: FeedbackRequest | None = None, regulator_reference: str = "",
                     contact_phone: str = "", received_at: datetime | None = None,
                     now: datetime | None = None) -> Complaint:
    """Record a complaint from any source; a serious one pauses contact with the customer at once.

    ``acting_user=None`` is the customer (through the feedback link). Staff intake (hotline,
    regulator referral) needs the complaints staff. ``received_at`` (default now) starts the SLA
    clocks; a regulator referral keeps the regulator's date.
    """
    now = now or timezone.now()
    if acting_user is None:
        if source != Source.CUSTOMER_LINK:
            raise PermissionDeniedError(_("Only the bank's complaints staff can do this."),
                                        code=ComplaintErrorCode.NOT_HANDLER)
    else:
        require_handler(acting_user)
    if source not in Source.values:
        raise ApplicationError(_("Choose where the complaint came from."), code=ComplaintErrorCode.SOURCE)
    if category not in Category.values:
        raise ApplicationError(_("Choose a category."), code=ComplaintErrorCode.CATEGORY)
    severity = severity or DEFAULT_SEVERITY[category]
    if feedback is not None and feedback.felt_threatened and _RANK[severity] < _RANK[Severity.HIGH]:
        severity = Severity.HIGH
    if severity not in Severity.values:
        raise ApplicationError(_("Choose a severity."), code=ComplaintErrorCode.SEVERITY)
    description = description.strip()
    if not description:
        raise ApplicationError(_("Describe what happened."), code=ComplaintErrorCode.DESCRIPTION)
    if source == Source.REGULATOR and not regulator_reference.strip():
        raise ApplicationError(_("Give the regulator's reference."), code=ComplaintErrorCode.REGULATOR_REFERENCE)
    received_at = received_at or now
    if timezone.is_naive(received_at):
        raise ApplicationError(_("Times must carry a time zone."), code=ComplaintErrorCode.NAIVE)
    if received_at > now + timedelta(minutes=5):
        raise ApplicationError(_("The complaint cannot be received in the future."), code=ComplaintErrorCode.FUTURE)
    if case is not None and case.customer_id != customer.pk:
        raise ApplicationError(_("The case belongs to another customer."), code=ComplaintErrorCode.CASE_CUSTOMER)
    if case is not None and agency is None:
        agency = case.agency
    if case is not None and collector is None:
        collector = case.collector
    if collector is not None and agency is None:
        agency = collector.agency
    ack_due, resolve_due = sla.due_dates(severity=severity, received_at=received_at)
    with transaction.atomic():
        if feedback is not None and Complaint.objects.filter(feedback=feedback).exists():
            raise ConflictError(_("A complaint was already filed from this link."), code=ComplaintErrorCode.DUPLICATE)
        complaint = Complaint.objects.create(
            reference=f"tmp-{secrets.token_hex(6)}",  # unique until the id is known
            source=source, regulator_reference=regulator_reference.strip()[:64], customer=customer, case=case,
            agency=agency, collector=collector, feedback=feedback, category=category, severity=severity,
            description=description[:5000], contact_phone=contact_phone.strip()[:32], received_at=received_at,
            acknowledge_due_at=ack_due, resolve_due_at=resolve_due, created_by=acting_user,
        )
        complaint.reference = f"TS{received_at.astimezone(timezone.get_default_timezone()):%Y%m%d}-{complaint.pk:05d}"
        update = ["reference"]
        if complaint.severity in SERIOUS:
            _pause(complaint, now=now)
            update += ["pause_flag_id", "paused_at", "pause_lifted_at"]
        complaint.save(update_fields=update)
        with translation.override("zh-hans"):
            _sms(complaint, _("The bank received your complaint %(ref)s and will answer you by %(due)s.") % {
                "ref": complaint.reference,
                "due": f"{resolve_due.astimezone(timezone.get_default_timezone()):%Y-%m-%d}"})
        audit_log(actor=acting_user, actor_label="" if acting_user else "customer", action="complaint.create",
                  object_type="complaint", object_id=complaint.pk, new=_snapshot(complaint))
    return complaint


def complaint_file_from_feedback(*, feedback: FeedbackRequest, category: str, description: str,
                                 now: datetime | None = None) -> Complaint:
    """The customer files a complaint through the feedback link (once per link)."""
    case = feedback.case
    return complaint_create(source=Source.CUSTOMER_LINK, customer=case.customer, case=case, category=category,
                            description=description, acting_user=None, agency=feedback.agency,
                            collector=feedback.collector, feedback=feedback, now=now)


# ---------------------------------------------------------------- handling

def complaint_acknowledge(*, complaint: Complaint, acting_user: User, now: datetime | None = None) -> Complaint:
    require_handler(acting_user)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint)
        if c.acknowledged_at is not None:
            raise ConflictError(_("The complaint is already acknowledged."), code=ComplaintErrorCode.ACKNOWLEDGED)
        old = _snapshot(c)
        c.acknowledged_at = now
        if c.status == Status.RECEIVED:
            c.status = Status.ACKNOWLEDGED
        if c.assigned_to_id is None:
            c.assigned_to, c.assigned_at = acting_user, now
        c.save(update_fields=["acknowledged_at", "status", "assigned_to", "assigned_at", "updated_at"])
        audit_log(actor=acting_user, action="complaint.acknowledge", object_type="complaint", object_id=c.pk,
                  old=old, new=_snapshot(c))
    return c


def complaint_assign(*, complaint: Complaint, assignee: User, acting_user: User,
                     now: datetime | None = None) -> Complaint:
    require_handler(acting_user)
    if not is_handler(assignee):
        raise ApplicationError(_("Assign the complaint to a member of the complaints staff."),
                               code=ComplaintErrorCode.ASSIGNEE)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked_open(complaint)
        old = _snapshot(c)
        c.assigned_to, c.assigned_at = assignee, now
        c.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
        audit_log(actor=acting_user, action="complaint.assign", object_type="complaint", object_id=c.pk,
                  old=old, new=_snapshot(c))
    return c


def complaint_set_severity(*, complaint: Complaint, severity: str, reason: str, acting_user: User,
                           now: datetime | None = None) -> Complaint:
    """Reclassify; becoming serious pauses contact at once. The SLA deadlines follow the new severity
    (never later than they were)."""
    require_handler(acting_user)
    if severity not in Severity.values:
        raise ApplicationError(_("Choose a severity."), code=ComplaintErrorCode.SEVERITY)
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), code=ComplaintErrorCode.REASON)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked_open(complaint)
        old = _snapshot(c)
        c.severity = severity
        ack_due, resolve_due = sla.due_dates(severity=severity, received_at=c.received_at)
        c.acknowledge_due_at = min(c.acknowledge_due_at, ack_due)
        c.resolve_due_at = min(c.resolve_due_at, resolve_due)
        if severity in SERIOUS:
            _pause(c, now=now)
        c.save(update_fields=["severity", "acknowledge_due_at", "resolve_due_at", "pause_flag_id", "paused_at",
                              "pause_lifted_at", "updated_at"])
        audit_log(actor=acting_user, action="complaint.severity", object_type="complaint", object_id=c.pk,
                  old=old, new=_snapshot(c) | {"reason": reason.strip()[:500]})
    return c


def complaint_add_entry(*, complaint: Complaint, acting_user: User, note: str = "",
                        contact: ContactAttempt | None = None, visit_report: VisitReport | None = None,
                        now: datetime | None = None) -> InvestigationEntry:
    """Add an investigation step: a note and/or a linked contact attempt or visit report of the customer.
    The first step starts the investigation (and acknowledges the complaint if nobody had)."""
    require_handler(acting_user)
    now = now or timezone.now()
    if not note.strip() and contact is None and visit_report is None:
        raise ApplicationError(_("Write a note or link a contact or a visit."), code=ComplaintErrorCode.EMPTY_ENTRY)
    with transaction.atomic():
        c = _locked_open(complaint)
        if contact is not None and contact.case.customer_id != c.customer_id:
            raise ApplicationError(_("The contact belongs to another customer."), code=ComplaintErrorCode.LINK_CUSTOMER)
        if visit_report is not None and visit_report.case.customer_id != c.customer_id:
            raise ApplicationError(_("The visit belongs to another customer."), code=ComplaintErrorCode.LINK_CUSTOMER)
        old = _snapshot(c)
        entry = InvestigationEntry.objects.create(complaint=c, note=note.strip()[:5000], contact=contact,
                                                  visit_report=visit_report, author=acting_user)
        c.status = Status.INVESTIGATING
        if c.acknowledged_at is None:
            c.acknowledged_at = now
        if c.assigned_to_id is None:
            c.assigned_to, c.assigned_at = acting_user, now
        c.save(update_fields=["status", "acknowledged_at", "assigned_to", "assigned_at", "updated_at"])
        audit_log(actor=acting_user, action="complaint.investigate", object_type="complaint", object_id=c.pk,
                  old=old, new=_snapshot(c) | {
                      "entry": entry.pk, "contact": contact.pk if contact else None,
                      "visit_report": visit_report.pk if visit_report else None})
    return entry


def complaint_agency_respond(*, complaint: Complaint, response: str, acting_user: User,
                             now: datetime | None = None) -> Complaint:
    """The agency's manager answers a complaint about the agency (the bank decides)."""
    if acting_user.role != Role.AGENCY_MANAGER or acting_user.agency_id is None \
            or acting_user.agency_id != complaint.agency_id:
        raise PermissionDeniedError(_("Only the manager of the agency concerned can answer."),
                                    code=ComplaintErrorCode.NOT_AGENCY)
    if not response.strip():
        raise ApplicationError(_("Write the agency's response."), code=ComplaintErrorCode.EMPTY_RESPONSE)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked_open(complaint)
        old = {"agency_response_chars": len(c.agency_response)}
        c.agency_response = response.strip()[:5000]
        c.agency_response_at, c.agency_response_by = now, acting_user
        c.save(update_fields=["agency_response", "agency_response_at", "agency_response_by", "updated_at"])
        audit_log(actor=acting_user, action="complaint.agency_response", object_type="complaint", object_id=c.pk,
                  old=old, new={"agency_response_chars": len(c.agency_response)})
    return c


def complaint_resolve(*, complaint: Complaint, acting_user: User, finding: str, root_cause: str, resolution: str,
                      remedy: str = "", now: datetime | None = None) -> Complaint:
    """Decide the complaint; lifts the pause on contact and tells the customer."""
    require_handler(acting_user)
    if finding not in Finding.values:
        raise ApplicationError(_("Choose a finding."), code=ComplaintErrorCode.FINDING)
    if root_cause not in RootCause.values:
        raise ApplicationError(_("Choose a root cause."), code=ComplaintErrorCode.ROOT_CAUSE)
    if not resolution.strip():
        raise ApplicationError(_("Describe the resolution."), code=ComplaintErrorCode.RESOLUTION)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked_open(complaint)
        old = _snapshot(c)
        c.finding, c.root_cause = finding, root_cause
        c.resolution, c.remedy = resolution.strip()[:5000], remedy.strip()[:300]
        c.status = Status.RESOLVED
        c.resolved_at = now
        if c.acknowledged_at is None:
            c.acknowledged_at = now
        c.customer_answer, c.customer_answered_at = CustomerAnswer.PENDING, None
        _lift(c, now=now, reason=f"Complaint {c.reference} resolved")
        c.save(update_fields=["finding", "root_cause", "resolution", "remedy", "status", "resolved_at",
                              "acknowledged_at", "customer_answer", "customer_answered_at", "pause_lifted_at",
                              "updated_at"])
        with translation.override("zh-hans"):
            if c.feedback is not None:  # filed through the link: a fresh link to read and answer
                token = feedback_reissue(feedback=c.feedback, now=now)
                _sms(c, _("The bank has answered your complaint %(ref)s. Read the answer and tell us whether you "
                          "accept it: %(url)s") % {
                    "ref": c.reference, "url": public_url(reverse("complaints:customer_file", args=[token]))})
            else:
                _sms(c, _("The bank has answered your complaint %(ref)s. Please reply to tell us whether you accept "
                          "the resolution.") % {"ref": c.reference})
        audit_log(actor=acting_user, action="complaint.resolve", object_type="complaint", object_id=c.pk,
                  old=old, new=_snapshot(c))
    return c


def complaint_customer_answer(*, complaint: Complaint, answer: str, note: str = "", acting_user: User | None,
                              now: datetime | None = None) -> Complaint:
    """The customer's answer to the resolution, recorded by staff or given through the link
    (``acting_user=None``). Accepted or no answer closes the complaint; rejected reopens it (and a
    serious complaint pauses contact again)."""
    if acting_user is not None:
        require_handler(acting_user)
    if answer not in {CustomerAnswer.ACCEPTED, CustomerAnswer.REJECTED, CustomerAnswer.NO_ANSWER}:
        raise ApplicationError(_("Choose the customer's answer."), code=ComplaintErrorCode.ANSWER)
    if acting_user is None and answer == CustomerAnswer.NO_ANSWER:
        raise ApplicationError(_("Choose the customer's answer."), code=ComplaintErrorCode.ANSWER)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint)
        if c.status != Status.RESOLVED:
            raise ConflictError(_("The complaint has no resolution waiting for an answer."),
                                code=ComplaintErrorCode.NOT_RESOLVED)
        old = _snapshot(c)
        c.customer_answer, c.customer_answer_note, c.customer_answered_at = answer, note.strip()[:2000], now
        if answer == CustomerAnswer.REJECTED:
            c.status = Status.INVESTIGATING
            c.resolved_at = None
            if c.severity in SERIOUS:
                _pause(c, now=now)
        else:
            c.status, c.closed_at = Status.CLOSED, now
        c.save(update_fields=["customer_answer", "customer_answer_note", "customer_answered_at", "status",
                              "resolved_at", "closed_at", "pause_flag_id", "paused_at", "pause_lifted_at",
                              "updated_at"])
        audit_log(actor=acting_user, actor_label="" if acting_user else "customer", action="complaint.answer",
                  object_type="complaint", object_id=c.pk, old=old, new=_snapshot(c))
    return c


# ---------------------------------------------------------------- nightly

def sla_breaches_detect(*, now: datetime) -> dict[str, int]:
    """Mark complaints whose acknowledge or resolve deadline passed (once each, audited)."""
    counts = {"acknowledge": 0, "resolve": 0}
    with transaction.atomic():
        ack = Complaint.objects.select_for_update().filter(
            acknowledge_breached_at__isnull=True, acknowledged_at__isnull=True, acknowledge_due_at__lt=now)
        for c in ack:
            c.acknowledge_breached_at = now
            c.save(update_fields=["acknowledge_breached_at"])
            audit_log(actor=None, action="complaint.sla_breach", object_type="complaint", object_id=c.pk,
                      new={"timer": "acknowledge", "due": c.acknowledge_due_at.isoformat()})
            counts["acknowledge"] += 1
        res = Complaint.objects.select_for_update().filter(
            resolve_breached_at__isnull=True, status__in=OPEN_STATUSES, resolve_due_at__lt=now)
        for c in res:
            c.resolve_breached_at = now
            c.save(update_fields=["resolve_breached_at"])
            audit_log(actor=None, action="complaint.sla_breach", object_type="complaint", object_id=c.pk,
                      new={"timer": "resolve", "due": c.resolve_due_at.isoformat()})
            counts["resolve"] += 1
    return counts


def complaints_after_nightly(*, as_of: date, timings: Timings | None = None) -> dict[str, int]:
    """The nightly step: feedback requests for the day's conversations and SLA breach detection at the
    end of the business day ``as_of`` (never later than now); each step's time in ``timings`` when given."""
    tz = timezone.get_default_timezone()
    end = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=tz)
    now = min(end, timezone.now())
    with step(timings, "complaint_sla_breaches_s"):
        breaches = sla_breaches_detect(now=now)
    with step(timings, "feedback_requests_s"):
        requests = feedback_requests_for_conversations(as_of=as_of, now=now)
    out: dict[str, int] = {"feedback_requests": requests,
                           "complaint_ack_breaches": breaches["acknowledge"],
                           "complaint_resolve_breaches": breaches["resolve"]}
    return out

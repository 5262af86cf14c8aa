"""Training and certification records (issue 21, item 6): exams, certificates with expiry, the
collector's qualification derived from them, renewal reminders and the per-agency report.

The records feed what the rest of the product already checks: ``Collector.certified_until`` (the
latest expiry among the collector's *active* certificates, ``None`` without one) and
``Collector.trained_until`` (the latest passed exam plus its course's validity). Those two dates make
``Collector.qualified_on``, which counts the qualified members of a field team, the ``collectors``
input of the compliance engine's visit rule (a lapsed or suspended certificate: the team no longer
has two qualified collectors, the visit permit is refused) and which a case assignment requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.audit.services import audit_log
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.qa.errors import QaErrorCode
from fieldcollect.qa.models import Certificate, Course, ExamResult

REMINDER_DAYS = 30  # a renewal reminder this many days before a certificate expires


def collector_sync_qualification(*, collector: Collector, acting_user: User | None) -> Collector:
    """Set the collector's ``certified_until`` and ``trained_until`` from the records (audited when they change)."""
    with transaction.atomic():
        locked = Collector.objects.select_for_update().get(pk=collector.pk)
        certified = Certificate.objects.filter(collector=locked, status=Certificate.Status.ACTIVE).aggregate(
            m=Max("expires_on"))["m"]  # fmt: skip
        trained: date | None = None
        for exam in ExamResult.objects.filter(collector=locked).select_related("course"):
            if exam.passed:
                until = exam.taken_on + timedelta(days=exam.course.validity_days)
                trained = until if trained is None or until > trained else trained
        old = {"certified_until": str(locked.certified_until), "trained_until": str(locked.trained_until)}
        if (locked.certified_until, locked.trained_until) != (certified, trained):
            locked.certified_until, locked.trained_until = certified, trained
            locked.save(update_fields=["certified_until", "trained_until"])
            audit_log(actor=acting_user, action="qa.collector.qualification", object_type="agencies.collector",
                      object_id=locked.pk, old=old,
                      new={"certified_until": str(certified), "trained_until": str(trained)})  # fmt: skip
    collector.certified_until, collector.trained_until = certified, trained
    return collector


def exam_record(*, collector: Collector, course: Course, taken_on: date, score: int,
                acting_user: User | None) -> ExamResult:  # fmt: skip
    if not 0 <= score <= 100:
        raise ApplicationError(
            _("A score is between 0 and 100."), code=QaErrorCode.EXAM_SCORE, extra={"score": score}
        )
    with transaction.atomic():
        exam = ExamResult.objects.create(collector=collector, course=course, taken_on=taken_on, score=score,
                                         pass_mark=course.pass_mark, recorded_by=acting_user)  # fmt: skip
        audit_log(actor=acting_user, action="qa.exam.record", object_type="qa.examresult", object_id=exam.pk,
                  new={"collector": collector.pk, "course": course.code, "score": score, "passed": exam.passed})  # fmt: skip
    collector_sync_qualification(collector=collector, acting_user=acting_user)
    return exam


def certificate_issue(*, collector: Collector, number: str, issued_on: date, expires_on: date,
                      exam: ExamResult | None, acting_user: User | None) -> Certificate:  # fmt: skip
    """A certificate; needs a passed exam of the collector when one is named."""
    if exam is not None and (exam.collector_id != collector.pk or not exam.passed):
        raise ApplicationError(
            _("A certificate needs a passed exam of the same collector."), code=QaErrorCode.EXAM_NOT_PASSED
        )
    if expires_on < issued_on:
        raise ApplicationError(
            _("A certificate cannot expire before it is issued."), code=QaErrorCode.CERTIFICATE_DATES
        )
    with transaction.atomic():
        cert = Certificate.objects.create(collector=collector, number=number, issued_on=issued_on,
                                          expires_on=expires_on, exam=exam)  # fmt: skip
        audit_log(actor=acting_user, action="qa.certificate.issue", object_type="qa.certificate", object_id=cert.pk,
                  new={"collector": collector.pk, "number": number, "expires_on": str(expires_on)})  # fmt: skip
    collector_sync_qualification(collector=collector, acting_user=acting_user)
    return cert


def certificate_set_status(*, certificate: Certificate, status: str, reason: str,
                           acting_user: User | None) -> Certificate:  # fmt: skip
    """Suspend (a critical confirmed finding), reinstate or revoke a certificate; the collector's
    qualification follows at once."""
    if status not in Certificate.Status.values:
        raise ApplicationError(_("Unknown certificate status."), code=QaErrorCode.CERTIFICATE_STATUS)
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == Certificate.Status.REVOKED and status != Certificate.Status.REVOKED:
            raise ApplicationError(_("A revoked certificate stays revoked."), code=QaErrorCode.CERTIFICATE_REVOKED)
        old = locked.status
        locked.status, locked.status_reason = status, reason[:200]
        locked.save(update_fields=["status", "status_reason"])
        audit_log(actor=acting_user, action="qa.certificate.status", object_type="qa.certificate",
                  object_id=locked.pk, old={"status": old}, new={"status": status, "reason": reason[:200]})  # fmt: skip
    collector_sync_qualification(collector=locked.collector, acting_user=acting_user)
    return locked


def certificates_due_for_renewal(*, as_of: date, within_days: int = REMINDER_DAYS) -> list[Certificate]:
    """Active certificates expiring within ``within_days`` of ``as_of`` not reminded since they entered that window."""
    window_start = as_of
    qs = Certificate.objects.filter(status=Certificate.Status.ACTIVE, expires_on__gte=window_start,
                                    expires_on__lte=as_of + timedelta(days=within_days)).select_related("collector")  # fmt: skip
    return [
        c for c in qs if c.reminded_on is None or c.reminded_on < c.expires_on - timedelta(days=within_days)
    ]


def renewal_reminders_send(*, as_of: date, within_days: int = REMINDER_DAYS) -> list[Certificate]:
    """Mark the due reminders as sent (one per certificate and renewal window) and audit each; the
    agency sees them on its training report."""
    due = certificates_due_for_renewal(as_of=as_of, within_days=within_days)
    with transaction.atomic():
        for cert in due:
            cert.reminded_on = as_of
            cert.save(update_fields=["reminded_on"])
            audit_log(actor=None, action="qa.certificate.reminder", object_type="qa.certificate", object_id=cert.pk,
                      new={"collector": cert.collector_id, "expires_on": str(cert.expires_on)})  # fmt: skip
    return due


@dataclass(frozen=True)
class AgencyTrainingRow:
    collector_id: int
    name: str
    qualified: bool
    certified_until: date | None
    trained_until: date | None
    expiring_soon: bool
    suspended: bool
    exams: int
    exams_passed: int


def agency_training_report(
    *, agency: Agency, as_of: date, within_days: int = REMINDER_DAYS
) -> list[AgencyTrainingRow]:
    rows = []
    collectors = Collector.objects.filter(agency=agency, active=True).order_by("collector_id")
    exams: dict[int, list[ExamResult]] = {}
    for e in ExamResult.objects.filter(collector__agency=agency):
        exams.setdefault(e.collector_id, []).append(e)
    suspended = set(Certificate.objects.filter(collector__agency=agency, status=Certificate.Status.SUSPENDED)
                    .values_list("collector_id", flat=True))  # fmt: skip
    for c in collectors:
        mine = exams.get(c.pk, [])
        rows.append(AgencyTrainingRow(
            collector_id=c.pk, name=c.name, qualified=c.qualified_on(as_of), certified_until=c.certified_until,
            trained_until=c.trained_until,
            expiring_soon=c.certified_until is not None and as_of <= c.certified_until <= as_of + timedelta(days=within_days),
            suspended=c.pk in suspended, exams=len(mine), exams_passed=sum(1 for e in mine if e.passed),
        ))  # fmt: skip
    return rows

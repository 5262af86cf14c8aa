"""Training and certification records: exams against the pass mark, certificates with expiry, the
collector's qualification derived from them, a lapsed or suspended certificate refusing the visit
permit (the compliance engine's ``collectors``), renewal reminders and the per-agency report."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import translation

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.errors import ApplicationError
from fieldcollect.qa import training
from fieldcollect.qa.models import Certificate, Course
from fieldcollect.testing import factories as f
from fieldcollect.visits import services as visit_services
from fieldcollect.visits.models import VisitPermit
from fieldcollect.visits.tests.conftest import at, vw  # noqa: F401  (the visits world fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(db: None) -> Course:
    return Course.objects.create(code="CN-BASIC", title="催收合规基础", title_en="Collections compliance basics",
                                 validity_days=365, pass_mark=80)  # fmt: skip


def certify(collector, course: Course, *, issued_days_ago: int = 10, valid_days: int = 365) -> Certificate:  # type: ignore[no-untyped-def]
    today = f.today()
    exam = training.exam_record(collector=collector, course=course, taken_on=today - timedelta(days=issued_days_ago),
                                score=90, acting_user=None)  # fmt: skip
    return training.certificate_issue(collector=collector, number=f"CERT-{collector.pk}-{issued_days_ago}",
                                      issued_on=today - timedelta(days=issued_days_ago),
                                      expires_on=today - timedelta(days=issued_days_ago) + timedelta(days=valid_days),
                                      exam=exam, acting_user=None)  # fmt: skip


def test_qualification_follows_the_records(vw, course: Course) -> None:  # noqa: F811
    c = vw.c1
    failed = training.exam_record(collector=c, course=course, taken_on=f.today(), score=79, acting_user=None)
    assert not failed.passed
    c.refresh_from_db()
    assert c.certified_until is None and c.trained_until is None and not c.qualified_on(f.today())
    with translation.override("en"), pytest.raises(ApplicationError, match="passed exam"):
        training.certificate_issue(collector=c, number="X", issued_on=f.today(), expires_on=f.today(), exam=failed,
                                   acting_user=None)  # fmt: skip
    cert = certify(c, course)
    c.refresh_from_db()
    assert c.qualified_on(f.today()) and c.certified_until == cert.expires_on
    training.certificate_set_status(
        certificate=cert, status="suspended", reason="critical finding", acting_user=None
    )
    c.refresh_from_db()
    assert c.certified_until is None and not c.qualified_on(f.today())
    assert AuditEntry.objects.filter(action="qa.certificate.status").count() == 1
    training.certificate_set_status(
        certificate=cert, status="active", reason="appeal upheld", acting_user=None
    )
    c.refresh_from_db()
    assert c.qualified_on(f.today())
    training.certificate_set_status(certificate=cert, status="revoked", reason="fraud", acting_user=None)
    with pytest.raises(ApplicationError):
        training.certificate_set_status(certificate=cert, status="active", reason="", acting_user=None)


class Clock:
    def __init__(self, t):  # type: ignore[no-untyped-def]
        self.t = t

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.t


def _plan_permit(vw, lapse_c2):  # type: ignore[no-untyped-def]  # noqa: F811
    """Today's plan of the team c1+c2 with a confirmed appointment; ``lapse_c2`` runs before the plan."""
    today = f.today()
    clock = Clock(at(today, 8, 30))
    with mock.patch("django.utils.timezone.now", clock):
        team = visit_services.team_create(member_a=vw.c1, member_b=vw.c2, day=today, acting_user=vw.manager)
        appointment, _token = visit_services.appointment_propose(
            case=vw.case1, acting_user=vw.user1, windows=[(at(today, 10), at(today, 12))], now=clock.t
        )
        visit_services.appointment_confirm(appointment=appointment, window=0)
        lapse_c2()
        clock.t = at(today, 9)
        plan = visit_services.route_plan_build(
            team=team, acting_user=vw.manager, time_limit=1.0, max_iterations=200
        )
    return VisitPermit.objects.get(plan=plan, case=vw.case1)


def test_a_valid_certificate_lets_the_visit_through(vw, course: Course) -> None:  # noqa: F811
    certify(vw.c1, course)
    certify(vw.c2, course)
    permit = _plan_permit(vw, lambda: None)
    assert permit.allowed and permit.rule_ids == []


def test_a_lapsed_certificate_refuses_the_visit(vw, course: Course) -> None:  # noqa: F811
    certify(vw.c1, course)
    cert2 = certify(vw.c2, course)

    def lapse() -> None:  # the certificate expired yesterday: the records say so
        Certificate.objects.filter(pk=cert2.pk).update(issued_on=f.today() - timedelta(days=400),
                                                       expires_on=f.today() - timedelta(days=1))  # fmt: skip
        training.collector_sync_qualification(collector=vw.c2, acting_user=None)

    permit = _plan_permit(vw, lapse)
    assert not permit.allowed and any("TEAM" in r or "VISIT" in r for r in permit.rule_ids), permit.rule_ids


def test_renewal_reminders_once_per_window_and_the_agency_report(vw, course: Course) -> None:  # noqa: F811
    certify(vw.c1, course, issued_days_ago=350)  # expires in 15 days
    certify(vw.c2, course, issued_days_ago=10)
    due = training.renewal_reminders_send(as_of=f.today())
    assert [c.collector_id for c in due] == [vw.c1.pk]
    assert training.renewal_reminders_send(as_of=f.today() + timedelta(days=1)) == []
    rows = {r.collector_id: r for r in training.agency_training_report(agency=vw.agency, as_of=f.today())}
    assert rows[vw.c1.pk].expiring_soon and rows[vw.c1.pk].qualified and rows[vw.c1.pk].exams_passed == 1
    assert not rows[vw.c2.pk].expiring_soon

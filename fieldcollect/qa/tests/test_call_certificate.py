"""A collector's call goes through the same certificate records as the visit team (issue 21, item 6):
a call by a collector whose certificate has lapsed (or is suspended) is refused with the common
compliance error, a valid certificate lets it through, and validity is judged on the contact's date in
the debtor's local time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from fieldcollect.accounts.tokens import token_create
from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.compliance.errors import ComplianceErrorCode
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import ContactBlockedError, contact_decision
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role
from fieldcollect.qa import training
from fieldcollect.qa.models import Certificate, Course
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


@pytest.fixture
def world(db: None):  # type: ignore[no-untyped-def]
    agency, manager = f.make_contracted_agency()
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    user, collector = f.make_collector_user(agency=agency)
    case = f.place(f.make_case(), agency=agency, cm=cm, collector=collector, manager=manager)
    course = Course.objects.create(code="CN-BASIC", title="催收合规基础", title_en="Basics", validity_days=365,
                                   pass_mark=80)
    return {"agency": agency, "manager": manager, "user": user, "collector": collector, "case": case,
            "course": course}


def certify(world, *, expires_on: date) -> Certificate:  # type: ignore[no-untyped-def]
    """The collector's records: a passed exam and a certificate expiring on ``expires_on``."""
    c = world["collector"]
    issued = expires_on - timedelta(days=300)
    exam = training.exam_record(collector=c, course=world["course"], taken_on=issued, score=90, acting_user=None)
    return training.certificate_issue(collector=c, number=f"CERT-{c.pk}-{expires_on}", issued_on=issued,
                                      expires_on=expires_on, exam=exam, acting_user=None)


def call(world, at: datetime) -> ContactAttempt:  # type: ignore[no-untyped-def]
    return case_services.contact_record(case=world["case"], acting_user=world["user"], channel="phone",
                                        outcome="no_answer", at=at)


def test_a_lapsed_certificate_refuses_the_call(world) -> None:  # type: ignore[no-untyped-def]
    certify(world, expires_on=f.today() - timedelta(days=1))
    with pytest.raises(ContactBlockedError) as exc:
        call(world, f.in_hours(10))
    assert exc.value.code == ComplianceErrorCode.BLOCKED and exc.value.status_code == 422
    assert exc.value.extra["rule_ids"] == ["CN-COLLECTOR-CERTIFIED"]
    assert not ContactAttempt.objects.exists()
    assert BlockedAttempt.objects.get().rule_ids == ["CN-COLLECTOR-CERTIFIED"]


def test_a_valid_certificate_lets_the_call_through(world) -> None:  # type: ignore[no-untyped-def]
    certify(world, expires_on=f.today() + timedelta(days=30))
    contact = call(world, f.in_hours(10))
    assert contact.collector_id == world["collector"].pk
    assert not BlockedAttempt.objects.exists()


def test_a_suspended_certificate_refuses_the_call_and_reinstating_it_lets_it_through(world) -> None:  # type: ignore[no-untyped-def]
    cert = certify(world, expires_on=f.today() + timedelta(days=30))
    training.certificate_set_status(certificate=cert, status="suspended", reason="critical finding", acting_user=None)
    with pytest.raises(ContactBlockedError):
        call(world, f.in_hours(10))
    training.certificate_set_status(certificate=cert, status="active", reason="appeal upheld", acting_user=None)
    assert call(world, f.in_hours(11)).pk


def test_the_bank_and_the_agency_manager_name_no_collector(world) -> None:  # type: ignore[no-untyped-def]
    """A contact naming no collector is not limited by the certificate rule (hard negative), but a
    manager who names the lapsed collector (a dialler's call) is refused."""
    certify(world, expires_on=f.today() - timedelta(days=1))
    contact = case_services.contact_record(case=world["case"], acting_user=world["manager"], channel="phone",
                                           outcome="no_answer", at=f.in_hours(10))
    assert contact.collector_id is None
    with pytest.raises(ContactBlockedError) as exc:
        case_services.contact_record(case=world["case"], acting_user=world["manager"], channel="phone",
                                     outcome="no_answer", at=f.in_hours(11), collector_id=world["collector"].pk)
    assert "CN-COLLECTOR-CERTIFIED" in exc.value.extra["rule_ids"]
    # a collector of another agency is refused as such
    other_agency, _m = f.make_contracted_agency()
    stranger = f.make_collector(agency=other_agency)
    with pytest.raises(ApplicationError) as wrong:
        case_services.contact_record(case=world["case"], acting_user=world["manager"], channel="phone",
                                     outcome="no_answer", at=f.in_hours(12), collector_id=stranger.pk)
    assert wrong.value.code == "assignment.collector_other_agency"


def test_validity_is_judged_on_the_debtors_local_date(world) -> None:  # type: ignore[no-untyped-def]
    """The certificate runs to day D. A call at D+1 09:00 in Shanghai is D 20:00 for a debtor in New
    York: still valid. At D+1 10:00 in New York it has lapsed."""
    d = f.today() - timedelta(days=3)
    certify(world, expires_on=d)
    customer = world["case"].customer
    customer.timezone = "America/New_York"
    customer.save(update_fields=["timezone"])
    case = world["case"].__class__.objects.select_related("customer", "loan").get(pk=world["case"].pk)
    collector = world["collector"]
    collector.refresh_from_db()
    evening = datetime.combine(d + timedelta(days=1), time(9, 0), tzinfo=SH)
    assert evening.astimezone(NY).date() == d
    ok = contact_decision(case=case, channel="phone", at=evening, collector=collector)
    assert ok.allowed, ok.rule_ids
    next_morning = datetime.combine(d + timedelta(days=1), time(10, 0), tzinfo=NY)
    late = contact_decision(case=case, channel="phone", at=next_morning, collector=collector)
    assert not late.allowed and late.rule_ids == ["CN-COLLECTOR-CERTIFIED"]
    # and through the service, at the same two instants
    assert call(world, evening).collector_id == collector.pk
    with pytest.raises(ContactBlockedError):
        call(world, next_morning)


def test_the_api_answers_422_compliance_blocked(world) -> None:  # type: ignore[no-untyped-def]
    certify(world, expires_on=f.today() - timedelta(days=1))
    _, secret = token_create(user=world["user"])
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    resp = client.post(f"/api/v1/cases/{world['case'].pk}/contacts",
                       {"channel": "phone", "outcome": "no_answer", "at": f.in_hours(10).isoformat()},
                       content_type="application/json")
    assert resp.status_code == 422, resp.content
    err = resp.json()["error"]
    assert err["code"] == "compliance.blocked" and err["extra"]["rule_ids"] == ["CN-COLLECTOR-CERTIFIED"]
    # an agency's dialler (its manager's token) naming the lapsed collector: refused the same way
    _, manager_secret = token_create(user=world["manager"])
    dialler = Client(headers={"Authorization": f"Bearer {manager_secret}"})
    named = dialler.post(f"/api/v1/cases/{world['case'].pk}/contacts",
                         {"channel": "phone", "outcome": "no_answer", "at": f.in_hours(11).isoformat(),
                          "collector_id": world["collector"].pk}, content_type="application/json")
    assert named.status_code == 422 and named.json()["error"]["extra"]["rule_ids"] == ["CN-COLLECTOR-CERTIFIED"]
    unnamed = dialler.post(f"/api/v1/cases/{world['case'].pk}/contacts",
                           {"channel": "phone", "outcome": "no_answer", "at": f.in_hours(11).isoformat()},
                           content_type="application/json")
    assert unnamed.status_code == 201, unnamed.content

"""The complaint workflow: SLA timers and breach detection (nightly and page badges), the pause of
contact on a serious complaint through the compliance engine (and its lift on resolution), the
agency scorecard, visibility, investigation links and the audit trail."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.complaints import selectors, services
from fieldcollect.complaints.models import Complaint, CustomerAnswer, Severity, Source, Status
from fieldcollect.compliance.models import DebtorFlag
from fieldcollect.compliance.services import ContactBlockedError, contact_decision
from fieldcollect.core.errors import NotFoundError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.scorecards.selectors import monthly_scorecard
from fieldcollect.testing import factories as f

from .conftest import at

pytestmark = pytest.mark.django_db


def _hotline(w, *, category: str = "fees", severity: str = "", hh: int = 9) -> Complaint:
    return services.complaint_create(source=Source.HOTLINE, customer=w.case.customer, case=w.case,
                                     category=category, severity=severity, description="客户来电投诉",
                                     acting_user=w.officer, now=at(w.day, hh))


def test_sla_deadlines_follow_settings_and_breaches_are_detected_once(w, settings, client):
    settings.COMPLAINTS_SLA = {"low": (2, 10)}
    c = _hotline(w, category="fees")  # fees -> low by default
    assert c.severity == Severity.LOW and c.pause_flag_id is None
    assert c.acknowledge_due_at == at(w.day, 11) and c.resolve_due_at == at(w.day, 19)
    assert services.sla_breaches_detect(now=at(w.day, 10, 59)) == {"acknowledge": 0, "resolve": 0}
    assert services.sla_breaches_detect(now=at(w.day, 11, 1)) == {"acknowledge": 1, "resolve": 0}
    c.refresh_from_db()
    assert c.acknowledge_breached_at == at(w.day, 11, 1)
    services.complaint_acknowledge(complaint=c, acting_user=w.officer, now=at(w.day, 12))
    assert services.sla_breaches_detect(now=at(w.day, 20)) == {"acknowledge": 0, "resolve": 1}
    assert services.sla_breaches_detect(now=at(w.day, 21)) == {"acknowledge": 0, "resolve": 0}  # once
    c.refresh_from_db()
    state = selectors.sla_of(c, now=at(w.day, 21))
    assert state.acknowledge_overdue and state.resolve_overdue and state.breached
    assert AuditEntry.objects.filter(action="complaint.sla_breach", object_id=str(c.pk)).count() == 2
    # a complaint on time has no badge
    on_time = _hotline(w, category="dispute", severity=Severity.MEDIUM, hh=20)
    assert not selectors.sla_of(on_time, now=at(w.day, 21)).breached
    # the badges on the work queue: the overdue complaint first, flagged
    client.force_login(w.officer)
    page = client.get("/complaints/queue/").content.decode()
    assert 'id="breach-badge"' in page and 'data-sla="resolve"' in page
    assert page.index(c.reference) < page.index(on_time.reference)


def test_serious_complaint_pauses_contact_at_once_and_resolution_lifts_it(w):
    assert contact_decision(case=w.case, channel="phone", at=at(w.day, 10, 30)).allowed
    c = services.complaint_create(source=Source.REGULATOR, regulator_reference="银保监转-2026-118",
                                  customer=w.case.customer, case=w.case, category="threats",
                                  description="监管转办：催收员威胁", acting_user=w.officer, now=at(w.day, 10))
    assert c.severity == Severity.HIGH and c.is_serious
    flag = DebtorFlag.objects.get(pk=c.pause_flag_id)
    assert flag.flag == "complaint" and flag.customer_id == w.case.customer_id and flag.ends_at is None
    assert flag.source == f"complaint:{c.pk}"
    verdict = contact_decision(case=w.case, channel="phone", at=at(w.day, 10, 30))
    assert not verdict.allowed
    with pytest.raises(ContactBlockedError):
        w.call(11)
    assert not ContactAttempt.objects.filter(case=w.case).exists()
    services.complaint_add_entry(complaint=c, acting_user=w.officer, note="调取录音", now=at(w.day, 11, 30))
    services.complaint_resolve(complaint=c, acting_user=w.officer, finding="upheld", root_cause="collector_conduct",
                               resolution="已向客户道歉，催收员停止作业", remedy="道歉", now=at(w.day, 12))
    c.refresh_from_db()
    flag.refresh_from_db()
    assert c.status == Status.RESOLVED and c.pause_lifted_at == at(w.day, 12) and flag.lifted_at == at(w.day, 12)
    assert w.call(13).pk  # allowed again
    # the customer rejects the resolution: reopened, contact paused again
    services.complaint_customer_answer(complaint=c, answer=CustomerAnswer.REJECTED, acting_user=None,
                                       now=at(w.day, 14))
    c.refresh_from_db()
    assert c.status == Status.INVESTIGATING and c.pause_flag_id != flag.pk and c.pause_lifted_at is None
    assert not contact_decision(case=w.case, channel="phone", at=at(w.day, 15)).allowed


def test_raising_the_severity_pauses_contact(w):
    c = _hotline(w, category="dispute")
    assert c.pause_flag_id is None
    services.complaint_set_severity(complaint=c, severity=Severity.CRITICAL, reason="客户称被威胁",
                                    acting_user=w.officer, now=at(w.day, 10))
    c.refresh_from_db()
    assert c.pause_flag_id is not None
    assert not contact_decision(case=w.case, channel="phone", at=at(w.day, 10, 5)).allowed


def test_complaints_feed_the_agency_scorecard(w):
    month = w.day.replace(day=1)
    before = monthly_scorecard(agency=w.agency, month=month)
    for hh in (9, 10, 11, 12):
        w.call(hh, conversation=hh < 11, outcome="promise" if hh < 11 else "no_answer")
    card = monthly_scorecard(agency=w.agency, month=month)
    assert card.contacts == before.contacts + 4 and card.complaints == before.complaints
    _hotline(w, category="fees", hh=13)
    _hotline(w, category="dispute", hh=14)
    card = monthly_scorecard(agency=w.agency, month=month)
    assert card.complaints == before.complaints + 2
    assert card.complaints_per_10k == (Decimal(card.complaints) * 10_000 / card.contacts).quantize(Decimal("0.01"))
    assert selectors.complaints_per_10k_contacts(start=month, end=w.day, agency=w.agency) == card.complaints_per_10k
    # the figures the dashboards chart
    assert selectors.complaint_counts_by(by="category", start=w.day, end=w.day, agency=w.agency) == {
        "dispute": 1, "fees": 1}
    rows = selectors.complaints_per_10k_by_month(start=month, end=w.day, agency=w.agency)
    assert rows[-1].complaints == card.complaints and rows[-1].per_10k == card.complaints_per_10k
    # another agency's complaint does not count
    other = f.make_agency()
    services.complaint_create(source=Source.HOTLINE, customer=w.case.customer, agency=other, category="fees",
                              description="x", acting_user=w.officer, now=at(w.day, 15))
    assert monthly_scorecard(agency=w.agency, month=month).complaints == card.complaints


def test_feedback_score_feeds_the_scorecard(w):
    from fieldcollect.visits import services as visit_services
    from fieldcollect.visits.models import FeedbackRequest

    w.call(10)
    visit_services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23))
    fb = FeedbackRequest.objects.get()
    assert monthly_scorecard(agency=w.agency, month=w.day).feedback_score is None
    visit_services.feedback_respond(feedback=fb, rating=4, polite=True, now=at(w.day, 23, 30))
    assert monthly_scorecard(agency=w.agency, month=w.day).feedback_score == 4.0
    rows = selectors.feedback_summary(start=w.day, end=w.day, by="collector")
    assert rows[0].key == w.collector.pk and rows[0].mean_rating == 4.0 and rows[0].polite == 1.0


def test_roles_visibility_agency_response_and_audit(w, client):
    contact = w.call(10)
    c = _hotline(w, category="disclosure", hh=11)
    other_agency = f.make_agency()
    other_manager = f.make_user(role=Role.AGENCY_MANAGER, agency=other_agency)
    assert selectors.access_complaint_by_id(c.pk, w.manager).pk == c.pk
    with pytest.raises(NotFoundError):
        selectors.access_complaint_by_id(c.pk, other_manager)
    with pytest.raises(NotFoundError):
        selectors.access_complaint_by_id(c.pk, w.collector_user)
    with pytest.raises(PermissionDeniedError):  # agency managers do not handle complaints
        services.complaint_acknowledge(complaint=c, acting_user=w.manager)
    with pytest.raises(PermissionDeniedError):
        services.complaint_agency_respond(complaint=c, response="x", acting_user=other_manager)
    client.force_login(w.manager)
    page = client.get(f"/complaints/{c.pk}/").content.decode()
    assert 'id="agency-form"' in page and 'id="resolve-form"' not in page
    r = client.post(f"/complaints/{c.pk}/agency_response", {"response": "已核实通话录音，催收员未向第三方透露"})
    assert r.status_code == 302
    assert client.post(f"/complaints/{c.pk}/acknowledge").status_code == 403
    client.force_login(other_manager)
    assert client.get(f"/complaints/{c.pk}/").status_code == 404
    # the officer investigates with the linked contact, resolves; the customer accepts; the audit shows all
    client.force_login(w.officer)
    assert client.post(f"/complaints/{c.pk}/acknowledge").status_code == 302
    assert client.post(f"/complaints/{c.pk}/entry", {"note": "听录音", "contact": contact.pk}).status_code == 302
    assert client.post(f"/complaints/{c.pk}/resolve", {"finding": "not_upheld", "root_cause": "no_fault",
                                                       "resolution": "经核实未发现违规"}).status_code == 302
    assert client.post(f"/complaints/{c.pk}/answer", {"answer": "accepted"}).status_code == 302
    c.refresh_from_db()
    assert c.status == Status.CLOSED and c.customer_answer == "accepted" and c.root_cause == "no_fault"
    assert c.agency_response.startswith("已核实")
    page = client.get(f"/complaints/{c.pk}/").content.decode()
    assert f"#{contact.pk}" in page and "complaint.resolve" in page
    actions = list(AuditEntry.objects.filter(object_type="complaint", object_id=str(c.pk)).values_list(
        "action", flat=True))
    assert actions == [
        "complaint.create", "complaint.agency_response", "complaint.acknowledge", "complaint.investigate", "complaint.resolve",
        "complaint.answer"]


def test_hotline_intake_page_and_lists(w, client):
    client.force_login(w.officer)
    r = client.post("/complaints/new/", {"source": "hotline", "case_id": w.case.pk, "category": "harassment",
                                         "description": "一天打了十次电话", "severity": ""})
    assert r.status_code == 302
    c = Complaint.objects.get()
    assert c.severity == Severity.HIGH and c.pause_flag_id and c.created_by_id == w.officer.pk
    assert c.agency_id == w.agency.pk and c.collector_id == w.collector.pk
    r = client.post("/complaints/new/", {"source": "regulator", "case_id": w.case.pk, "category": "fees",
                                         "description": "x"})
    assert r.status_code == 200 and Complaint.objects.count() == 1  # a referral needs the regulator's reference
    listing = client.get("/complaints/?status=open&category=harassment").content.decode()
    assert c.reference in listing
    assert c.reference not in client.get("/complaints/?category=fees").content.decode()
    client.force_login(w.collector_user)
    assert client.get("/complaints/").status_code == 403
    assert client.post("/complaints/new/", {}).status_code == 403


@pytest.mark.parametrize("lang,word", [("zh-hans", "投诉"), ("en", "Complaint")])
def test_staff_pages_render_in_both_languages(w, client, lang, word):
    c = _hotline(w, category="privacy")
    client.cookies["django_language"] = lang
    client.force_login(w.officer)
    for url in ("/complaints/", "/complaints/queue/", f"/complaints/{c.pk}/", "/complaints/new/",
                "/complaints/feedback/", "/complaints/?overdue=1&mine=1&q=TS"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert word in r.content.decode(), url
    client.force_login(w.manager)
    assert c.reference in client.get("/complaints/").content.decode()
    assert client.get("/complaints/feedback/").status_code == 200


def test_list_and_queue_queries_do_not_grow_with_the_rows(w, client, django_assert_max_num_queries):
    client.force_login(w.officer)
    _hotline(w, category="fees")
    with django_assert_max_num_queries(30) as few:
        client.get("/complaints/")
    n1 = len(few.captured_queries)
    for hh in range(10, 20):
        _hotline(w, category="dispute", hh=hh)
    with django_assert_max_num_queries(n1) as many:
        assert client.get("/complaints/").content.decode().count('data-ref="TS') == 11
    with django_assert_max_num_queries(n1):
        client.get("/complaints/queue/")
    assert len(many.captured_queries) == n1

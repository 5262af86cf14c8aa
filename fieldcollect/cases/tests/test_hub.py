"""The case page is the hub of a case (issue 19 item 1): every role opens a case that has every kind of
fact, follows every link of the hub and of the timeline (none is refused for a role that may act), and
does not see the links it may not follow (which the target pages refuse it)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.caselibrary.models import CaseStory
from fieldcollect.cases import hub
from fieldcollect.cases.models import Case, ContactAttempt, Note, Payment, PromiseToPay, Task
from fieldcollect.complaints.models import Complaint
from fieldcollect.compliance.models import BlockedAttempt, DebtorFlag
from fieldcollect.core.models import Role, User
from fieldcollect.plans import services as plan_services
from fieldcollect.plans.tests.conftest import ensure_default_levels, make_plan_case
from fieldcollect.settlement.models import Statement, StatementLine
from fieldcollect.testing import factories as f
from fieldcollect.visits.models import Appointment, CheckIn, Evidence, FeedbackRequest, VisitReport

EVERY_KIND = {"opened", "placement", "assignment", "contact", "promise", "payment", "note", "task_done",
              "appointment", "checkin", "visit_report", "evidence", "feedback", "hardship", "proposal",
              "agreement", "settlement", "complaint", "flag", "blocked", "story"}
# what a field collector is not shown: complaints, commission statements and the case library are the
# managers' (the target pages refuse a collector)
NOT_FOR_COLLECTORS = {"complaint", "settlement", "story"}
_n = itertools.count(1)


@dataclass
class HubWorld:
    case: Case
    agency_a: Agency
    collector: Collector
    users: dict[str, User]  # role label -> user


def add_facts(case: Case, *, collector: Collector, collector_user: User, manager: User, cm: User) -> None:
    """One fact of every kind that is not made through the plan services (written directly: the test is
    about reading them)."""
    now = timezone.now()
    agency_id = case.agency_id
    k = next(_n)
    contact = ContactAttempt.objects.create(case=case, agency_id=agency_id, collector=collector, channel="phone",
                                            party="debtor", at=now - timedelta(days=9), connected=True,
                                            conversation=True, outcome="promise", recorded_by=collector_user)
    PromiseToPay.objects.create(case=case, contact=contact, agency_id=agency_id, amount_fen=50_000,
                                due_on=f.today() + timedelta(days=5), promised_on=f.today() - timedelta(days=9),
                                recorded_by=collector_user)
    Note.objects.create(case=case, author=manager, body="note")
    Task.objects.create(case=case, agency_id=agency_id, assignee=collector_user, title="call back", due_on=f.today(),
                        status=Task.Status.DONE, completed_at=now - timedelta(days=8), completed_by=collector_user)
    placement = case.placements.order_by("-id").first()
    payment = Payment.objects.create(loan=case.loan, case=case, placement=placement,
                                     paid_on=f.today() - timedelta(days=3), amount_fen=30_000,
                                     reference=f"hub-{k}")
    start = now - timedelta(days=7)
    appointment = Appointment.objects.create(
        case=case, collector=collector, windows=[[start.isoformat(), (start + timedelta(hours=1)).isoformat()]],
        chosen_start=start, chosen_end=start + timedelta(hours=1), status=Appointment.Status.CONFIRMED,
        expires_at=start, created_by=collector_user)
    checkin = CheckIn.objects.create(collector=collector, case=case, appointment=appointment, lat=31.2, lon=121.5,
                                     accuracy_m=10, at=start, distance_m=35, accepted=True)
    report = VisitReport.objects.create(case=case, collector=collector, appointment=appointment, checkin=checkin,
                                        recording=True, status=VisitReport.Status.CLOSED, outcome="promise",
                                        notes="met", closed_at=start + timedelta(minutes=40),
                                        created_by=collector_user)
    Evidence.objects.create(report=report, kind=Evidence.Kind.PHOTO, sha256=f"{k:064x}", size=2048,
                            content_type="image/jpeg", uploaded_by=collector_user)
    feedback = FeedbackRequest.objects.create(case=case, report=report, channel="visit", collector=collector,
                                              agency_id=agency_id, expires_at=now + timedelta(days=5),
                                              responded_at=now - timedelta(days=6), rating=2, polite=True)
    statement, _ = Statement.objects.get_or_create(agency_id=agency_id, month=f.today().replace(day=1))
    assert placement is not None
    StatementLine.objects.create(statement=statement, payment=payment, placement=placement, case_id=case.pk,
                                 paid_on=payment.paid_on, amount_fen=payment.amount_fen, bucket=case.bucket,
                                 rate="0.1200", commission_fen=3_600)
    Complaint.objects.create(reference=f"CP-HUB-{k}", source="customer_link", customer=case.customer, case=case,
                             agency_id=agency_id, collector=collector, feedback=feedback, category="fees",
                             severity="low", description="too many calls", received_at=now - timedelta(days=5),
                             acknowledge_due_at=now + timedelta(days=1), resolve_due_at=now + timedelta(days=15))
    DebtorFlag.objects.create(customer=case.customer, flag="dispute", starts_at=now - timedelta(days=4),
                              ends_at=now - timedelta(days=2), reason="disputed the amount", created_by=cm)
    BlockedAttempt.objects.create(at=now - timedelta(days=3), user=collector_user, agency_id=agency_id, case=case,
                                  customer=case.customer, channel="phone", party="debtor", path="page",
                                  rule_ids=["hours"], explanation="Outside contact hours",
                                  explanation_zh="不在联系时间内")
    CaseStory.objects.create(title=f"Story {k}", result="success", case=case, agency_id=agency_id,
                             what_was_tried="a visit", created_by=manager)


@pytest.fixture
def hw(db: None, settings: Any) -> Iterator[HubWorld]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    plan_services.set_pdf_renderer(lambda data: b"%PDF-1.4 test " + data.agreement_no.encode())
    ensure_default_levels()
    agency_a, agency_b = f.make_agency(), f.make_agency()
    f.make_contract(agency=agency_a)
    f.make_contract(agency=agency_b)
    manager_a = f.make_user(role=Role.AGENCY_MANAGER, agency=agency_a)
    manager_b = f.make_user(role=Role.AGENCY_MANAGER, agency=agency_b)
    cu, collector = f.make_collector_user(agency=agency_a)
    cu_other, _c2 = f.make_collector_user(agency=agency_a)
    cu_b, _cb = f.make_collector_user(agency=agency_b)
    bank = {role: f.make_user(role=role) for role in
            (Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR)}
    cm = bank[Role.COLLECTIONS_MANAGER]
    case = make_plan_case(agency=agency_a, manager=manager_a, collector=collector, cm=cm)
    add_facts(case, collector=collector, collector_user=cu, manager=manager_a, cm=cm)
    # a plan through its services: hardship, proposal, endorsement, approval, offer, the customer's acceptance
    plan_services.hardship_record(case=case, acting_user=cu, reason="job_loss", monthly_income_fen=800_000,
                                  monthly_expenses_fen=500_000)
    p = plan_services.plan_propose(case=case, acting_user=cu, kind="term_extension")
    p = plan_services.plan_endorse(proposal=p, acting_user=manager_a)
    p = plan_services.plan_decide(proposal=p, acting_user=cm, decision="approve")
    offer = plan_services.plan_offer(proposal=p, acting_user=cm)
    plan_services.plan_accept(token=offer.token)
    case.refresh_from_db()
    users = {str(role): u for role, u in bank.items()} | {
        "agency_manager": manager_a, "field_collector": cu, "other_collector_same_agency": cu_other,
        "other_agency_collector": cu_b, "other_agency_manager": manager_b}
    yield HubWorld(case=case, agency_a=agency_a, collector=collector, users=users)
    plan_services.set_pdf_renderer(None)


class _Links(HTMLParser):
    """The hrefs inside the elements with the given ids (the hub, the timeline and its pager), and the
    ``data-kind`` of each timeline entry."""

    def __init__(self, ids: set[str]) -> None:
        super().__init__()
        self.ids = ids
        self.depth = 0  # > 0 inside one of the elements
        self.links: list[tuple[str, str, str]] = []  # (href, data-hub key, class)
        self.kinds: set[str] = set()
        self.element_ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.element_ids.add(a["id"] or "")
        if self.depth:
            self.depth += 1
        elif a.get("id") in self.ids:
            self.depth = 1
        if self.depth and tag == "a" and a.get("href"):
            self.links.append((a["href"] or "", a.get("data-hub") or "", a.get("class") or ""))
        if self.depth and a.get("data-kind"):
            self.kinds.add(a["data-kind"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)


def parse(html: str) -> _Links:
    p = _Links({"hub", "timeline", "timeline-pager"})
    p.feed(html)
    return p


def client_for(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def absolute(href: str, page: str) -> str:
    return f"{page}{href}" if href.startswith("?") else href


# the actions each role is offered on an open case held by agency A and assigned to its collector
EXPECTED_ACTIONS = {
    "collections_manager": {"contact", "promise", "hardship", "complaint_new", "flag_add"},
    "compliance_officer": {"complaint_new", "flag_add"},
    "risk_analyst": set(),
    "auditor": set(),
    "agency_manager": {"contact", "promise", "hardship", "flag_add"},
    "field_collector": {"contact", "promise", "propose", "checkin", "report", "hardship", "flag_add"},
}
SEES_THE_CASE = set(EXPECTED_ACTIONS)


@pytest.mark.django_db
def test_every_role_follows_every_link_of_the_hub_and_the_timeline(hw: HubWorld) -> None:
    case_url = reverse("cases:detail", args=[hw.case.pk])
    shown: dict[str, set[str]] = {}
    for label, user in hw.users.items():
        c = client_for(user)
        r = c.get(case_url)
        if label not in SEES_THE_CASE:  # another agency's people, a collector the case is not given to
            assert r.status_code == 404, label
            continue
        assert r.status_code == 200, label
        page = parse(r.content.decode())
        acts = {key for _h, key, cls in page.links if "hub-act" in cls}
        assert acts == EXPECTED_ACTIONS[label], label
        # every kind of fact is in the timeline (a collector is not shown the managers' records)
        expected_kinds = EVERY_KIND - (NOT_FOR_COLLECTORS if user.role == Role.FIELD_COLLECTOR else set())
        assert page.kinds >= expected_kinds, (label, expected_kinds - page.kinds)
        assert not page.kinds & (NOT_FOR_COLLECTORS if user.role == Role.FIELD_COLLECTOR else set()), label
        shown[label] = set()
        for href, key, cls in page.links:
            url, fragment = urldefrag(absolute(href, case_url))
            if "hub-act" not in cls:  # the pages a role may read (its actions are checked above)
                shown[label].add(url)
            target = c.get(url)
            assert target.status_code == 200, (label, key, href, target.status_code)
            if fragment:  # the link lands on the form or the record it names
                assert fragment in parse(target.content.decode()).element_ids, (label, key, href)
    # a page some role is shown a link to and another is not: the page refuses the other one
    every = set().union(*shown.values())
    for label, urls in shown.items():
        c = client_for(hw.users[label])
        for url in every - urls:
            assert c.get(url).status_code in (403, 404), (label, url)


@pytest.mark.django_db
def test_an_auditor_is_offered_no_action_and_a_collector_no_manager_page(hw: HubWorld) -> None:
    html = client_for(hw.users["auditor"]).get(reverse("cases:detail", args=[hw.case.pk])).content.decode()
    page = parse(html)
    assert page.links and not [key for _h, key, cls in page.links if "hub-act" in cls]
    assert 'id="contact-form"' not in html and 'id="promise-form"' not in html
    html = client_for(hw.users["field_collector"]).get(reverse("cases:detail", args=[hw.case.pk])).content.decode()
    hrefs = [h for h, _k, _c in parse(html).links]
    assert not [h for h in hrefs if h.startswith(("/complaints/", "/settlement/", "/library/"))]


@pytest.mark.django_db
def test_a_closed_case_offers_a_library_story_to_its_writers_only(hw: HubWorld) -> None:
    Case.objects.filter(pk=hw.case.pk).update(closed_on=f.today(), status="closed", close_reason="paid")
    hw.case.refresh_from_db()
    url = reverse("cases:detail", args=[hw.case.pk])
    for label in ("collections_manager", "agency_manager"):
        c = client_for(hw.users[label])
        links = {key: href for href, key, _c in parse(c.get(url).content.decode()).links}
        assert "story_new" in links and "contact" not in links and "checkin" not in links
        assert c.get(links["story_new"]).status_code == 200
    for label in ("auditor", "field_collector"):
        keys = {key for _h, key, _c in parse(client_for(hw.users[label]).get(url).content.decode()).links}
        assert "story_new" not in keys and "propose" not in keys


@pytest.mark.django_db
def test_the_page_reads_a_fixed_number_of_queries_whatever_the_history(hw: HubWorld) -> None:
    users = hw.users
    c = client_for(users["collections_manager"])
    url = reverse("cases:detail", args=[hw.case.pk])
    c.get(url)  # warm the per-process caches (rule pack, authority matrix)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _ in range(3):
        add_facts(hw.case, collector=hw.collector, collector_user=users["field_collector"],
                  manager=users["agency_manager"], cm=users["collections_manager"])
    assert count() == before


@pytest.mark.django_db
def test_a_long_history_is_paged(hw: HubWorld) -> None:
    url = reverse("cases:detail", args=[hw.case.pk])
    user = hw.users["collections_manager"]
    now = timezone.now()
    ContactAttempt.objects.bulk_create([
        ContactAttempt(case=hw.case, channel="sms", party="debtor", at=now - timedelta(days=10, minutes=i),
                       outcome="no_answer", recorded_by=user) for i in range(hub.TIMELINE_PAGE + 5)])
    first = hub.hub_timeline(case=hw.case, user=user)
    assert len(first.events) == hub.TIMELINE_PAGE and first.has_more and first.next_page == 2
    second = hub.hub_timeline(case=hw.case, user=user, page=2)
    assert second.previous_page == 1 and second.events[0].at <= first.events[-1].at
    assert not {id(e.obj) for e in first.events} & {id(e.obj) for e in second.events}
    c = client_for(user)
    html = c.get(url).content.decode()
    assert "?timeline=2" in html
    assert c.get(url, {"timeline": "2"}).status_code == 200
    # a page that is not a number, or past the cap, is a 400 naming it
    r = c.get(url, {"timeline": "x"})
    assert r.status_code == 400
    assert c.get(url, {"timeline": str(hub.TIMELINE_MAX_PAGES + 1)}).status_code == 400


@pytest.mark.django_db
def test_another_agencys_field_work_is_not_in_an_agency_timeline(hw: HubWorld) -> None:
    """The case held before by agency B: B's visit is the bank's to see, not agency A's."""
    agency_b = Agency.objects.exclude(pk=hw.agency_a.pk).order_by("-pk").first()
    assert agency_b is not None
    other = f.make_collector(agency=agency_b)
    now = timezone.now()
    CheckIn.objects.create(collector=other, case=hw.case, lat=31.2, lon=121.5, at=now - timedelta(days=30),
                           accepted=True)
    bank = [e for e in hub.hub_timeline(case=hw.case, user=hw.users["auditor"]).events if e.kind == "checkin"]
    mine = [e for e in hub.hub_timeline(case=hw.case, user=hw.users["agency_manager"]).events
            if e.kind == "checkin"]
    assert {e.obj.collector_id for e in bank} == {hw.collector.pk, other.pk}
    assert {e.obj.collector_id for e in mine} == {hw.collector.pk}


def test_hub_links_are_built_only_from_named_rules() -> None:
    """The template renders the list; it names no role (the rules live in the selectors)."""
    from pathlib import Path

    html = (Path(hub.__file__).parent / "templates" / "cases" / "case_detail.html").read_text()
    nav = html[html.index('id="hub"'):html.index("</nav>")]
    assert "role" not in nav and "is_bank_user" not in nav and "is_agency_user" not in nav

"""The case page is the hub of a case (issue 19 item 1): every role opens a case that has every kind of
fact, follows every link of the hub and of the timeline (none is refused for a role that may act), and
does not see the links it may not follow (which the target pages refuse it)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fieldcollect.agencies.models import Agency
from fieldcollect.cases import hub
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.cases.tests.conftest import HubWorld, add_facts
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in
from fieldcollect.visits.models import CheckIn

EVERY_KIND = {"opened", "placement", "assignment", "contact", "promise", "payment", "note", "task_done",
              "appointment", "checkin", "visit_report", "evidence", "feedback", "hardship", "proposal",
              "agreement", "settlement", "complaint", "flag", "blocked", "story"}
# what a field collector is not shown: complaints, commission statements and the case library are the
# managers' (the target pages refuse a collector)
NOT_FOR_COLLECTORS = {"complaint", "settlement", "story"}


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


def absolute(href: str, page: str) -> str:
    return f"{page}{href}" if href.startswith("?") else href


# the actions each role is offered on an open case held by agency A and assigned to its collector
EXPECTED_ACTIONS = {
    "collections_manager": {"contact", "promise", "hardship", "complaint_new", "flag_add", "note", "task", "recall",
                            "close", "letter", "alt_contact", "refer"},
    "compliance_officer": {"complaint_new", "flag_add", "note"},
    "risk_analyst": set(),
    "auditor": set(),
    "agency_manager": {"contact", "promise", "hardship", "flag_add", "note", "task", "assign", "letter", "alt_contact"},
    "field_collector": {"contact", "promise", "propose", "checkin", "report", "hardship", "flag_add", "note",
                        "task", "letter", "alt_contact"},
}
SEES_THE_CASE = set(EXPECTED_ACTIONS)


@pytest.mark.django_db
def test_every_role_follows_every_link_of_the_hub_and_the_timeline(hw: HubWorld) -> None:
    case_url = reverse("cases:detail", args=[hw.case.pk])
    shown: dict[str, set[str]] = {}
    for label, user in hw.users.items():
        c = logged_in(user)
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
        c = logged_in(hw.users[label])
        for url in every - urls:
            assert c.get(url).status_code in (403, 404), (label, url)


@pytest.mark.django_db
def test_an_auditor_is_offered_no_action_and_a_collector_no_manager_page(hw: HubWorld) -> None:
    html = logged_in(hw.users["auditor"]).get(reverse("cases:detail", args=[hw.case.pk])).content.decode()
    page = parse(html)
    assert page.links and not [key for _h, key, cls in page.links if "hub-act" in cls]
    assert 'id="contact-form"' not in html and 'id="promise-form"' not in html
    html = logged_in(hw.users["field_collector"]).get(reverse("cases:detail", args=[hw.case.pk])).content.decode()
    hrefs = [h for h, _k, _c in parse(html).links]
    assert not [h for h in hrefs if h.startswith(("/complaints/", "/settlement/", "/library/"))]


@pytest.mark.django_db
def test_a_closed_case_offers_a_library_story_to_its_writers_only(hw: HubWorld) -> None:
    Case.objects.filter(pk=hw.case.pk).update(closed_on=f.today(), status="closed", close_reason="paid")
    hw.case.refresh_from_db()
    url = reverse("cases:detail", args=[hw.case.pk])
    for label in ("collections_manager", "agency_manager"):
        c = logged_in(hw.users[label])
        links = {key: href for href, key, _c in parse(c.get(url).content.decode()).links}
        assert "story_new" in links and "contact" not in links and "checkin" not in links
        assert c.get(links["story_new"]).status_code == 200
    for label in ("auditor", "field_collector"):
        keys = {key for _h, key, _c in parse(logged_in(hw.users[label]).get(url).content.decode()).links}
        assert "story_new" not in keys and "propose" not in keys


@pytest.mark.django_db
def test_the_page_reads_a_fixed_number_of_queries_whatever_the_history(hw: HubWorld) -> None:
    users = hw.users
    c = logged_in(users["collections_manager"])
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
    c = logged_in(user)
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


@pytest.mark.django_db
def test_file_a_complaint_from_the_case_fills_in_the_case(hw: HubWorld) -> None:
    c = logged_in(hw.users["compliance_officer"])
    links = {key: href for href, key, _c in parse(c.get(reverse("cases:detail", args=[hw.case.pk]))
                                                  .content.decode()).links}
    html = c.get(links["complaint_new"]).content.decode()
    assert f'name="case_id" value="{hw.case.pk}"' in html
    assert c.get(reverse("complaints:new"), {"case": "abc"}).status_code == 400

"""Plan pages through the Django test client: who sees what, forms, the customer's signed link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.plans import services
from fieldcollect.plans.models import Hardship, PlanInstalment, ProposalState, RestructuringProposal
from fieldcollect.plans.tests.conftest import record_hardship
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


def _offered(w, kind: str = "term_extension"):
    record_hardship(w)
    p = services.plan_propose(case=w.case, acting_user=w.collector_user, kind=kind)
    p = services.plan_endorse(proposal=p, acting_user=w.manager_a)
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    return p, services.plan_offer(proposal=p, acting_user=w.approver)


def test_collector_records_hardship_compares_and_proposes(plan_world):
    w = plan_world
    c = logged_in(w.collector_user)
    url = reverse("plans:options", args=[w.case.pk])
    page = c.get(url)
    assert page.status_code == 200
    assert 'id="hardship-form"' in page.content.decode() and 'id="options"' not in page.content.decode()
    r = c.post(reverse("plans:hardship", args=[w.case.pk]),
               {"reason": "job_loss", "monthly_income": "8000.00", "monthly_expenses": "5000", "detail": "公司裁员"})
    assert r.status_code == 302
    h = Hardship.objects.get(case=w.case)
    assert (h.monthly_income_fen, h.monthly_expenses_fen, h.recorded_by) == (800_000, 500_000, w.collector_user)
    html = c.get(url).content.decode()
    # zh-Hans by default: the option names, the figures and a propose button per option
    for label in ("延长期限", "降低月供", "延期还款", "一次性结清"):
        assert label in html
    assert html.count('name="kind"') == 6 and "1,500.00" in html  # the affordable instalment
    r = c.post(reverse("plans:propose", args=[w.case.pk]), {"kind": "lower_instalment"})
    p = RestructuringProposal.objects.get(case=w.case)
    assert r.status_code == 302 and r["Location"] == reverse("plans:detail", args=[p.pk])
    assert p.maker == w.collector_user and p.kind == "lower_instalment"
    html = c.get(url).content.decode()
    assert 'id="open-proposal"' in html and 'name="kind"' not in html


def test_option_page_in_english(plan_world):
    w = plan_world
    record_hardship(w)
    c = logged_in(w.collector_user)
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = c.get(reverse("plans:options", args=[w.case.pk])).content.decode()
    assert "Term extension" in html and "Lower instalment" in html and "Propose this plan" in html


def test_others_cannot_see_or_propose(plan_world):
    w = plan_world
    record_hardship(w)
    other = logged_in(w.collector_user_b)
    assert other.get(reverse("plans:options", args=[w.case.pk])).status_code == 404
    assert other.post(reverse("plans:propose", args=[w.case.pk]), {"kind": "term_extension"}).status_code == 404
    same_agency = logged_in(w.other_collector_user)  # not assigned to this case: it is invisible
    assert same_agency.get(reverse("plans:options", args=[w.case.pk])).status_code == 404
    assert not RestructuringProposal.objects.exists()
    # the manager sees the options but has no propose button
    html = logged_in(w.manager_a).get(reverse("plans:options", args=[w.case.pk])).content.decode()
    assert 'id="options"' in html and 'name="kind"' not in html


def test_queue_endorse_approve_offer_through_pages(plan_world):
    w = plan_world
    record_hardship(w)
    p = services.plan_propose(case=w.case, acting_user=w.collector_user, kind="term_extension")
    mgr = logged_in(w.manager_a)
    html = mgr.get(reverse("plans:queue")).content.decode()
    assert f'data-proposal="{p.pk}"' in html and 'value="endorse"' in html
    # the other agency's manager neither sees it nor may endorse it
    other = logged_in(w.manager_b)
    assert f'data-proposal="{p.pk}"' not in other.get(reverse("plans:queue")).content.decode()
    assert other.post(reverse("plans:endorse", args=[p.pk]), {"decision": "endorse"}).status_code == 404
    mgr.post(reverse("plans:endorse", args=[p.pk]), {"decision": "endorse", "version": p.version})
    p.refresh_from_db()
    assert p.state == ProposalState.ENDORSED
    bank = logged_in(w.approver)
    html = bank.get(reverse("plans:queue")).content.decode()
    assert f'data-proposal="{p.pk}"' in html and 'value="approve"' in html and 'id="my-limits"' in html
    bank.post(reverse("plans:decide", args=[p.pk]), {"decision": "approve", "version": p.version})
    p.refresh_from_db()
    assert p.state == ProposalState.APPROVED
    r = bank.post(reverse("plans:offer", args=[p.pk]), follow=True)
    p.refresh_from_db()
    assert p.state == ProposalState.OFFERED
    html = r.content.decode()
    assert 'id="customer-link"' not in html and "/plans/a/" not in html  # the link goes to the customer only
    assert 'id="link-sent"' in html


def test_collector_cannot_decide_and_stale_form_is_refused(plan_world):
    w = plan_world
    record_hardship(w)
    p = services.plan_propose(case=w.case, acting_user=w.collector_user, kind="term_extension")
    c = logged_in(w.collector_user)
    r = c.post(reverse("plans:endorse", args=[p.pk]), {"decision": "endorse"}, follow=True)
    assert "无权" in r.content.decode()  # role not allowed (and the maker may not check)
    mgr = logged_in(w.manager_a)
    mgr.post(reverse("plans:endorse", args=[p.pk]), {"decision": "endorse", "version": p.version + 5})
    p.refresh_from_db()
    assert p.state == ProposalState.PROPOSED


def test_customer_page_accept_and_pdf(plan_world):
    w = plan_world
    p, offer = _offered(w)
    c = Client()  # no account
    url = reverse("plans:customer", args=[offer.token])
    page = c.get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert "您的新还款计划" in html and "延长期限" in html  # zh-Hans first, whatever the browser says
    assert html.count("<tr>") == len(p.schedule) + 1
    assert w.case.customer.name not in html  # masked
    pdf = c.get(reverse("plans:customer_pdf", args=[offer.token]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf["X-Content-SHA256"] == offer.agreement.sha256
    # accepting needs the confirmation box
    c.post(reverse("plans:customer_accept", args=[offer.token]), {})
    p.refresh_from_db()
    assert p.state == ProposalState.OFFERED
    r = c.post(reverse("plans:customer_accept", args=[offer.token]), {"confirm": "on"})
    assert r.status_code == 200 and 'data-accepted="1"' in r.content.decode()
    p.refresh_from_db()
    w.case.refresh_from_db()
    assert p.state == ProposalState.ACCEPTED and w.case.status == CaseStatus.RESTRUCTURED
    assert PlanInstalment.objects.filter(proposal=p).count() == len(p.schedule)
    again = c.get(url).content.decode()
    assert 'id="answered"' in again and 'id="accept-form"' not in again


def test_tampered_and_expired_links_get_a_clear_page(plan_world, monkeypatch):
    w = plan_world
    _p, offer = _offered(w)
    c = Client()
    bad = offer.token[:-2] + ("xx" if not offer.token.endswith("xx") else "yy")
    for path in ("plans:customer", "plans:customer_pdf"):
        r = c.get(reverse(path, args=[bad]))
        assert r.status_code == 400 and 'data-reason="invalid"' in r.content.decode()
        assert "链接无效" in r.content.decode()
    r = c.post(reverse("plans:customer_accept", args=[bad]), {"confirm": "on"})
    assert r.status_code == 400
    later = offer.agreement.expires_at + timedelta(minutes=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    r = c.get(reverse("plans:customer", args=[offer.token]))
    assert r.status_code == 410 and 'data-reason="expired"' in r.content.decode() and "已过期" in r.content.decode()
    r = c.post(reverse("plans:customer_accept", args=[offer.token]), {"confirm": "on"})
    assert r.status_code == 410
    _p.refresh_from_db()
    assert _p.state == ProposalState.OFFERED


def test_customer_declines_through_the_page(plan_world):
    w = plan_world
    p, offer = _offered(w)
    r = Client().post(reverse("plans:customer_decline", args=[offer.token]), {"reason": "不需要"})
    assert r.status_code == 200 and 'data-accepted="0"' in r.content.decode()
    p.refresh_from_db()
    assert p.state == ProposalState.DECLINED


def test_plan_detail_visibility(plan_world):
    w = plan_world
    record_hardship(w)
    p = services.plan_propose(case=w.case, acting_user=w.collector_user, kind="term_extension")
    assert logged_in(w.collector_user).get(reverse("plans:detail", args=[p.pk])).status_code == 200
    assert logged_in(w.approver).get(reverse("plans:detail", args=[p.pk])).status_code == 200
    assert logged_in(w.manager_b).get(reverse("plans:detail", args=[p.pk])).status_code == 404
    assert logged_in(w.collector_user_b).get(reverse("plans:detail", args=[p.pk])).status_code == 404
    assert Client().get(reverse("plans:queue")).status_code == 302  # login required


def test_acceptance_records_the_client_address_behind_a_trusted_proxy(plan_world, settings):
    """Behind the reverse proxy the peer is the proxy: the acceptance records the customer's address
    (``client_ip``, which honours ``FIELDCOLLECT_TRUSTED_PROXIES``), not the proxy's."""
    w = plan_world
    p, offer = _offered(w)
    settings.FIELDCOLLECT_TRUSTED_PROXIES = ["10.9.9.9"]
    r = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.7").post(
        reverse("plans:customer_accept", args=[offer.token]), {"confirm": "on"})
    assert r.status_code == 200
    note = p.events.get(action="accept").note
    assert "ip=198.51.100.7" in note and "10.9.9.9" not in note

"""In a real browser (Debian chromium) on a phone-sized screen (390×844): the collector compares the
options and proposes one; the customer opens the signed link, reads the schedule and accepts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fieldcollect.cases.lifecycle import CaseStatus
from fieldcollect.plans import services
from fieldcollect.plans.models import ProposalState, RestructuringProposal
from fieldcollect.plans.tests.conftest import record_hardship
from fieldcollect.testing.browser import BROWSER_TEST, PHONE, log_in, open_page

pytestmark = BROWSER_TEST


@pytest.fixture
def phone(browser):
    page, _, _ = open_page(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                           locale="en-US")
    return page


def _shot(page, name: str) -> None:
    """Full-page screenshot into $PLANS_SCREENSHOTS (for a human look), when set."""
    folder = os.environ.get("PLANS_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_collector_compares_options_on_a_phone_and_proposes(live_server, plan_world, phone):
    w = plan_world
    record_hardship(w)
    page = phone
    log_in(page, url=live_server.url, username=w.collector_user.username)
    page.goto(f"{live_server.url}/plans/case/{w.case.pk}/options")
    cards = page.locator("#options article.option")
    assert cards.count() == 7  # the current contract and six options
    assert "方案对比" in page.locator("h2").first.inner_text() or "方案对比" in page.content()
    assert _no_horizontal_scroll(page)
    _shot(page, "options_390")
    # stacked on a phone: one card per row, each nearly the full width
    boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
    assert all(b is not None and b["width"] > 300 and b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
    assert len({round(b["x"]) for b in boxes}) == 1
    assert all(boxes[i + 1]["y"] > boxes[i]["y"] for i in range(len(boxes) - 1))
    card = page.locator('article.option[data-kind="lower_instalment"]')
    text = card.inner_text()
    for label in ("新月供", "期限（月）", "客户还款总额", "减免", "银行损失（现值）", "预期回收"):
        assert label in text
    button = card.locator("button[type=submit]")
    button.scroll_into_view_if_needed()
    assert button.is_visible() and button.bounding_box()["height"] >= 30
    with page.expect_navigation():
        button.click()
    p = RestructuringProposal.objects.get(case=w.case)
    assert p.kind == "lower_instalment" and p.state == ProposalState.PROPOSED
    assert page.url.endswith(f"/plans/{p.pk}/")
    assert "已提议" in page.locator("#plan-state").inner_text()


def test_customer_accepts_through_the_link_on_a_phone(live_server, plan_world, phone):
    w = plan_world
    record_hardship(w)
    p = services.plan_propose(case=w.case, acting_user=w.collector_user, kind="term_extension")
    p = services.plan_endorse(proposal=p, acting_user=w.manager_a)
    p = services.plan_decide(proposal=p, acting_user=w.approver, decision="approve")
    offer = services.plan_offer(proposal=p, acting_user=w.approver)
    page = phone
    # a tampered link is refused with a clear page
    page.goto(f"{live_server.url}/plans/a/{offer.token[:-4]}zzzz/")
    assert page.locator("#link-refused").get_attribute("data-reason") == "invalid"
    assert "此链接无效" in page.locator("h1").inner_text()

    page.goto(f"{live_server.url}/plans/a/{offer.token}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"  # zh-Hans first, even for an English phone
    assert "您的新还款计划" in page.locator("h1").inner_text()
    assert page.locator("#schedule tbody tr").count() == len(p.schedule)
    assert _no_horizontal_scroll(page)
    assert page.locator("#download-pdf").is_visible()
    _shot(page, "customer_390")
    accept = page.locator("#accept-form button[type=submit]")
    accept.scroll_into_view_if_needed()
    accept.click()  # without the confirmation box the browser does not submit
    assert page.locator("#accept-form").count() == 1
    page.locator("#accept-form input[name=confirm]").check()
    with page.expect_navigation():
        accept.click()
    assert page.locator("#customer-done").get_attribute("data-accepted") == "1"
    assert "新还款计划已生效" in page.locator("h1").inner_text()
    p.refresh_from_db()
    w.case.refresh_from_db()
    assert p.state == ProposalState.ACCEPTED and w.case.status == CaseStatus.RESTRUCTURED

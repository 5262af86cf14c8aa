"""End to end in a real browser (Debian chromium): a collector logs in, records an outcome and a
promise, in Chinese (the default) and in English."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fieldcollect.cases.models import ContactAttempt, PromiseToPay
from fieldcollect.testing import factories as f
from fieldcollect.testing.browser import BROWSER_TEST, log_in, open_page

pytestmark = BROWSER_TEST

TEXT = {
    "zh-hans": {"saved_contact": "联系记录已保存。", "saved_promise": "还款承诺已保存。", "status": "承诺还款",
                "outcome": "承诺还款"},
    "en": {"saved_contact": "Contact recorded.", "saved_promise": "Promise recorded.", "status": "Promise to pay",
           "outcome": "Promise to pay"},
}


@pytest.fixture
def browser_page(browser):
    page, _, _ = open_page(browser)
    return page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_collector_records_outcome_and_promise(live_server, world, browser_page, language):
    page = browser_page
    text = TEXT[language]
    case = world.case_a1
    log_in(page, url=live_server.url, username=world.collector_user_a1.username,
           language=None if language == "zh-hans" else language)
    assert page.url.endswith("/cases/")
    # the collector sees their case and only theirs
    assert page.locator(f'a[href="/cases/{case.pk}/"]').count() == 1
    assert page.locator(f'a[href="/cases/{world.case_a2.pk}/"]').count() == 0
    page.click(f'a[href="/cases/{case.pk}/"]')
    page.wait_for_url(f"**/cases/{case.pk}/")

    form = page.locator("#contact-form")
    form.locator("select[name=channel]").select_option("phone")
    form.locator("select[name=outcome]").select_option("promise")
    # 10:00 today: inside the contact hours whenever the test runs (the compliance check refuses night calls)
    form.locator("input[name=at]").fill(f"{f.today().isoformat()}T10:00")
    form.locator("input[name=conversation]").check()
    form.locator("textarea[name=notes]").fill("客户答应月底前还款")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert text["saved_contact"] in page.locator(".messages").inner_text()
    assert text["outcome"] in page.locator("#timeline").inner_text()

    due = (f.today() + timedelta(days=7)).isoformat()
    form = page.locator("#promise-form")
    form.locator("input[name=amount]").fill("1500.50")
    form.locator("input[name=due_on]").fill(due)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert text["saved_promise"] in page.locator(".messages").inner_text()
    assert page.locator("#case-status").inner_text().strip() == text["status"]
    assert "1,500.50" in page.locator("#timeline").inner_text()

    contact = ContactAttempt.objects.get(case=case)
    assert contact.outcome == "promise" and contact.conversation and contact.collector_id == world.collector_a1.pk
    promise = PromiseToPay.objects.get(case=case)
    assert promise.amount_fen == 150_050 and promise.due_on.isoformat() == due

"""In a real browser (Debian chromium) on a phone-sized screen (390×844): the customer answers the
feedback link, says they felt threatened, is offered a complaint, files it, sees that contact is
paused, and later accepts the bank's resolution; the same pages in English; a tampered link is
refused. No console errors, nothing wider than the screen."""

from __future__ import annotations

import pytest

from fieldcollect.complaints import services as complaint_services
from fieldcollect.complaints.models import Complaint
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.testing.browser import BROWSER_TEST, PHONE, open_page
from fieldcollect.visits import services as visit_services

from .conftest import at

pytestmark = BROWSER_TEST


@pytest.fixture
def phone(browser):
    return open_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_feedback_then_complaint_on_a_phone(live_server, w, phone):
    page, context, errors = phone
    w.call(10)
    visit_services.feedback_requests_for_conversations(as_of=w.day, now=at(w.day, 23))
    body = OutboxMessage.objects.get(kind="feedback").body
    token = body.rsplit("/f/", 1)[1].strip().rstrip("/")

    page.goto(f"{live_server.url}/visits/f/{token}/")
    assert page.locator("h1").inner_text() == "您对本次沟通满意吗？"
    _fits(page)
    star = page.locator(".stars label").first.bounding_box()
    assert star is not None and star["height"] >= 40  # large enough to tap
    page.locator("input[name=rating][value='1']").check()
    page.locator("input[name=polite][value='no']").check()
    page.locator("input[name=felt_threatened][value='yes']").check()
    page.locator("textarea[name=comment]").fill("他说要去我单位")
    with page.expect_navigation():
        page.locator("#feedback-form button[type=submit]").click()
    assert page.locator("#thanks").is_visible() and page.locator("#complaint-offer").is_visible()
    _fits(page)
    button = page.locator("#file-complaint").bounding_box()
    assert button is not None and button["width"] > 300 and button["height"] >= 40
    with page.expect_navigation():
        page.locator("#file-complaint").click()
    assert page.locator("h1").inner_text() == "提交投诉"
    _fits(page)
    page.locator("input[name=category][value='threats']").check()
    page.locator("textarea[name=description]").fill("昨天上午电话里威胁说要去我单位找领导")
    with page.expect_navigation():
        page.locator("#complaint-form button[type=submit]").click()
    c = Complaint.objects.get()
    assert c.reference in page.locator("#complaint-received").inner_text()
    assert page.locator("#paused").is_visible()  # serious: contact is paused at once
    _fits(page)

    complaint_services.complaint_resolve(complaint=c, acting_user=w.officer, finding="upheld",
                                        root_cause="collector_conduct", resolution="已核实录音，向您致歉，该催收员已停止作业。")
    # the resolution comes with a fresh link by SMS (the link of the feedback may have expired by then)
    sms = OutboxMessage.objects.filter(kind="complaint").latest("id").body
    assert c.reference in sms
    new_token = sms.rsplit("/c/", 1)[1].strip().rstrip("/")
    page.reload()
    assert page.locator("#link-refused").get_attribute("data-reason") == "invalid"  # the old link is replaced
    token = new_token
    page.goto(f"{live_server.url}/complaints/c/{token}/")
    assert "已核实录音" in page.locator("#resolution").inner_text()
    page.locator("input[name=answer][value='accepted']").check()
    with page.expect_navigation():
        page.locator("#answer-form button[type=submit]").click()
    assert page.locator("#closed").is_visible()
    c.refresh_from_db()
    assert c.status == "closed" and c.customer_answer == "accepted"

    # the same pages in English
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/complaints/c/{token}/")
    assert page.locator("h1").inner_text() == "Your complaint"
    page.goto(f"{live_server.url}/visits/f/{token}/")
    assert page.locator("h1").inner_text() == "How was your conversation with us?"
    assert page.locator("#complaint-offer").is_visible()
    _fits(page)
    # a tampered link
    page.goto(f"{live_server.url}/complaints/c/{token[:-5]}XXXXX/")
    assert page.locator("#link-refused").get_attribute("data-reason") == "invalid"
    assert [e for e in errors if "404" not in e] == []

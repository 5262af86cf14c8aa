"""In a real browser (Debian chromium): the customer confirms an appointment on a phone-sized screen
(390×844) through the signed link, a tampered link is refused, and the collector's day plan shows the
ordered stops on a map."""

from __future__ import annotations

from fieldcollect.testing.browser import BROWSER_TEST, log_in
from fieldcollect.visits import services
from fieldcollect.visits.models import Appointment
from fieldcollect.visits.tests.conftest import at, plan_day

pytestmark = BROWSER_TEST


def test_customer_confirms_on_a_phone(live_server, vw, browser):
    appointment, token = services.appointment_propose(
        case=vw.case1, acting_user=vw.user1,
        windows=[(at(vw.day, 10), at(vw.day, 12)), (at(vw.day, 15), at(vw.day, 17))])
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/visits/a/{token}/")
    assert page.locator("h1").inner_text() == "您的上门预约"
    # phone-first: nothing wider than the screen, the buttons are full width and large enough to tap
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    button = page.locator("#confirm-form button[type=submit]").bounding_box()
    assert button is not None and button["width"] > 300 and button["height"] >= 40
    page.locator("#confirm-form input[name=window][value='1']").check()
    with page.expect_navigation():
        page.locator("#confirm-form button[type=submit]").click()
    assert "15:00–17:00" in page.locator("#confirmed-time").inner_text()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED and appointment.chosen_start == at(vw.day, 15)
    page.goto(f"{live_server.url}/visits/a/{token[:-5]}XXXXX/")
    assert page.locator("#link-refused").get_attribute("data-reason") == "invalid"
    context.close()


def test_collector_day_plan(live_server, vw, browser):
    plan_day(vw, appointments=((vw.case2, (10, 11), True), (vw.case1, (14, 15), True)))
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_default_timeout(15_000)
    log_in(page, url=live_server.url, username=vw.user1.username)
    page.goto(f"{live_server.url}/visits/day/?date={vw.day.isoformat()}")
    stops = page.locator("#stops li")
    assert stops.count() == 2
    assert stops.nth(0).get_attribute("data-visit") == f"case-{vw.case2.pk}"
    assert "10:00" <= stops.nth(0).locator(".t").inner_text().strip() <= "11:00"  # inside the window
    assert page.locator("#route-map polyline.route").count() == 1
    assert page.locator("#route-map g.stop").count() == 2
    box = page.locator("#route-map").bounding_box()
    assert box is not None and 0 < box["width"] <= 390
    page.close()

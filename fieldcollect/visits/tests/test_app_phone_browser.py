"""The collector's phone app end to end, in a real browser on a phone-sized screen against the real
field API and database (issue 19, "Done when"):

1. installed (manifest, service worker), offline: the page reloads from the service worker's cache,
   the collector checks in with a position given in GCJ-02, the visit is recorded (Chromium's fake
   microphone), the report is written with a photo; online again: everything is sent once (an answer
   lost on the way is sent again and recorded once) and the server holds the right visit;
2. the case is recalled while the phone is offline: the refusal is shown, nothing is lost on the phone
   and nothing is written on the server (and logging out offline warns and keeps what was not sent);
3. a debtor flag raised after the permit: the visit is recorded as made under a permit before the flag.

The server's clock is pinned inside the day's contact hours (as in ``test_field_api.py``) and the
phone's clock with it."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import translation

from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import PromiseToPay
from fieldcollect.compliance import services as compliance_services
from fieldcollect.core.models import Role
from fieldcollect.optimisation.coords import wgs84_to_gcj02
from fieldcollect.testing import factories as f
from fieldcollect.testing.browser import BROWSER_TEST
from fieldcollect.testing.clients import logged_in
from fieldcollect.visits import services
from fieldcollect.visits.models import CheckIn, Evidence, FieldAction, VisitReport
from fieldcollect.visits.services import field as field_services
from fieldcollect.visits.tests.app_phone import (
    installed,
    open_app,
    phone,
    record_visit,
    stored,
    wait_queue,
    write_report,
)
from fieldcollect.visits.tests.conftest import at

pytestmark = BROWSER_TEST

PHOTO = (Path(__file__).resolve().parents[2] / "static" / "fieldcollect" / "app" / "icons" / "icon-192.png").read_bytes()
HERE_WGS84 = (31.2401, 121.4901)  # at the door of case1 (31.2400, 121.4900)
ALL_WAITING = [("checkin", "waiting"), ("report", "waiting"), ("audio", "waiting")]


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


class Day:
    """Today: a team of c1 and c2; case1 with a visit confirmed for 10:00–12:00; the plan published
    at 09:00 (its permits issued then). The server's clock then stands at 10:30."""

    def __init__(self, vw, clock: Clock) -> None:
        self.vw, self.clock, self.today = vw, clock, f.today()
        self.team = services.team_create(member_a=vw.c1, member_b=vw.c2, day=self.today, acting_user=vw.manager)
        clock.t = at(self.today, 8, 30)
        appointment, _token = services.appointment_propose(
            case=vw.case1, acting_user=vw.user1, windows=[(at(self.today, 10), at(self.today, 12))], now=clock.t)
        services.appointment_confirm(appointment=appointment, window=0)
        clock.t = at(self.today, 9)
        self.plan = services.route_plan_build(team=self.team, acting_user=vw.manager, time_limit=1.0,
                                              max_iterations=200)
        clock.t = at(self.today, 10, 30)


@pytest.fixture
def day(vw, settings):
    settings.FIELDCOLLECT_REPAY_URL_TEMPLATE = "https://pay.bank.example/repay?ref={case_ref}"
    clock = Clock(at(f.today(), 9))
    with mock.patch("django.utils.timezone.now", clock):
        yield Day(vw, clock)


def _phone(browser, live_server, day, *, lat: float, lon: float):
    page, ctx, errors = phone(browser, url=live_server.url, user=day.vw.user1, lat=lat, lon=lon)
    ctx.clock.set_fixed_time(at(day.today, 10, 5))  # the phone's clock: inside the visit window
    return page, ctx, errors


def _offline_at_the_door(browser, live_server, day):
    """The phone at case1's door with the app installed, then offline."""
    page, ctx, _errors = _phone(browser, live_server, day, lat=HERE_WGS84[0], lon=HERE_WGS84[1])
    open_app(page, live_server.url)
    installed(page)
    ctx.set_offline(True)
    return page, ctx


def _nothing_written() -> None:
    assert not CheckIn.objects.exists() and not VisitReport.objects.exists()
    assert not FieldAction.objects.exists() and not Evidence.objects.exists()


def test_installed_offline_visit_in_gcj02_syncs_once(live_server, day, phone_browser):
    gcj = wgs84_to_gcj02(*HERE_WGS84)
    assert abs(gcj[1] - HERE_WGS84[1]) > 0.004  # hundreds of metres off: more than the geofence
    page, ctx, errors = _phone(phone_browser, live_server, day, lat=gcj[0], lon=gcj[1])
    open_app(page, live_server.url)
    # installable: the manifest is linked and the service worker controls the page
    assert page.locator("link[rel=manifest]").get_attribute("href") == "/app/manifest.webmanifest"
    assert installed(page) == f"{live_server.url}/app/sw.js"
    stop = page.locator(f"#stops li[data-case='{day.vw.case1.pk}']")
    assert stop.count() == 1
    page.select_option("#coord-system", "gcj02")  # this phone reports what Amap reports

    ctx.set_offline(True)
    page.reload()  # from the service worker's cache
    page.wait_for_selector("body[data-ready=yes]")
    assert page.locator("#net-state").get_attribute("data-online") == "no"
    assert page.locator("#offline-note").is_visible()
    page.locator(f"#stops li[data-case='{day.vw.case1.pk}'] button").click()
    assert page.locator("#stop-card .nav-amap").get_attribute("href").startswith("https://")
    page.click("#checkin-btn")
    page.wait_for_selector("#recording-state[data-recording=on]")
    page.locator("#report-form input[name=met][value=debtor]").check()
    # the bank's repayment code, kept on the phone for the day (no cash)
    page.wait_for_function("() => document.getElementById('repay-qr')?.naturalWidth > 0")
    assert page.locator("#repay-link").get_attribute("href").endswith(f"ref={day.vw.case1.loan_id}")
    page.wait_for_timeout(2500)  # the visit goes on: the recording grows
    due = (day.today + timedelta(days=7)).isoformat()
    write_report(page, met="debtor", identity="id_card", outcome="promise", notes="答应下周还",
                 promise_yuan="800", promise_due=due, photo=PHOTO)
    wait_queue(page, [("checkin", "waiting"), ("report", "waiting"), ("promise", "waiting"), ("photo", "waiting"),
                      ("audio", "waiting")])
    _nothing_written()

    # online again; the first answer to the sync is lost on the way (the server applied the actions,
    # the phone never heard back): the phone sends them all again
    real_sync = field_services.field_sync
    lost: list[int] = []

    def answer_lost(**kwargs):
        results = real_sync(**kwargs)
        if not lost:
            lost.append(len(results))
            raise ConnectionResetError("the answer is lost on the way")
        return results

    passes = page.evaluate("Number(document.body.dataset.syncs || 0)")
    with mock.patch.object(field_services, "field_sync", answer_lost):
        ctx.set_offline(False)
        page.wait_for_function("(n) => Number(document.body.dataset.syncs || 0) > n", arg=passes)
    assert lost == [3] and FieldAction.objects.count() == 3  # applied, the phone does not know
    wait_queue(page, [("checkin", "waiting"), ("report", "waiting"), ("promise", "waiting"), ("photo", "waiting"),
                      ("audio", "waiting")])
    page.click("#sync-now")
    wait_queue(page, [("checkin", "sent"), ("report", "sent"), ("promise", "sent"), ("photo", "sent"),
                      ("audio", "sent")])

    checkin = CheckIn.objects.get()
    assert checkin.case_id == day.vw.case1.pk and checkin.collector_id == day.vw.c1.pk
    assert checkin.reported_system == "gcj02" and (checkin.reported_lat, checkin.reported_lon) == gcj
    assert abs(checkin.lat - HERE_WGS84[0]) < 1e-6 and abs(checkin.lon - HERE_WGS84[1]) < 1e-6
    assert checkin.accepted and checkin.distance_m is not None and checkin.distance_m < 50
    assert checkin.permit is not None and checkin.permit.plan_id == day.plan.pk
    assert checkin.at == at(day.today, 10, 5)
    report = VisitReport.objects.get()
    assert report.checkin_id == checkin.pk and report.met == "debtor" and report.identity_check == "id_card"
    assert report.outcome == "promise" and report.notes == "答应下周还"
    assert report.recording  # a recording exists: a fact, not a tick box
    assert report.status == VisitReport.Status.CLOSED  # everything it named has arrived
    evidence = {e.kind: e for e in Evidence.objects.filter(report=report)}
    assert set(evidence) == {"photo", "audio"} and Evidence.objects.count() == 2
    assert evidence["photo"].sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert evidence["audio"].size > 1000
    promise = PromiseToPay.objects.get()
    assert promise.amount_fen == 80_000 and promise.due_on.isoformat() == due and report.promise_id == promise.pk
    assert FieldAction.objects.count() == 3
    # what the phone sent it no longer keeps beyond the item's state
    assert all(q["payload"] is None for q in stored(page, "queue"))
    assert not any(u["has_blob"] for u in stored(page, "uploads"))
    page.click("#sync-now")  # nothing more to send
    page.wait_for_function("() => !document.getElementById('sync-now').disabled")
    assert CheckIn.objects.count() == 1 and VisitReport.objects.count() == 1 and Evidence.objects.count() == 2

    # logging out wipes the day from the phone
    page.click("#logout-form button[type=submit]")
    page.wait_for_url("**/accounts/login/**")
    assert not [r for r in stored(page, "queue") if r["state"] == "sent"]
    assert page.evaluate("caches.has('fc-app-page')") is False
    kept = page.evaluate("""new Promise((ok) => { const r = indexedDB.open('fieldcollect-app');
        r.onsuccess = () => { const g = r.result.transaction('kv').objectStore('kv').get('today');
          g.onsuccess = () => ok(g.result === undefined ? null : 'kept'); }; })""")
    assert kept is None
    assert not [e for e in errors if "Failed to load resource" not in e and "ERR_" not in e], errors


def test_case_recalled_while_offline_is_refused_and_nothing_is_lost(live_server, day, phone_browser):
    page, ctx = _offline_at_the_door(phone_browser, live_server, day)
    stop = f"#stops li[data-case='{day.vw.case1.pk}']"
    record_visit(page, stop=stop, met="nobody", outcome="not_home", notes="敲门无人应答")
    wait_queue(page, ALL_WAITING)

    # logging out with actions not sent: a warning, the actions kept, today's stops wiped
    page.click("#logout-form button[type=submit]")
    page.wait_for_selector("#logout-warning:not([hidden]) #logout-anyway")
    assert page.url.endswith("/app/")
    assert page.locator("#stops li").count() == 0
    assert [q["kind"] for q in stored(page, "queue")] == ["checkin", "report"]

    # meanwhile the bank recalls the case from the agency
    day.clock.t = at(day.today, 10, 15)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case_services.case_recall(case=day.vw.case1, reason="bank recall", acting_user=cm)
    day.clock.t = at(day.today, 10, 30)
    ctx.set_offline(False)
    wait_queue(page, [("checkin", "refused"), ("report", "refused"), ("audio", "refused")])
    reasons = page.locator("#queue li[data-state=refused] .reason")
    assert reasons.count() == 3 and all(reasons.nth(i).inner_text() for i in range(3))
    assert reasons.nth(0).get_attribute("data-code") == "field.case_recalled"
    _nothing_written()

    # nothing is lost on the phone: everything recorded is kept, shown again after a reload
    page.reload()
    page.wait_for_selector("body[data-ready=yes]")
    wait_queue(page, [("checkin", "refused"), ("report", "refused"), ("audio", "refused")])
    queue = stored(page, "queue")
    assert queue[0]["payload"]["coord_system"] == "wgs84" and queue[0]["payload"]["permit"]
    assert queue[1]["payload"]["notes"] == "敲门无人应答" and queue[1]["payload"]["met"] == "nobody"
    [audio] = stored(page, "uploads")
    assert audio["has_blob"] and audio["size"] > 1000
    _nothing_written()
    # until the collector has seen it and dismisses it
    page.locator("#queue li[data-kind=audio] button.dismiss").click()
    wait_queue(page, [("checkin", "refused"), ("report", "refused")])


def test_flag_raised_after_the_permit_records_a_visit_made_before_the_flag(live_server, day, phone_browser):
    page, ctx = _offline_at_the_door(phone_browser, live_server, day)
    stop = f"#stops li[data-case='{day.vw.case1.pk}']"
    record_visit(page, stop=stop, met="debtor", identity="security_questions", outcome="refused")
    wait_queue(page, ALL_WAITING)
    # a complaint pauses contact at 10:10; the phone, offline since before, cannot know
    day.clock.t = at(day.today, 10, 10)
    flag = compliance_services.flag_add(customer=day.vw.case1.customer, flag="complaint", starts_at=day.clock.t,
                                        reason="complaint by phone", acting_user=None)
    day.clock.t = at(day.today, 10, 30)
    ctx.set_offline(False)
    wait_queue(page, [("checkin", "sent"), ("report", "sent"), ("audio", "sent")])
    checkin = CheckIn.objects.get()
    assert [x["flag_id"] for x in checkin.flags_after_permit] == [flag.pk]
    report = VisitReport.objects.get()
    assert report.flags_after_permit[0]["flag"] == "complaint" and report.recording
    # shown in the daily compliance report
    officer = f.make_user(role=Role.COMPLIANCE_OFFICER)
    client = logged_in(officer)
    with translation.override("en"):
        html = client.get(f"/compliance/report/?day={day.today.isoformat()}").content.decode()
    assert 'id="before-flag"' in html and f"#{day.vw.case1.pk}" in html
    # the same visit without the permit would have been refused by the pause (hard negative)
    with pytest.raises(compliance_services.ContactBlockedError):
        services.report_start(case=day.vw.case1, acting_user=day.vw.user1, recording=True, at=at(day.today, 10, 20))


def test_a_new_number_and_address_learnt_at_the_door_reach_skip_tracing(live_server, day, phone_browser):
    from fieldcollect.legal.models import AltContact

    page, ctx = _offline_at_the_door(phone_browser, live_server, day)
    stop = f"#stops li[data-case='{day.vw.case1.pk}']"
    page.click(f"{stop} button")
    page.click("#checkin-btn")
    page.wait_for_selector("#recording-state[data-recording=on]")
    # the address field is offered only for an outcome that says the debtor is not at this address
    write_report(page, met="nobody", outcome="not_home", submit=False)
    assert page.locator("#new-address-row").is_hidden()
    write_report(page, met="nobody", outcome="moved", new_phone="12", new_address="上海市静安区南京西路1号 5楼",
                 submit=False)
    page.click("#end-visit")
    page.wait_for_selector("#report-problem:not([hidden])")  # not a phone number: nothing queued yet
    assert not stored(page, "queue") or [q["kind"] for q in stored(page, "queue")] == ["checkin"]
    page.fill("#report-form input[name=new_phone]", "139-0000-0002")
    page.click("#end-visit")
    page.wait_for_selector("#route")
    ctx.set_offline(False)
    wait_queue(page, [("checkin", "sent"), ("report", "sent"), ("audio", "sent")])
    found = {a.kind: a.value for a in AltContact.objects.filter(case=day.vw.case1, source="visit")}
    assert found["address"] == "上海市静安区南京西路1号 5楼" and found["phone"].replace("-", "").endswith("13900000002")

"""The phone side of sending, in a real browser, against a scripted server (the requests to
``/api/v1/field/*`` answered by the test): evidence uploads resume where the server says it stopped
after a dropped connection, a refusal is shown and kept until dismissed, and the phone's settings
reach the check-in. The end-to-end tests against the real API are in ``test_app_phone_browser.py``."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from playwright.sync_api import Route

from fieldcollect.testing.browser import BROWSER_TEST
from fieldcollect.visits.tests.app_phone import installed, open_app, phone, record_visit, stored, wait_queue

pytestmark = BROWSER_TEST

CHUNK = 256 * 1024
PHOTO = b"\x89PNG\r\n\x1a\n" + os.urandom(2 * CHUNK + 1000)  # three chunks


def _today(case_id: int, wipe_after: str = "2999-01-01T00:00:00+08:00") -> dict[str, Any]:
    return {"date": "2026-12-07", "collector": {"id": 1, "name": "x"}, "plan_id": 1,
            "wipe_after": wipe_after,
            "stops": [{"stop_id": 5, "case_id": case_id, "order": 1, "window_start": None, "window_end": None,
                       "lat": 31.24, "lon": 121.49, "customer": "张*", "address": "上海市浦东新区****",
                       "amount_due_fen": 123456, "dpd": 40, "appointment_id": None,
                       "permit": {"token": "permit-token", "expires_at": "2999-01-01T00:00:00+08:00"},
                       "repay_url": "https://bank.example/repay?ref=L1",
                       "navigate": {"amap": "https://uri.amap.com/marker?position=1,2",
                                    "baidu": "https://api.map.baidu.com/marker?location=2,1",
                                    "apple": "https://maps.apple.com/?ll=2,1"}}]}


class ScriptedServer:
    """Answers the field API the way the contract says, with a connection that drops once."""

    def __init__(self, case_id: int, *, refuse: str | None = None,
                 wipe_after: str = "2999-01-01T00:00:00+08:00") -> None:
        self.case_id = case_id
        self.wipe_after = wipe_after
        self.refuse = refuse
        self.synced: list[dict[str, Any]] = []
        self.received = bytearray()
        self.puts: list[str] = []
        self.drop_next_put_after = 1  # the connection drops on the second chunk
        self.claims_more = False
        self.complete = False

    def __call__(self, route: Route) -> None:
        request = route.request
        path = request.url.split("/api/v1/field", 1)[1]
        if path.startswith("/today"):
            route.fulfill(json=_today(self.case_id, self.wipe_after))
        elif path.startswith("/sync"):
            actions = json.loads(request.post_data or "{}")["actions"]
            self.synced.extend(actions)
            results = []
            for n, a in enumerate(actions):
                if self.refuse and a["kind"] == self.refuse:
                    results.append({"client_id": a["client_id"], "status": "refused", "code": "case.recalled",
                                    "message": "The case was recalled from the agency.", "id": None})
                else:
                    results.append({"client_id": a["client_id"], "status": "applied", "code": None, "message": None,
                                    "id": 100 + n})
            route.fulfill(json={"results": results})
        elif request.method == "POST" and path == "/uploads":
            body = json.loads(request.post_data or "{}")
            if body["kind"] == "photo":
                route.fulfill(json={"upload_id": 7, "received": len(self.received)})
            else:
                route.fulfill(json={"upload_id": 8, "received": 0})
        elif request.method == "PUT" and path == "/uploads/8":  # the audio: accepted at once
            size = int(request.headers["content-range"].rsplit("/", 1)[1])
            route.fulfill(json={"received": size, "complete": True, "evidence_id": 2})
        elif request.method == "PUT" and path == "/uploads/7":
            content_range = request.headers["content-range"]
            self.puts.append(content_range)
            start = int(content_range.split(" ")[1].split("-")[0])
            size = int(content_range.rsplit("/", 1)[1])
            data = request.post_data_buffer or b""
            if start != len(self.received):
                route.fulfill(status=409, json={"error": {"code": "upload.offset", "message": "wrong offset",
                                                          "extra": {"received": len(self.received)}}})
                return
            if len(self.puts) == self.drop_next_put_after + 1:
                # the chunk reached the server, the answer never reached the phone
                self.received += data
                route.abort("connectionreset")
                return
            self.received += data
            self.complete = len(self.received) == size
            route.fulfill(json={"received": len(self.received), "complete": self.complete,
                                "evidence_id": 1 if self.complete else None})
        else:
            route.fulfill(status=404, json={"error": {"code": "not_found", "message": "Not found.", "extra": {}}})


def _visit(page: Any) -> None:
    record_visit(page, recording_ms=1200, met="debtor", identity="id_card", outcome="promise", notes="会在月底还款",
                 promise_yuan="1234.5", promise_due="2026-12-31", photo=PHOTO)


def test_upload_resumes_where_the_server_stopped_after_a_dropped_connection(live_server, vw, phone_browser):
    server = ScriptedServer(vw.case1.pk)
    page, ctx, _errors = phone(phone_browser, url=live_server.url, user=vw.user1, lat=31.2398, lon=121.4942,
                               service_workers="block")
    ctx.route("**/api/v1/field/**", server)
    open_app(page, live_server.url)
    page.select_option("#coord-system", "gcj02")
    _visit(page)
    # the first pass sends the actions, the first chunk, and loses the answer to the second
    # (the files after it wait for the next pass: a dropped connection ends the pass)
    wait_queue(page, [("checkin", "sent"), ("report", "sent"), ("promise", "sent"), ("photo", "waiting"),
                      ("audio", "waiting")])
    photo = next(u for u in stored(page, "uploads") if u["kind"] == "photo")
    assert photo["received"] == CHUNK and photo["upload_id"] == 7 and photo["has_blob"]
    assert len(server.received) == 2 * CHUNK  # the server has more than the phone knows
    page.click("#sync-now")
    wait_queue(page, [("checkin", "sent"), ("report", "sent"), ("promise", "sent"), ("photo", "sent"),
                      ("audio", "sent")])
    # the phone asked from where it knew, was told where the server is, and went on from there
    assert server.puts == [f"bytes 0-{CHUNK - 1}/{len(PHOTO)}", f"bytes {CHUNK}-{2 * CHUNK - 1}/{len(PHOTO)}",
                           f"bytes {CHUNK}-{2 * CHUNK - 1}/{len(PHOTO)}",
                           f"bytes {2 * CHUNK}-{len(PHOTO) - 1}/{len(PHOTO)}"]
    assert bytes(server.received) == PHOTO and server.complete
    photo = next(u for u in stored(page, "uploads") if u["kind"] == "photo")
    assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest() and not photo["has_blob"]
    # the actions went once each, in the order they were made, with the contract's payloads
    kinds = [a["kind"] for a in server.synced]
    assert kinds == ["checkin", "report", "promise"]
    checkin, report, promise = server.synced
    assert checkin["payload"]["coord_system"] == "gcj02" and checkin["payload"]["permit"] == "permit-token"
    assert checkin["payload"]["lat"] == 31.2398 and checkin["payload"]["lon"] == 121.4942
    assert checkin["at"].endswith("+08:00") and checkin["case_id"] == vw.case1.pk
    assert report["payload"]["checkin_client_id"] == checkin["client_id"]
    assert report["payload"]["met"] == "debtor" and report["payload"]["identity_check"] == "id_card"
    assert report["payload"]["outcome"] == "promise" and report["payload"]["notes"] == "会在月底还款"
    # the report names its files: the server closes it once they have all arrived
    uploads = stored(page, "uploads")
    assert report["payload"]["uploads"] == [u["client_id"] for u in uploads] and len(uploads) == 2
    assert {u["report_client_id"] for u in uploads} == {report["client_id"]}
    assert promise["payload"] == {"report_client_id": report["client_id"], "amount_fen": 123450, "due": "2026-12-31"}
    assert len({a["client_id"] for a in server.synced}) == 3


def test_a_refusal_is_shown_and_kept_until_dismissed(live_server, vw, phone_browser):
    server = ScriptedServer(vw.case1.pk, refuse="checkin")
    server.drop_next_put_after = 99
    page, ctx, _errors = phone(phone_browser, url=live_server.url, user=vw.user1, lat=31.24, lon=121.49,
                               service_workers="block")
    ctx.route("**/api/v1/field/**", server)
    open_app(page, live_server.url)
    _visit(page)
    wait_queue(page, [("checkin", "refused"), ("report", "sent"), ("promise", "sent"), ("photo", "sent"),
                      ("audio", "sent")])
    refused = page.locator("#queue li[data-state=refused]")
    assert "recalled" in refused.locator(".reason").inner_text()
    assert refused.locator(".reason").get_attribute("data-code") == "case.recalled"
    page.reload()
    page.wait_for_selector("body[data-ready=yes]")
    wait_queue(page, [("checkin", "refused"), ("report", "sent"), ("promise", "sent"), ("photo", "sent"),
                      ("audio", "sent")])
    kept = [q for q in stored(page, "queue") if q["state"] == "refused"]
    assert len(kept) == 1 and kept[0]["payload"]["permit"] == "permit-token"  # what was recorded is all there
    assert len(server.synced) == 3  # nothing is sent again
    page.locator("#queue li[data-state=refused] button.dismiss").click()
    wait_queue(page, [("report", "sent"), ("promise", "sent"), ("photo", "sent"), ("audio", "sent")])
    # a third party is never asked about paying: no promise, no payment outcome, no repayment code
    page.click("#stops li button")
    page.click("#checkin-btn")
    page.locator("#report-form input[name=met][value=third_party]").check()
    assert page.locator("#promise-fields").is_hidden() and page.locator("#repay").is_hidden()
    assert page.locator("#identity-row").is_hidden() and page.locator("#third-party-note").is_visible()
    options = page.locator("#report-form select[name=outcome] option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["", "not_home", "moved", "wrong_address", "third_party_met"]
    page.locator("#report-form input[name=met][value=debtor]").check()
    assert page.locator("#promise-fields").is_visible() and page.locator("#repay").is_visible()
    assert page.locator("#identity-row").is_visible()


def _kept_today(page: Any) -> bool:
    return bool(page.evaluate("""() => new Promise((ok) => { const r = indexedDB.open('fieldcollect-app');
        r.onsuccess = () => { const g = r.result.transaction('kv').objectStore('kv').get('today');
          g.onsuccess = () => { r.result.close(); ok(g.result !== undefined); }; }; })"""))


def test_the_day_is_wiped_from_the_phone_at_its_end_but_not_what_was_not_sent(live_server, vw, phone_browser):
    server = ScriptedServer(vw.case1.pk, refuse="checkin")
    page, ctx, _errors = phone(phone_browser, url=live_server.url, user=vw.user1, lat=31.24, lon=121.49,
                               service_workers="block")
    ctx.route("**/api/v1/field/**", server)
    open_app(page, live_server.url)
    assert _kept_today(page) and page.locator("#stops li").count() == 1
    ctx.set_offline(True)
    page.click("#stops li button")
    page.click("#checkin-btn")
    page.wait_for_selector("#visit")
    # the day is over (wipe_after passed): the next look at today's stops wipes them
    server.wipe_after = "2000-01-01T00:00:00+08:00"
    ctx.set_offline(False)
    page.wait_for_function("() => !document.getElementById('app-notice').hidden")
    assert page.locator("#app-notice").inner_text() == "The day is over: today's stops were wiped from this phone."
    assert not _kept_today(page)
    # what the server refused stays until the collector has seen it (what was sent is gone with the day)
    assert [(q["kind"], q["state"]) for q in stored(page, "queue")] == [("checkin", "refused")]
    # the report being written stays, without the customer's details
    assert page.locator("#visit #report-form").is_visible() and page.locator("#visit .facts").count() == 0


def test_logged_out_elsewhere_the_app_forgets_the_day_when_opened(live_server, vw, phone_browser):
    page, _ctx, _errors = phone(phone_browser, url=live_server.url, user=vw.user1, lat=31.24, lon=121.49)
    open_app(page, live_server.url)
    installed(page)
    assert _kept_today(page) and page.evaluate("() => caches.has('fc-app-page')")
    page.goto(f"{live_server.url}/visits/day/")  # a page of the site, not the app: its own logout form
    page.click("header form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url("**/accounts/login/**")
    assert _kept_today(page)  # that page knows nothing of the app
    page.goto(f"{live_server.url}/app/")  # the service worker sees the log-in page come back
    page.wait_for_url("**/accounts/login/**")
    for _ in range(50):
        if not _kept_today(page) and not page.evaluate("() => caches.has('fc-app-page')"):
            break
        page.wait_for_timeout(100)
    assert not _kept_today(page) and not page.evaluate("() => caches.has('fc-app-page')")
